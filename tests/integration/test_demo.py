"""`make run`'s demo data looks real: visits planned in working hours on working days, none
visited or recorded before its planned time or after now, and exactly the one notice the
README promises (the supervision checks wait for their schedule)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from service import demo, runtime
from service.extensions import db
from tests.integration.conftest import Clock

MOMENTS = [
    datetime(2026, 12, 3, 1, 0, tzinfo=UTC),  # Thursday 09:00 Asia/Shanghai
    datetime(2026, 12, 7, 0, 30, tzinfo=UTC),  # Monday 08:30: the last working day a Friday
    datetime(2026, 10, 8, 12, 0, tzinfo=UTC),  # the first working day after National Day
    datetime(2026, 12, 5, 15, 0, tzinfo=UTC),  # Saturday, 23:00
]


def rows(app: Flask, sql: str) -> list[Any]:
    with app.app_context():
        return list(db.session.execute(sa.text(sql)).mappings())


def local(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(runtime_tz())


def runtime_tz() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("now", MOMENTS, ids=lambda m: m.isoformat())
def test_the_demo_data_looks_real(app: Flask, clock: Clock, now: datetime) -> None:
    clock.now = now
    with app.app_context():
        demo.seed()
        calendar = runtime.registry().calendar
    start, end = demo.WORKING_HOURS
    visits = rows(app, "SELECT id, state, planned_at, data FROM visits")
    assert len(visits) == 5
    for v in visits:
        planned = local(v["planned_at"])
        assert calendar.is_workday(planned.date()), v
        assert start <= planned.time() <= end, v
    events = rows(app, "SELECT instance_id, trigger, at, data FROM transition_events"
                       " WHERE workflow = 'visit'")  # fmt: skip
    planned_of = {v["id"]: local(v["planned_at"]) for v in visits}
    for e in events:
        at = local(e["at"])
        assert at <= local(now), e  # nothing happened in the future
        if e["trigger"] in ("visit", "record"):
            assert at >= planned_of[e["instance_id"]], e  # nor before the visit's time
    done = [v for v in visits if v["state"] == "recorded"]
    assert len(done) == 1
    assert planned_of[done[0]["id"]] < local(now)
    assert len(rows(app, "SELECT id FROM rectification_notices")) == 1  # the README's one
    assert rows(app, "SELECT id FROM findings") == []


def test_working_hours_are_the_business_days() -> None:
    assert demo.WORKING_HOURS == (time(9, 0), time(17, 30))
