"""Signing in to the pages: a username and password, then Flask's signed session cookie."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import g, redirect, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from service.store.db import db
from service.store.models import User
from workflows import Actor

F = TypeVar("F", bound=Callable[..., Any])
_DUMMY_HASH = generate_password_hash(secrets.token_hex(8))
_users = User.__table__


def check_login(username: str, password: str) -> Actor | None:
    """The actor for a correct username and password of an active user, else None."""
    row = db.session.execute(
        sa.select(
            _users.c.username, _users.c.role, _users.c.department, _users.c.password_hash
        ).where(_users.c.username == username, _users.c.active)
    ).first()
    # Check a hash even for an unknown user, so that timing does not tell who exists.
    ok = check_password_hash(row.password_hash if row else _DUMMY_HASH, password)
    if not ok or row is None:
        return None
    return Actor(username=row.username, role=row.role, department=row.department)


def sign_in(actor: Actor) -> None:
    lang = session.get("lang")
    session.clear()  # a fresh session: nothing from before signing in is carried over
    session["user"] = actor.username
    if lang:
        session["lang"] = lang


def sign_out() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def load_actor() -> Actor | None:
    """The signed-in user as an actor, read afresh: a deactivated user is signed out."""
    if "web_actor" in g:
        return cast(Actor | None, g.web_actor)
    username = session.get("user")
    actor = None
    if username:
        row = db.session.execute(
            sa.select(_users.c.username, _users.c.role, _users.c.department).where(
                _users.c.username == username, _users.c.active
            )
        ).first()
        if row is None:
            session.pop("user", None)
        else:
            actor = Actor(username=row.username, role=row.role, department=row.department)
    g.web_actor = actor
    return actor


def web_actor() -> Actor:
    actor = load_actor()
    assert actor is not None, "login_required views only"
    return actor


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative `//`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def login_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if load_actor() is None:
            return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapped)
