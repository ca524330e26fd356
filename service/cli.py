"""`flask --app service ...` commands: departments, users, demo data."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from service.auth import hash_password
from service.extensions import db
from service.models import Department, User
from workflows.spec import ROLES

departments = AppGroup("departments", help="Manage departments.")
users = AppGroup("users", help="Manage users.")


def ensure_department(code: str, name: str | None = None) -> Department:
    department = db.session.get(Department, code)
    if department is None:
        department = Department(code=code, name=name or code)
        db.session.add(department)
        db.session.flush()
    return department


def create_department(code: str, name: str, manager: str | None = None) -> Department:
    if db.session.get(Department, code) is not None:
        raise click.ClickException(f"department {code!r} exists already")
    department = Department(code=code, name=name, manager=manager)
    db.session.add(department)
    db.session.commit()
    return department


def create_user(
    username: str, role: str, department: str | None, password: str, display_name: str | None = None
) -> User:
    if role not in ROLES:
        raise click.ClickException(f"unknown role {role!r}: one of {', '.join(sorted(ROLES))}")
    if db.session.execute(sa.select(User).where(User.username == username)).first():
        raise click.ClickException(f"user {username!r} exists already")
    if department:
        ensure_department(department)
    user = User(
        username=username,
        role=role,
        department=department,
        password_hash=hash_password(password),
        display_name=display_name,
    )
    db.session.add(user)
    db.session.commit()
    return user


@departments.command("create")
@click.argument("code")
@click.option("--name", required=True, help="The department's name.")
@click.option("--manager", default=None, help="The manager's username.")
def departments_create(code: str, name: str, manager: str | None) -> None:
    """Create a department with CODE."""
    if manager and not db.session.execute(sa.select(User).where(User.username == manager)).first():
        raise click.ClickException(f"no user {manager!r}")
    create_department(code, name, manager)
    click.echo(f"created department {code}")


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(sorted(ROLES)))
@click.option("--department", default=None, help="Department code (created if unknown).")
@click.option("--password", required=True, help="The user's password.")
def users_create(username: str, role: str, department: str | None, password: str) -> None:
    """Create a user USERNAME with a role, a department and a password."""
    create_user(username, role, department, password)
    click.echo(f"created user {username} ({role}, {department or 'no department'})")


def register(app: Flask) -> None:
    app.cli.add_command(departments)
    app.cli.add_command(users)
    from service import demo

    app.cli.add_command(demo.seed_command)
