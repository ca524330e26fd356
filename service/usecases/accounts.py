"""Accounts: departments, users, their passwords and API tokens (stored as SHA-256 hashes).

The CLI, the demo data and the API's token endpoint call these; none of them needs a request.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from service.core import context
from service.core.errors import Conflict, InvalidRequest, Unauthorized
from service.store.db import db
from service.store.models import ApiToken, Department, User
from workflows import Actor
from workflows.spec import ROLES


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    # Tests set a cheap method; real deployments keep werkzeug's default (scrypt).
    bound = context.current_or_none()
    method = bound.config.get("PASSWORD_HASH_METHOD") if bound else None
    return (
        generate_password_hash(password, method=method)
        if method
        else generate_password_hash(password)
    )


def issue_token(username: str, password: str) -> str:
    user = db.session.execute(
        sa.select(User).where(User.username == username, User.active)
    ).scalar_one_or_none()
    # Check a hash even for an unknown user, so that timing does not tell who exists.
    stored = user.password_hash if user else _DUMMY_HASH
    if not check_password_hash(stored, password) or user is None:
        raise Unauthorized("unknown username or wrong password")
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
    db.session.commit()
    return token


def actor_for_user(user: User | Any) -> Actor:
    return Actor(username=user.username, role=user.role, department=user.department)


def ensure_department(code: str, name: str | None = None) -> Department:
    department = db.session.get(Department, code)
    if department is None:
        department = Department(code=code, name=name or code)
        db.session.add(department)
        db.session.flush()
    return department


def create_department(code: str, name: str, manager: str | None = None) -> Department:
    if db.session.get(Department, code) is not None:
        raise Conflict(f"department {code!r} exists already")
    department = Department(code=code, name=name, manager=manager)
    db.session.add(department)
    db.session.commit()
    return department


def create_user(
    username: str, role: str, department: str | None, password: str, display_name: str | None = None
) -> User:
    if role not in ROLES:
        raise InvalidRequest(f"unknown role {role!r}: one of {', '.join(sorted(ROLES))}")
    if db.session.execute(sa.select(User).where(User.username == username)).first():
        raise Conflict(f"user {username!r} exists already")
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


_DUMMY_HASH = generate_password_hash(secrets.token_hex(8))
