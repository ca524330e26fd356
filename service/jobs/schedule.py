"""When the supervision checks run: on their schedule, counted from the last run kept in Redis.

Daily at `SUPERVISION_AT` (business time, working days only), or every
`SUPERVISION_INTERVAL` seconds when that is set. A worker's start never runs them: with no
last run recorded (a fresh install, a flushed Redis) the schedule starts from now, so the
first run is the next scheduled one. The last run is moved in a Redis transaction, so that
of several workers exactly one runs each round.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import redis

from service.core import context

LAST_RUN_KEY = "visitflow:supervision:last-run"


def at_time(value: str) -> time:
    """`SUPERVISION_AT`'s "HH:MM"; ValueError naming the setting otherwise."""
    try:
        hours, minutes = (int(part) for part in value.split(":"))
        return time(hours, minutes)
    except ValueError:
        raise ValueError(f"SUPERVISION_AT must be HH:MM (24-hour), got {value!r}") from None


def next_run(last: datetime, config: Any | None = None) -> datetime:
    """The first scheduled run after `last`."""
    config = config if config is not None else context.config()
    interval = int(config.get("SUPERVISION_INTERVAL") or 0)
    if interval > 0:
        return last + timedelta(seconds=interval)
    calendar = context.registry().calendar
    clock = at_time(config.get("SUPERVISION_AT") or "08:00")
    day = last.astimezone(calendar.tz).date()
    while True:
        candidate = datetime.combine(day, clock, calendar.tz)
        if candidate > last and calendar.is_workday(day):
            return candidate
        day += timedelta(days=1)


def claim(conn: redis.Redis, now: datetime | None = None) -> datetime | None:
    """The last run, if a run is due at `now` and this caller is the one to make it (the last
    run is then `now`); None otherwise. With no last run recorded, records `now`."""
    now = now or context.now()
    with conn.pipeline() as pipe:
        try:
            pipe.watch(LAST_RUN_KEY)
            raw = pipe.get(LAST_RUN_KEY)
            last = _parse(raw)
            if last is not None and now < next_run(last):
                return None
            pipe.multi()
            pipe.set(LAST_RUN_KEY, now.isoformat())
            pipe.execute()
        except redis.WatchError:  # another worker claimed this round
            return None
    return last


def release(conn: redis.Redis, last: datetime) -> None:
    """Give a claimed round back (the checks failed): the next tick tries it again."""
    conn.set(LAST_RUN_KEY, last.isoformat())


def last_run(conn: redis.Redis) -> datetime | None:
    return _parse(conn.get(LAST_RUN_KEY))


def _parse(raw: Any) -> datetime | None:
    if raw is None:
        return None
    return datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else raw)
