"""Signing in to the pages: a username and password, then a Flask-Login session.

Flask-Login keeps the signed-in user's id in Flask's signed session cookie and loads the
user afresh on every request (`load_user`): a user deactivated since is signed out. The API
and the webhooks never use it: they authenticate every request by a token or a signature.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TypeVar, cast

import flask_login
import sqlalchemy as sa
from flask import session
from flask_login import LoginManager, current_user
from werkzeug.security import check_password_hash, generate_password_hash

from service.store.db import db
from service.store.models import User
from service.usecases.accounts import actor_for_user
from workflows import Actor

F = TypeVar("F", bound=Callable[..., Any])
_DUMMY_HASH = generate_password_hash(secrets.token_hex(8))
_users = User.__table__
_KEPT = ("lang",)  # what a session keeps across signing in and out: the chosen language

login_manager = LoginManager()
login_manager.login_view = "web.login"  # anonymous users go there, with `next` the page asked
login_manager.login_message = ""  # no flashed message: the sign-in page says enough
login_manager.session_protection = "basic"  # another address or browser: no longer fresh


class WebUser:
    """A signed-in person as Flask-Login sees one (its user protocol): the id is the username.
    Only active users are loaded, so every WebUser is active."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def get_id(self) -> str:
        return self.actor.username


@login_manager.user_loader
def load_user(username: str) -> WebUser | None:
    """The active user of that name, else None, and the stale id leaves the session."""
    row = db.session.execute(
        sa.select(_users.c.username, _users.c.role, _users.c.department).where(
            _users.c.username == username, _users.c.active
        )
    ).first()
    if row is None:
        session.pop("_user_id", None)
        return None
    return WebUser(actor_for_user(row))


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
    return actor_for_user(row)


def _fresh_session() -> None:
    """Nothing from before is carried over but the chosen language."""
    kept = {key: session[key] for key in _KEPT if session.get(key)}
    session.clear()
    session.update(kept)


def sign_in(actor: Actor) -> None:
    _fresh_session()
    flask_login.login_user(WebUser(actor))


def sign_out() -> None:
    flask_login.logout_user()
    _fresh_session()


def load_actor() -> Actor | None:
    """The signed-in user as an actor, or None for an anonymous visitor."""
    user = current_user._get_current_object()
    return user.actor if isinstance(user, WebUser) else None


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
    """Flask-Login's: an anonymous visitor is sent to the sign-in page with `next`."""
    return cast(F, flask_login.login_required(view))
