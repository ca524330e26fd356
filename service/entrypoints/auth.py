"""Bearer tokens for the API: issued for a username and password, stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context, request
from werkzeug.security import check_password_hash, generate_password_hash

from service.core.errors import Unauthorized
from service.store.db import db
from service.store.models import ApiToken, User
from workflows import Actor

# A token lookup is one query; a short per-process cache keeps it off the hot path.
# Revoking a token or deactivating a user takes effect within AUTH_CACHE_SECONDS.
_cache: dict[str, tuple[float, Actor]] = {}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    # Tests set a cheap method; real deployments keep werkzeug's default (scrypt).
    method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
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


def authenticate() -> Actor:
    """The actor of the request's bearer token, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token: send Authorization: Bearer TOKEN")
    digest = hash_token(token.strip())
    ttl = current_app.config.get("AUTH_CACHE_SECONDS", 10)
    hit = _cache.get(digest)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    users, tokens = User.__table__, ApiToken.__table__
    row = db.session.execute(
        sa.select(users.c.username, users.c.role, users.c.department)
        .join(tokens, tokens.c.user_id == users.c.id)
        .where(tokens.c.token_hash == digest, ~tokens.c.revoked, users.c.active)
    ).first()
    if row is None:
        _cache.pop(digest, None)
        raise Unauthorized("invalid or revoked token")
    actor = actor_for_user(row)
    if ttl > 0:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[digest] = (time.monotonic() + ttl, actor)
    return actor


def current_actor() -> Actor:
    actor: Actor = g.actor
    return actor


_DUMMY_HASH = generate_password_hash(secrets.token_hex(8))
