"""The API's bearer tokens: the actor of a request (tokens are issued by `usecases.accounts`)."""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import current_app, g, request

from service.core.errors import Unauthorized
from service.store.db import db
from service.store.models import ApiToken, User
from service.usecases.accounts import actor_for_user, hash_token
from workflows import Actor

# A token lookup is one query; a short per-process cache keeps it off the hot path.
# Revoking a token or deactivating a user takes effect within AUTH_CACHE_SECONDS.
_cache: dict[str, tuple[float, Actor]] = {}


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
