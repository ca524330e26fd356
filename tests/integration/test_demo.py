"""`make run`'s demo data looks real: visits planned in working hours on working days, none
visited or recorded before its planned time or after now, and exactly the one notice the
README promises (the supervision checks wait for their schedule)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from service.core import runtime
from service.entrypoints import demo
from service.store.db import db
from service.usecases import supervision
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
    visits = rows(app, "SELECT id, state, planned_at, customer_id FROM visits")
    for v in visits:
        planned = local(v["planned_at"])
        assert calendar.is_workday(planned.date()), v
        assert start <= planned.time() <= end, v
    events = rows(app, "SELECT workflow, instance_id, trigger, at FROM transition_events")
    planned_of = {v["id"]: local(v["planned_at"]) for v in visits}
    for e in events:
        at = local(e["at"])
        assert at <= local(now), e  # nothing happened in the future
        if at.date() < local(now).date():  # the past in working hours; the present is now
            assert calendar.is_workday(at.date()) and start <= at.time() <= end, e
        if e["workflow"] == "visit" and e["trigger"] in ("visit", "record", "report"):
            assert at >= planned_of[e["instance_id"]], e  # nor before the visit's time
    # the present: one visit recorded on the last working day, one prepared, three planned;
    # the year so far (none in January) was reported, each visit in a month before this one
    present = sorted(v["state"] for v in visits if v["state"] != "reported")
    assert present == ["planned", "planned", "planned", "prepared", "recorded"]
    past = [local(v["planned_at"]) for v in visits if v["state"] == "reported"]
    assert all((p.year, p.month) < (local(now).year, local(now).month) for p in past), past
    assert len(rows(app, "SELECT id FROM rectification_notices")) == 1  # the README's one
    assert rows(app, "SELECT id FROM findings") == []


def test_in_december_two_customers_are_behind_and_the_rest_on_track(
    app: Flask, clock: Clock
) -> None:
    clock.now = MOMENTS[0]  # Thursday 3 December: the quota months Jan-Nov have ended
    with app.app_context():
        demo.seed()
    done = {
        r["name"]: r["n"]
        for r in rows(
            app,
            "SELECT c.name, count(v.id) AS n FROM customers c LEFT JOIN visits v"
            " ON v.customer_id = c.id AND v.state IN ('visited', 'recorded', 'reported')"
            " GROUP BY c.name",
        )
    }
    # core 12 a year (11 due by November), important 6 (5 due: Feb, Apr ... Oct), general 2
    # (1 due: June); 北方能源 missed 3, 西部物流 2; 华东精密's December visit is recorded
    assert done == {
        "华东精密制造有限公司": 12,
        "北方能源集团": 8,
        "南方医疗科技": 5,
        "西部物流股份": 3,
        "中原食品有限公司": 1,
    }
    issues = rows(app, "SELECT state, created_at FROM issues ORDER BY id")
    assert [i["state"] for i in issues[:2]] == ["customer_confirmed", "customer_confirmed"]
    # raised in the dashboard's default period (this half-year), settled before today
    assert all(
        local(i["created_at"]) >= datetime(2026, 7, 1, tzinfo=runtime_tz()) for i in issues[:2]
    )
    # the past's notifications are read and its mail handed on; the present's are not
    unread = rows(app, "SELECT workflow, instance_id FROM notifications WHERE NOT read")
    reported = rows(app, "SELECT id FROM visits WHERE state = 'reported'")
    confirmed = rows(app, "SELECT id FROM issues WHERE state = 'customer_confirmed'")
    history = {("visit", v["id"]) for v in reported} | {("issue", i["id"]) for i in confirmed}
    assert unread and not {(n["workflow"], n["instance_id"]) for n in unread} & history
    # the past was lived in time order: its ids follow its times, as in a real year
    for table, moment in (("notifications", "created_at"), ("transition_events", "at")):
        past = [
            local(r["t"])
            for r in rows(
                app, f"SELECT workflow, instance_id, {moment} AS t FROM {table} ORDER BY id"
            )
            if (r["workflow"], r["instance_id"]) in history
        ]
        assert len(past) > 100 and past == sorted(past), table
    assert (
        rows(app, "SELECT id FROM outbox WHERE sent_at IS NULL AND created_at < '2026-12-01'") == []
    )
    with app.app_context():
        found = supervision.run_checks(MOMENTS[0])
        kinds = rows(app, "SELECT kind, detail FROM findings")
    plan = [k["detail"] for k in kinds if k["kind"] == "plan_execution"]
    assert len(plan) == 2, kinds
    assert any("北方能源集团" in d for d in plan) and any("西部物流股份" in d for d in plan)
    assert found["findings"] == len(kinds)


def test_working_hours_are_the_business_days() -> None:
    assert demo.WORKING_HOURS == (time(9, 0), time(17, 30))
