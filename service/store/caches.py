"""Short per-process caches of lookups on the hot path (tokens, integrations).

One `cachetools.TTLCache` per app and name, living AUTH_CACHE_SECONDS (0: no caching), so
that a revocation or deactivation takes effect within that time everywhere. TTLCache is not
thread-safe: every access holds the cache's lock.
"""

from __future__ import annotations

import threading
from typing import Any

from cachetools import TTLCache

from service.core import context

_EXTENSION = "visitflow.caches"


class Lookups:
    def __init__(self, maxsize: int, ttl: float) -> None:
        self._cache: TTLCache[Any, Any] | None = (
            TTLCache(maxsize=maxsize, ttl=ttl) if ttl > 0 else None
        )
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        if self._cache is None:
            return None
        with self._lock:
            return self._cache.get(key)

    def put(self, key: Any, value: Any) -> None:
        if self._cache is not None:
            with self._lock:
                self._cache[key] = value

    def forget(self, key: Any) -> None:
        if self._cache is not None:
            with self._lock:
                self._cache.pop(key, None)


def lookups(name: str, maxsize: int) -> Lookups:
    """The current app's cache `name`, created on first use."""
    caches: dict[str, Lookups] = context.current().state.setdefault(_EXTENSION, {})
    found = caches.get(name)
    if found is None:
        ttl = float(context.config()["AUTH_CACHE_SECONDS"])
        found = caches.setdefault(name, Lookups(maxsize, ttl))
    return found
