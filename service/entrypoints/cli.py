"""`flask --app service ...` commands: departments, users, integrations, demo data."""

from __future__ import annotations

from typing import Any

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from service.core.errors import DomainError
from service.store.db import db
from service.store.models import User
from service.usecases.accounts import create_department, create_user
from workflows.spec import ROLES

departments = AppGroup("departments", help="Manage departments.")
users = AppGroup("users", help="Manage users.")
integrations = AppGroup("integrations", help="Manage webhook integrations.")
calendar = AppGroup("calendar", help="China's official holidays (the business calendar).")


@departments.command("create")
@click.argument("code")
@click.option("--name", required=True, help="The department's name.")
@click.option("--manager", default=None, help="The manager's username.")
def departments_create(code: str, name: str, manager: str | None) -> None:
    """Create a department with CODE."""
    if manager and not db.session.execute(sa.select(User).where(User.username == manager)).first():
        raise click.ClickException(f"no user {manager!r}")
    try:
        create_department(code, name, manager)
    except DomainError as err:
        raise click.ClickException(_problem(err)) from err
    click.echo(f"created department {code}")


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(sorted(ROLES)))
@click.option("--department", default=None, help="Department code (created if unknown).")
@click.option("--password", required=True, help="The user's password.")
def users_create(username: str, role: str, department: str | None, password: str) -> None:
    """Create a user USERNAME with a role, a department and a password."""
    try:
        create_user(username, role, department, password)
    except DomainError as err:
        raise click.ClickException(_problem(err)) from err
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
    from service.usecases import integrations as accounts

    mappings = dict(m.partition("=")[::2] for m in maps)
    try:
        accounts.check_name(name)
        checked = accounts.check_grants(list(grants))
        described, secret = accounts.create(
            name, checked, accounts.check_mappings(mappings, checked)
        )
    except DomainError as err:
        raise click.ClickException(_problem(err)) from None
    click.echo(f"created integration {name} (grants: {', '.join(described['grants'])})")
    click.echo(secret)


@integrations.command("rotate")
@click.argument("name")
def integrations_rotate(name: str) -> None:
    """A new secret for NAME, printed on the last line; the old one stays valid for
    WEBHOOK_SECRET_OVERLAP_HOURS (default 24)."""
    from service.usecases import integrations as accounts

    try:
        described, secret = accounts.rotate(name)
    except DomainError as err:
        raise click.ClickException(_problem(err)) from None
    click.echo(
        f"rotated; the previous secret is valid until {described['previous_secret_valid_until']}"
    )
    click.echo(secret)


@integrations.command("list")
def integrations_list() -> None:
    """Every integration: name, active or not, grants."""
    from service.usecases import integrations as accounts

    items, _ = accounts.listing(1, 10_000)
    for item in items:
        state = "active" if item["active"] else "inactive"
        click.echo(f"{item['name']}\t{state}\t{' '.join(item['grants'])}")


@integrations.command("reencrypt")
def integrations_reencrypt() -> None:
    """Encrypt every webhook secret again under SECRET_KEY (after rotating SECRET_KEY, with
    the old key in SECRET_KEY_FALLBACKS)."""
    from service.store import repository as repo
    from service.store.models import Integration, Subscription
    from service.usecases import integrations as accounts

    with repo.writing() as conn:
        done = accounts.reencrypt_all(conn, [Integration.__table__, Subscription.__table__])
    click.echo(f"re-encrypted the secrets of {done} integrations and subscriptions")


@calendar.command("load")
@click.argument("notice", type=click.File("r", encoding="utf-8"))
@click.option("--year", type=int, default=None, help="The year, if the text does not say it.")
@click.option("--dry-run", is_flag=True, help="Show what the notice gives; store nothing.")
@click.option("--by", "loaded_by", default="cli", help="Who loads it (recorded).")
def calendar_load(notice: Any, year: int | None, dry_run: bool, loaded_by: str) -> None:
    """Load a year's official holidays from the State Council's notice in the file NOTICE
    (- for standard input), replacing any loaded before; every process follows it."""
    from service.usecases import official_calendar

    try:
        loaded = official_calendar.load(notice.read(), loaded_by, "admin", year, dry_run)
    except DomainError as err:
        raise click.ClickException(_problem(err)) from None
    for span in loaded["holidays"]:
        click.echo(f"{span['name']}\t{span['from']} .. {span['to']}\t{span['days']} days off")
    for day in loaded["workdays"]:
        click.echo(f"make-up working day\t{day}")
    verb = "would load" if dry_run else "loaded"
    click.echo(f"{verb} {loaded['year']}: {len(loaded['holidays'])} holidays, "
               f"{len(loaded['workdays'])} make-up working days")  # fmt: skip


@calendar.command("show")
@click.argument("year", type=int)
def calendar_show(year: int) -> None:
    """Where YEAR's days off come from (official, builtin or weekdays) and its holidays."""
    from service.usecases import official_calendar

    official_calendar.sync()
    status = official_calendar.status(year)
    click.echo(f"{year}: {status['source']}{' (loaded)' if status['loaded'] else ''}")
    click.echo(status["message"])
    for span in status["holidays"]:
        mark = " (estimated)" if span["estimated"] else ""
        click.echo(f"{span['name']}\t{span['from']} .. {span['to']}{mark}")


def _problem(err: DomainError) -> str:
    details = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in err.errors.items())
    return f"{err.message}: {details}" if details else err.message


def register(app: Flask) -> None:
    app.cli.add_command(departments)
    app.cli.add_command(users)
    app.cli.add_command(integrations)
    app.cli.add_command(calendar)
    from service.entrypoints import demo

    app.cli.add_command(demo.seed_command)
