"""The API's bearer tokens: the actor of a request (tokens are issued by `usecases.accounts`)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, request

from service.core.errors import Unauthorized
from service.store.caches import lookups
from service.store.db import db
from service.store.models import ApiToken, User
from service.usecases.accounts import actor_for_user, hash_token
from workflows import Actor


def authenticate() -> Actor:
    """The actor of the request's bearer token, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token: send Authorization: Bearer TOKEN")
    digest = hash_token(token.strip())
    # A token lookup is one query; the app's token cache keeps it off the hot path.
    cache = lookups("tokens", maxsize=10_000)
    hit: Actor | None = cache.get(digest)
    if hit is not None:
        return hit
    users, tokens = User.__table__, ApiToken.__table__
    row = db.session.execute(
        sa.select(users.c.username, users.c.role, users.c.department)
        .join(tokens, tokens.c.user_id == users.c.id)
        .where(tokens.c.token_hash == digest, ~tokens.c.revoked, users.c.active)
    ).first()
    if row is None:
        cache.forget(digest)
        raise Unauthorized("invalid or revoked token")
    actor = actor_for_user(row)
    cache.put(digest, actor)
    return actor


def current_actor() -> Actor:
    actor: Actor = g.actor
    return actor
