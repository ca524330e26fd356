"""`flask --app service ...` commands: departments, users, integrations, demo data."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from service.auth import hash_password
from service.errors import ApiError
from service.extensions import db
from service.models import Department, User
from workflows.spec import ROLES

departments = AppGroup("departments", help="Manage departments.")
users = AppGroup("users", help="Manage users.")
integrations = AppGroup("integrations", help="Manage webhook integrations.")


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


@integrations.command("create")
@click.argument("name")
@click.option(
    "--grant",
    "grants",
    multiple=True,
    required=True,
    metavar="WORKFLOW:TRIGGER",
    help="A trigger it may fire (repeat the option for more).",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="EVENT_TYPE=TRIGGER",
    help="An external event type that fires a trigger (repeat for more).",
)
def integrations_create(name: str, grants: tuple[str, ...], maps: tuple[str, ...]) -> None:
    """Create an integration NAME; print its secret on the last line."""
    from service.webhooks import integrations as accounts

    mappings = dict(m.partition("=")[::2] for m in maps)
    try:
        accounts.check_name(name)
        checked = accounts.check_grants(list(grants))
        described, secret = accounts.create(
            name, checked, accounts.check_mappings(mappings, checked)
        )
    except ApiError as err:
        raise click.ClickException(_problem(err)) from None
    click.echo(f"created integration {name} (grants: {', '.join(described['grants'])})")
    click.echo(secret)


@integrations.command("rotate")
@click.argument("name")
def integrations_rotate(name: str) -> None:
    """A new secret for NAME, printed on the last line; the old one stays valid for
    WEBHOOK_SECRET_OVERLAP_HOURS (default 24)."""
    from service.webhooks import integrations as accounts

    try:
        described, secret = accounts.rotate(name)
    except ApiError as err:
        raise click.ClickException(_problem(err)) from None
    click.echo(
        f"rotated; the previous secret is valid until {described['previous_secret_valid_until']}"
    )
    click.echo(secret)


@integrations.command("list")
def integrations_list() -> None:
    """Every integration: name, active or not, grants."""
    from service.webhooks import integrations as accounts

    items, _ = accounts.listing(1, 10_000)
    for item in items:
        state = "active" if item["active"] else "inactive"
        click.echo(f"{item['name']}\t{state}\t{' '.join(item['grants'])}")


@integrations.command("reencrypt")
def integrations_reencrypt() -> None:
    """Encrypt every webhook secret again under SECRET_KEY (after rotating SECRET_KEY, with
    the old key in SECRET_KEY_FALLBACKS)."""
    from service import repository as repo
    from service.models import Integration, Subscription
    from service.webhooks import integrations as accounts

    with repo.writing() as conn:
        done = accounts.reencrypt_all(conn, [Integration.__table__, Subscription.__table__])
    click.echo(f"re-encrypted the secrets of {done} integrations and subscriptions")


def _problem(err: ApiError) -> str:
    details = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in err.errors.items())
    return f"{err.message}: {details}" if details else err.message


def register(app: Flask) -> None:
    app.cli.add_command(departments)
    app.cli.add_command(users)
    app.cli.add_command(integrations)
    from service import demo

    app.cli.add_command(demo.seed_command)
