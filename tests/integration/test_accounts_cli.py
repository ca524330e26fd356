"""`flask users create` and `flask departments create`: the accounts use case behind the CLI
refuses a taken name or an unknown role with a message and writes nothing."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from service.store.db import db


def _count(app: Flask, table: str) -> int:
    with app.app_context():
        return int(db.session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_user_is_created_once(app: Flask) -> None:
    cli = app.test_cli_runner()
    args = ["users", "create", "lee", "--role", "technical", "--department", "tech"]
    first = cli.invoke(args=[*args, "--password", "secret"])
    assert first.exit_code == 0, first.output
    users = _count(app, "users")
    again = cli.invoke(args=[*args, "--password", "other"])
    assert again.exit_code == 1
    assert "user 'lee' exists already" in again.output
    assert _count(app, "users") == users


def test_a_taken_department_code_is_refused(app: Flask) -> None:
    cli = app.test_cli_runner()
    assert cli.invoke(args=["departments", "create", "ops", "--name", "Ops"]).exit_code == 0
    again = cli.invoke(args=["departments", "create", "ops", "--name", "Other"])
    assert again.exit_code == 1
    assert "department 'ops' exists already" in again.output
    assert _count(app, "departments") == 1
