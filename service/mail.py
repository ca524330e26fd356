"""Email: over SMTP when MAIL_SERVER is set, otherwise into a local mailbox file."""

from __future__ import annotations

import mailbox
import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import Flask


def build(app: Flask, to: list[str], subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = app.config["MAIL_FROM"]
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    return message


def deliver(app: Flask, message: EmailMessage) -> None:
    server: Any = app.config.get("MAIL_SERVER")
    if not server:
        path = Path(app.config["MAILBOX_PATH"])
        path.parent.mkdir(parents=True, exist_ok=True)
        box = mailbox.mbox(str(path))
        box.lock()
        try:
            box.add(message)
            box.flush()
        finally:
            box.unlock()
            box.close()
        return
    with smtplib.SMTP(server, app.config["MAIL_PORT"], timeout=30) as smtp:
        if app.config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if app.config.get("MAIL_USERNAME"):
            smtp.login(app.config["MAIL_USERNAME"], app.config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
