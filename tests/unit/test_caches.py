"""The lookup caches of tokens and integrations (service/store/caches.py)."""

from __future__ import annotations

from service.core import context
from service.core.context import AppContext
from service.store.caches import Lookups, lookups
from workflows import Registry


def test_a_cached_lookup_is_found_until_forgotten() -> None:
    cache = Lookups(maxsize=10, ttl=60)
    cache.put("digest", "mary")
    assert cache.get("digest") == "mary"
    cache.forget("digest")
    assert cache.get("digest") is None


def test_a_time_to_live_of_zero_caches_nothing() -> None:
    cache = Lookups(maxsize=10, ttl=0)
    cache.put("digest", "mary")
    assert cache.get("digest") is None


def test_the_oldest_entries_make_room_at_the_size_limit() -> None:
    cache = Lookups(maxsize=2, ttl=60)
    for key in ("a", "b", "c"):
        cache.put(key, key.upper())
    assert [cache.get(k) for k in ("a", "b", "c")] == [None, "B", "C"]


def test_each_app_has_its_own_caches_living_its_configured_time(registry: Registry) -> None:
    one = AppContext(registry, config={"AUTH_CACHE_SECONDS": 60})
    other = AppContext(registry, config={"AUTH_CACHE_SECONDS": 0})
    with context.bound(one):
        lookups("tokens", maxsize=10).put("digest", "mary")
        assert lookups("tokens", maxsize=10).get("digest") == "mary"
    with context.bound(other):
        lookups("tokens", maxsize=10).put("digest", "mary")
        assert lookups("tokens", maxsize=10).get("digest") is None
