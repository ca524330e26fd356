"""Integration fixtures: the real app on a real SQLite file (and PostgreSQL where it exists),
a real embedded Redis, controlled time, and users with tokens."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from service import create_app
from service.core import runtime
from service.store.db import db
from tests.support import servers


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with servers.embedded_redis() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if servers.pg_ctl() is None:
        pytest.skip("PostgreSQL tests need pg_ctl on the machine (CI has it); not found here")
    with servers.throwaway_postgres() as url:
        yield url


def _migrate(url: str, redis_url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Path:
    """The schema built once by the Alembic migrations; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite:///{path}", redis_url)
    return path


@pytest.fixture(scope="session")
def postgres_migrated(postgres_url: str, redis_url: str) -> str:
    _migrate(postgres_url, redis_url)
    return postgres_url


class Clock:
    """Controlled time: starts at a fixed working Monday morning, moves only when told."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _make_app(
    url: str, redis_url: str, clock: Clock, extra: dict[str, Any], mailbox: Path
) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": redis_url,
            "AUTH_CACHE_SECONDS": 0,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast, for tests only
            "OUTBOX_DISPATCH": "inline",  # hand the outbox to RQ before the response
            "MAILBOX_PATH": str(mailbox),
            **extra,
        }
    )
    runtime.set_clock(app, clock)
    return app


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(
    sqlite_template: Path,
    tmp_path: Path,
    redis_url: str,
    clock: Clock,
    app_config: dict[str, Any],
) -> Iterator[Flask]:
    path = tmp_path / "visitflow.db"
    shutil.copy(sqlite_template, path)
    app = _make_app(f"sqlite:///{path}", redis_url, clock, app_config, tmp_path / "mail.mbox")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(
    request: pytest.FixtureRequest,
    clock: Clock,
    redis_url: str,
    app_config: dict[str, Any],
    tmp_path: Path,
) -> Iterator[Flask]:
    """The app on SQLite, then on PostgreSQL (skipped with a reason where there is none)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("app")
        return
    url = request.getfixturevalue("postgres_migrated")
    app = _make_app(url, redis_url, clock, app_config, tmp_path / "mail.mbox")
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    yield app
    with app.app_context():
        db.engine.dispose()


@dataclass
class World:
    """The app with its reference data: departments, users of every role, customers."""

    app: Flask
    client: FlaskClient
    tokens: dict[str, str] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def get(self, path: str, user: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.auth(user), **kw)

    def post(self, path: str, user: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(path, headers=self.auth(user), json=json, **kw)

    def count(self, table: str) -> int:
        with self.app.app_context():
            return int(db.session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() or 0)

    def counts(self) -> dict[str, int]:
        """Rows of every table a refused request must leave alone."""
        names = (
            "visits",
            "issues",
            "rectification_notices",
            "transition_events",
            "deadlines",
            "outbox",
            "visit_visitors",
            "customers",
        )
        return {n: self.count(n) for n in names}


USERS = [
    # username, role, department
    ("mary", "marketing_staff", "marketing"),
    ("mike", "marketing_manager", "marketing"),
    ("tom", "technical", "technical"),
    ("ted", "technical", "technical"),
    ("amy", "after_sales", "after_sales"),
    ("boss", "management", "management"),
    ("sara", "supervision", "supervision"),
    ("crm", "integration", "it"),
    ("admin", "admin", "it"),
]


def build_world(app: Flask) -> World:
    from service.store.models import ApiToken, Customer, Department, User
    from service.usecases.accounts import create_user, ensure_department, hash_token

    world = World(app, app.test_client())
    with app.app_context():
        for code in ("marketing", "technical", "after_sales", "management", "supervision", "it"):
            ensure_department(code, code.title())
        db.session.commit()
        for username, role, dept in USERS:
            user = create_user(username, role, dept, "pw-" + username)
            token = f"token-{username}"
            db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
            world.tokens[username] = token
        for code, manager in (("marketing", "mike"), ("technical", "tom")):
            db.session.get(Department, code).manager = manager
        for name, tier in (("Acme", "core"), ("Globex", "important"), ("Initech", "general")):
            customer = Customer(name=name, tier=tier, criteria=["major_revenue"])
            db.session.add(customer)
            db.session.flush()
            world.customers[name] = customer.id
        db.session.commit()
        assert db.session.execute(sa.select(sa.func.count()).select_from(User)).scalar() == 9
    return world


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(app)


@pytest.fixture
def any_world(any_app: Flask) -> World:
    return build_world(any_app)


# -- helpers to drive workflows ----------------------------------------------------------
def visit_payload(world: World, **over: Any) -> dict[str, Any]:
    payload = {
        "customer_id": world.customers["Acme"],
        "planned_at": "2026-11-10T10:00:00+08:00",
        "visitors": ["mary", "tom"],
        "topics": ["business_cooperation", "needs_research"],
        "place": "Acme HQ",
        "purpose": "yearly visit",
    }
    payload.update(over)
    return payload


# The visit took place as the clock starts (it only moves forward): an actual time is never
# in the future (`not_after: now`).
TRANSITION_DATA: dict[str, dict[str, Any]] = {
    "prepare": {"customer_background_reviewed": True, "time_place_confirmed": True},
    "visit": {"visited_at": "2026-11-02T09:00:00+08:00"},
    "record": {
        "visited_at": "2026-11-02T09:00:00+08:00",
        "place": "Acme HQ",
        "visitors": ["mary", "tom"],
        "customer_basics": "growing",
        "visit_content": "talked",
    },
    "report": {
        "customer_basics": "a",
        "content_summary": "b",
        "issues_and_suggestions": "c",
        "analysis_and_conclusions": "d",
        "improvement_measures": "e",
    },
    "check_out": {
        "check_out": {
            "latitude": 31.23,
            "longitude": 121.47,
            "accuracy": 12.5,
            "device_time": "2026-11-02T09:30:00+08:00",
        }
    },
    "rework": {"reason": "incomplete"},
    "cancel": {"reason": "customer busy"},
    "reschedule": {"planned_at": "2026-11-20T10:00:00+08:00", "reason": "customer asked"},
    "assign": {
        "responsible_department": "technical",
        "responsible_person": "tom",
        "due_at": "2026-11-20",
    },
    "resolve": {"root_cause": "x", "solution": "y", "customer_informed": True},
    "confirm": {"satisfaction": 4, "comment": "ok"},
    "reopen": {"reason": "not fixed"},
    "answer_on_the_spot": {"answer": "done"},
    "acknowledge": {"plan": "we will fix it"},
    "rectify": {"report": "fixed"},
    "verify": {"opinion": "good"},
    "return": {"reason": "not enough"},
}


def create_visit(world: World, user: str = "mary", **over: Any) -> dict[str, Any]:
    r = world.post("/api/v1/visits", user, visit_payload(world, **over))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def fire(
    world: World,
    path: str,
    instance: dict[str, Any],
    trigger: str,
    user: str,
    data: dict[str, Any] | None = None,
    **extra: Any,
) -> Any:
    body = {
        "trigger": trigger,
        "data": TRANSITION_DATA.get(trigger, {}) if data is None else data,
        **extra,
    }
    return world.post(f"/api/v1/{path}/{instance['id']}/transitions", user, body)


def advance(
    world: World, path: str, instance: dict[str, Any], triggers: list[str], user: str
) -> dict[str, Any]:
    for trigger in triggers:
        r = fire(world, path, instance, trigger, user)
        assert r.status_code == 200, (trigger, r.get_json())
        instance = r.get_json()
    return instance


Factory = Callable[..., dict[str, Any]]
