"""Email: over SMTP when MAIL_SERVER is set, otherwise into a local mailbox file."""

from __future__ import annotations

import fcntl
import io
import smtplib
import time
from email.generator import BytesGenerator
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


def append_to_mbox(path: Path, message: EmailMessage) -> None:
    """Append in mbox format under an flock, which the kernel releases if the process dies
    (a dot-lock file would stay behind); nothing is re-read, however big the file grows."""
    buffer = io.BytesIO()
    stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime())
    buffer.write(f"From visitflow@localhost {stamp}\n".encode())
    BytesGenerator(buffer, mangle_from_=True).flatten(message)  # quotes body lines "From "
    buffer.write(b"\n\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as box:
        fcntl.flock(box, fcntl.LOCK_EX)
        try:
            box.write(buffer.getvalue())
            box.flush()
        finally:
            fcntl.flock(box, fcntl.LOCK_UN)


def deliver(app: Flask, message: EmailMessage) -> None:
    server: Any = app.config.get("MAIL_SERVER")
    if not server:
        append_to_mbox(Path(app.config["MAILBOX_PATH"]), message)
        return
    with smtplib.SMTP(server, app.config["MAIL_PORT"], timeout=30) as smtp:
        if app.config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if app.config.get("MAIL_USERNAME"):
            smtp.login(app.config["MAIL_USERNAME"], app.config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
