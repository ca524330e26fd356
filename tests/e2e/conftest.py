"""End-to-end fixtures: the real service on a local port, and Debian's headless Chromium.

The service runs as in production (Alembic-migrated SQLite file, real Redis, werkzeug's
threaded server) with the outbox dispatched inline. Playwright drives `/usr/bin/chromium`:
its own browser download is not used. Without Chromium the tests skip, saying so.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.integration.conftest import redis_url  # noqa: F401 - the session's embedded Redis

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]

# username, role, department, display name
PEOPLE = [
    ("mary", "marketing_staff", "marketing", "Mary 王"),
    ("mike", "marketing_manager", "marketing", "Mike 李"),
    ("tom", "technical", "technical", "Tom 张"),
    ("sara", "supervision", "supervision", "Sara 赵"),
]


@dataclass
class LiveServer:
    app: Flask
    url: str


def _seed(app: Flask) -> None:
    from service.store.db import db
    from service.store.models import Customer, Department
    from service.usecases.accounts import create_user, ensure_department

    with app.app_context():
        for code, name in (
            ("marketing", "市场部"),
            ("technical", "技术部"),
            ("supervision", "监督小组"),
        ):
            ensure_department(code, name)
        db.session.commit()
        for username, role, department, display in PEOPLE:
            create_user(username, role, department, f"pw-{username}", display)
        db.session.get(Department, "marketing").manager = "mike"
        db.session.get(Department, "technical").manager = "tom"
        db.session.add(Customer(name="华东电网 East Grid", tier="core", criteria=["major_revenue"]))
        db.session.commit()


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory,
    redis_url: str,  # noqa: F811
) -> Iterator[LiveServer]:
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from service import create_app
    from service.store.db import db

    folder = tmp_path_factory.mktemp("e2e")
    config: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'visitflow.db'}",
        "REDIS_URL": redis_url,
        "OUTBOX_DISPATCH": "inline",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast, for tests only
        "MAILBOX_PATH": str(folder / "mail.mbox"),
        "SECRET_KEY": "e2e-secret",
    }
    app = create_app(config)
    with app.app_context():
        upgrade()
    _seed(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless Chromium with a fresh temporary profile (Playwright's `launch`)."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"the end-to-end test needs Debian's chromium at {CHROMIUM} "
            "(`make test` installs it where it runs as root: apt-get install chromium)"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: `E2E_SCREENSHOTS` (the README's come from
    `E2E_SCREENSHOTS=docs/screenshots`), else a temporary folder."""
    target = os.environ.get("E2E_SCREENSHOTS")
    folder = (ROOT / target) if target else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
