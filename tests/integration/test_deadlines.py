"""Deadlines on RQ with controlled time: rows written with the transition, scheduled from the
outbox, fired once by a real RQ worker (SimpleWorker, burst) on the embedded Redis.

The test clock starts on 2026-11-02 while RQ and `outbox.schedule` count on the wall clock, so
from RQ's point of view every deadline's job is due at once; the job itself asks the app's
clock whether its deadline is due, and reschedules itself when it is not. The worker runs inside
the test app's context, so the jobs use the test app, its database and its clock.

The tests look at jobs by what they run (the function that fires deadlines, the one that sends
reminders), not by their ids: which job fires which deadline is the service's business.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa

from service.core import runtime
from service.jobs import tasks as jobs
from service.store.db import db
from service.store.redis_conn import get_redis
from service.usecases import deadlines
from tests.integration.conftest import Clock, World, advance, create_visit, fire
from tests.support.worker import (
    expire_events,
    firing_jobs,
    notifications,
    pending_jobs,
    reminder_jobs,
    run_again,
    run_queued,
    table_rows,
)

PLANNED = "2026-11-10T10:00:00+08:00"
DUE = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # the preparation deadline: planned_at
REMIND = datetime(2026, 11, 9, 2, 0, tzinfo=UTC)  # one working day before
FAIL = "SELECT RAISE(ABORT, 'the database refuses this row');"  # a trigger's body
DB_ERRORS = (sa.exc.DBAPIError, sqlite3.DatabaseError)


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, Any]:
    return {"OUTBOX_DISPATCH": "inline", "MAILBOX_PATH": str(tmp_path / "mail.mbox")}


@pytest.fixture(autouse=True)
def empty_redis(redis_url: str) -> None:
    """The session shares one Redis: each test starts with no jobs, workers or locks."""
    conn = redis.Redis.from_url(redis_url)
    conn.flushall()
    conn.close()


def visit_deadlines(world: World, visit: dict[str, Any]) -> list[dict[str, Any]]:
    return table_rows(world.app, "deadlines", workflow="visit", instance_id=visit["id"])


def rq(world: World) -> redis.Redis:
    with world.app.app_context():
        return get_redis(world.app)


def set_db(world: World, sql: str, **params: Any) -> None:
    with world.app.app_context():
        db.session.execute(sa.text(sql), params)
        db.session.commit()


# -- written with the transition, scheduled from the outbox -----------------------------------
def test_creation_writes_an_open_deadline_and_its_outbox_row(world: World) -> None:
    visit = create_visit(world, planned_at=PLANNED)
    [d] = visit_deadlines(world, visit)
    assert (d["kind"], d["state"], d["version"], d["status"]) == (
        "preparation",
        "planned",
        1,
        "open",
    )
    assert (d["due_at"], d["remind_at"]) == (DUE, REMIND)
    [row] = [o for o in table_rows(world.app, "outbox") if o["topic"] == "deadline.schedule"]
    payload = row["payload"]
    assert datetime.fromisoformat(payload["due_at"]) == DUE
    assert datetime.fromisoformat(payload["remind_at"]) == REMIND
    assert row["sent_at"] is not None  # handed to RQ after the commit
    # due (for RQ's wall clock) long ago: queued at once, to fire and to remind
    assert [p.at for p in firing_jobs(rq(world))] == [None]
    assert [p.at for p in reminder_jobs(rq(world))] == [None]


@pytest.mark.parametrize("fraction", [0, 300_000], ids=["whole-second", "fraction"])
def test_a_deadline_due_after_now_is_scheduled_in_rq_at_its_due_time(
    world: World, fraction: int
) -> None:
    """enqueue_at, at the due time or within the second after it: RQ counts whole seconds,
    and a job moved to its queue a second early must not be the only one to fire it."""
    planned = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=fraction)
    create_visit(world, planned_at=planned.isoformat())
    [job] = firing_jobs(rq(world))
    assert job.at is not None  # waiting in the ScheduledJobRegistry, not in a queue
    assert planned - timedelta(seconds=1) < job.at <= planned + timedelta(seconds=1)


def test_a_transition_closes_the_deadline_it_leaves_and_opens_the_next(
    world: World, clock: Clock
) -> None:
    visit = create_visit(world, planned_at=PLANNED)
    clock.advance(hours=1)
    advance(world, "visits", visit, ["prepare"], "tom")
    first, second = visit_deadlines(world, visit)
    assert (first["status"], first["closed_at"]) == ("closed", clock.now)
    assert (second["kind"], second["state"], second["version"], second["status"]) == (
        "visit",
        "prepared",
        2,
        "open",
    )
    assert second["due_at"] == datetime(2026, 11, 11, 10, 0, tzinfo=UTC)  # + 1 working day, COB


def test_a_transition_whose_deadline_cannot_be_written_changes_nothing(world: World) -> None:
    """The deadline (and its outbox row) is written in the transition's own transaction: when
    the outbox insert fails, the state change and the new deadline roll back with it."""
    visit = create_visit(world, planned_at=PLANNED)
    before = world.counts()
    set_db(world, f"CREATE TRIGGER no_outbox BEFORE INSERT ON outbox BEGIN {FAIL} END")
    with pytest.raises(DB_ERRORS):
        fire(world, "visits", visit, "prepare", "tom")
    set_db(world, "DROP TRIGGER no_outbox")
    assert world.counts() == before
    [d] = visit_deadlines(world, visit)
    assert (d["state"], d["status"]) == ("planned", "open")
    shown = world.get(f"/api/v1/visits/{visit['id']}", "mary").get_json()
    assert (shown["state"], shown["version"]) == ("planned", 1)


# -- firing -------------------------------------------------------------------------------------
def test_expiry_marks_the_visit_overdue_without_changing_its_version(
    world: World, clock: Clock
) -> None:
    visit = create_visit(world, planned_at=PLANNED)
    clock.now = DUE + timedelta(minutes=5)
    run_queued(world.app)
    [d] = visit_deadlines(world, visit)
    assert (d["status"], d["fired_at"]) == ("fired", clock.now)
    [row] = table_rows(world.app, "visits", id=visit["id"])
    assert row["overdue"] is True
    shown = world.get(f"/api/v1/visits/{visit['id']}", "mary").get_json()
    assert (shown["overdue"], shown["version"], shown["state"]) == (True, 1, "planned")


def test_expiry_is_an_audit_event_of_source_job_in_the_current_state_and_version(
    world: World, clock: Clock
) -> None:
    visit = create_visit(world, planned_at=PLANNED)
    clock.now = DUE + timedelta(minutes=5)
    run_queued(world.app)
    history = world.get(f"/api/v1/visits/{visit['id']}/history", "mary").get_json()
    assert history["total"] == 2
    expiry = history["items"][-1]
    assert {k: expiry[k] for k in ("actor", "source", "trigger", "from", "to", "version")} == {
        "actor": "system",
        "source": "job",
        "trigger": "expire:preparation",
        "from": "planned",
        "to": "planned",
        "version": 1,
    }
    assert datetime.fromisoformat(expiry["at"]) == clock.now


def test_expiry_notifies_the_visitors_and_the_marketing_manager_once(
    world: World, clock: Clock
) -> None:
    visit = create_visit(world, planned_at=PLANNED, visitors=["mary", "tom"])
    clock.now = DUE + timedelta(minutes=5)
    run_queued(world.app)
    assert sorted(notifications(world.app, kind="overdue")) == [
        ("mary", "overdue", "visit", visit["id"]),
        ("mike", "overdue", "visit", visit["id"]),
        ("tom", "overdue", "visit", visit["id"]),
    ]


def test_a_deadline_past_due_fires_at_its_due_time_not_before(world: World) -> None:
    visit = create_visit(world, planned_at=PLANNED)
    [d] = visit_deadlines(world, visit)
    with world.app.app_context():
        assert deadlines.fire_due(now=DUE - timedelta(milliseconds=1)).fired == []
        assert deadlines.fire_due(now=DUE).fired == [d["id"]]
    [d] = visit_deadlines(world, visit)
    assert d["fired_at"] == DUE


def test_a_job_run_before_the_due_time_fires_nothing_and_reschedules_itself(
    world: World, clock: Clock
) -> None:
    visit = create_visit(world, planned_at=PLANNED)
    [d] = visit_deadlines(world, visit)
    clock.now = DUE - timedelta(hours=1)
    ran = run_queued(world.app, rounds=1)
    assert [r.status for r in ran if r.func_name.startswith("service.jobs.tasks.fire")] == [
        "finished"
    ]
    assert visit_deadlines(world, visit)[0]["status"] == "open"
    assert expire_events(world.app, "visit", visit["id"]) == []
    assert len(firing_jobs(rq(world))) == 1  # a job for the same deadline, queued again
    clock.now = DUE + timedelta(seconds=1)
    run_queued(world.app)
    assert visit_deadlines(world, visit)[0]["status"] == "fired"
    assert len(expire_events(world.app, "visit", visit["id"])) == 1


def test_a_job_woken_a_second_early_waits_for_the_due_time(world: World) -> None:
    visit = create_visit(world, planned_at=PLANNED)
    start, t0 = DUE - timedelta(seconds=1.2), time.monotonic()
    runtime.set_clock(world.app, lambda: start + timedelta(seconds=time.monotonic() - t0))
    run_queued(world.app, rounds=1)
    [d] = visit_deadlines(world, visit)
    assert d["status"] == "fired"
    assert DUE <= d["fired_at"] < DUE + timedelta(seconds=2)


def test_a_transition_before_the_due_time_closes_the_deadline_and_nothing_fires(
    world: World, clock: Clock
) -> None:
    visit = create_visit(world, planned_at=PLANNED)
    clock.now = DUE - timedelta(hours=2)
    advance(world, "visits", visit, ["prepare"], "tom")
    clock.now = DUE + timedelta(hours=1)  # past the first deadline, before the second
    run_queued(world.app)
    assert [x["status"] for x in visit_deadlines(world, visit)] == ["closed", "open"]
    assert expire_events(world.app, "visit", visit["id"]) == []
    assert notifications(world.app, kind="overdue") == []
    shown = world.get(f"/api/v1/visits/{visit['id']}", "mary").get_json()
    assert shown["overdue"] is False


def test_an_open_deadline_of_an_earlier_version_is_closed_not_fired(
    world: World, clock: Clock
) -> None:
    """A deadline acts only while the instance is in the state, at the version, that started
    it: a stale row left open (here reopened by hand) for a rescheduled visit, which is in
    the same state at a later version, is closed when it falls due."""
    visit = create_visit(world, planned_at=PLANNED)
    visit = advance(world, "visits", visit, ["reschedule"], "mary")  # planned again, v2
    old, new = visit_deadlines(world, visit)
    set_db(world, "UPDATE deadlines SET status='open', closed_at=NULL WHERE id=:i", i=old["id"])
    clock.now = DUE + timedelta(hours=1)  # past the old due time, before the new one
    with world.app.app_context():
        report = deadlines.fire_due()
    assert (report.fired, report.skipped) == ([], [old["id"]])
    assert [x["status"] for x in visit_deadlines(world, visit)] == ["closed", "open"]
    assert expire_events(world.app, "visit", visit["id"]) == []
    assert table_rows(world.app, "visits", id=visit["id"])[0]["overdue"] is False
    assert new["version"] == 2


def test_a_deadline_already_past_when_it_is_set_fires_on_the_next_worker_run(
    world: World, clock: Clock
) -> None:
    # a visit entered after the fact: only a marketing manager may back-date its planned time
    visit = create_visit(world, "mike", planned_at="2026-10-30T10:00:00+08:00")
    run_queued(world.app)
    [d] = visit_deadlines(world, visit)
    assert (d["status"], d["fired_at"]) == ("fired", clock.now)
    assert world.get(f"/api/v1/visits/{visit['id']}", "mary").get_json()["overdue"] is True


def test_an_expiry_that_fails_half_way_does_nothing_and_fires_later(
    world: World, clock: Clock
) -> None:
    """The firing transaction claims the deadline and does all its expiry causes, or nothing:
    a failure writing the notifications leaves the deadline open and the visit untouched."""
    visit = create_visit(world, planned_at=PLANNED)
    clock.now = DUE + timedelta(minutes=5)
    set_db(world, f"CREATE TRIGGER no_notes BEFORE INSERT ON notifications BEGIN {FAIL} END")
    with world.app.app_context(), pytest.raises(DB_ERRORS):
        deadlines.fire_due()
    assert visit_deadlines(world, visit)[0]["status"] == "open"
    assert table_rows(world.app, "visits", id=visit["id"])[0]["overdue"] is False
    assert expire_events(world.app, "visit", visit["id"]) == []
    set_db(world, "DROP TRIGGER no_notes")
    with world.app.app_context():
        assert jobs.reconcile()["fired"] == 1
    assert len(expire_events(world.app, "visit", visit["id"])) == 1
    assert len(notifications(world.app, kind="overdue")) == 3


def test_firing_again_does_nothing_a_second_time(world: World, clock: Clock) -> None:
    visit = create_visit(world, planned_at=PLANNED)
    clock.now = DUE + timedelta(minutes=5)
    ran = run_queued(world.app)
    fired_at = visit_deadlines(world, visit)[0]["fired_at"]
    before = notifications(world.app)
    clock.advance(hours=1)
    run_again(world.app, ran)  # the same jobs again
    with world.app.app_context():  # the batch, the reconciler
        assert deadlines.fire_all_due().fired == []
        assert jobs.reconcile()["fired"] == 0
    run_queued(world.app)
    assert visit_deadlines(world, visit)[0]["fired_at"] == fired_at
    assert len(expire_events(world.app, "visit", visit["id"])) == 1
    assert notifications(world.app) == before


# -- batches and races --------------------------------------------------------------------------
@pytest.mark.parametrize("app_config", [{"OUTBOX_DISPATCH": "inline", "DEADLINE_BATCH": 5}])
def test_many_deadlines_falling_due_together_fire_in_batches(world: World, clock: Clock) -> None:
    visits = [create_visit(world, planned_at=PLANNED) for _ in range(12)]
    clock.now = DUE + timedelta(minutes=1)
    with world.app.app_context():
        assert len(deadlines.fire_due().fired) == 5  # one transaction, one batch
    assert Counter(d["status"] for d in table_rows(world.app, "deadlines")) == {
        "fired": 5,
        "open": 7,
    }
    run_queued(world.app)
    assert Counter(d["status"] for d in table_rows(world.app, "deadlines")) == {"fired": 12}
    for visit in visits:
        assert len(expire_events(world.app, "visit", visit["id"])) == 1


def test_fire_all_due_goes_batch_after_batch(world: World, clock: Clock) -> None:
    world.app.config["DEADLINE_BATCH"] = 4
    for _ in range(10):
        create_visit(world, planned_at=PLANNED)
    clock.now = DUE + timedelta(minutes=1)
    with world.app.app_context():
        report = deadlines.fire_all_due()
    assert len(report.fired) == len(set(report.fired)) == 10


def test_concurrent_firing_fires_each_deadline_once(any_world: World, clock: Clock) -> None:
    """Four threads fire the same past-due deadlines at once (SQLite serialises the write
    transactions; PostgreSQL splits the batch with SKIP LOCKED): each fires exactly once."""
    world = any_world
    world.app.config["DEADLINE_BATCH"] = 3
    visits = [create_visit(world, planned_at=PLANNED) for _ in range(9)]
    clock.now = DUE + timedelta(minutes=1)
    start = threading.Barrier(4, timeout=30)
    fired: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with world.app.app_context():
                start.wait()
                fired.extend(deadlines.fire_all_due().fired)
        except BaseException as err:  # reported below, in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(fired) == sorted(d["id"] for d in table_rows(world.app, "deadlines"))
    for visit in visits:
        assert len(expire_events(world.app, "visit", visit["id"])) == 1
    per_visit = Counter((w, i) for _, k, w, i in notifications(world.app) if k == "overdue")
    assert set(per_visit.values()) == {3}  # mary, tom and mike, once each


# -- the reconciler -----------------------------------------------------------------------------
def test_the_reconciler_fires_past_due_deadlines_that_redis_lost(
    world: World, clock: Clock, redis_url: str
) -> None:
    visit = create_visit(world, planned_at=PLANNED)
    redis.Redis.from_url(redis_url).flushall()
    clock.now = DUE + timedelta(minutes=1)
    with world.app.app_context():
        assert jobs.reconcile()["fired"] == 1
        assert jobs.reconcile()["fired"] == 0
    assert visit_deadlines(world, visit)[0]["status"] == "fired"
    assert len(expire_events(world.app, "visit", visit["id"])) == 1


def test_the_reconciler_reschedules_deadlines_due_soon_that_redis_lost(
    world: World, redis_url: str
) -> None:
    visit = create_visit(world, planned_at="2026-11-02T12:00:00+08:00")  # due in 3 hours
    [d] = visit_deadlines(world, visit)
    redis.Redis.from_url(redis_url).flushall()
    with world.app.app_context():
        result = jobs.reconcile()
    assert (result["fired"], result["rescheduled"]) == (0, 1)
    [lost] = firing_jobs(rq(world))
    assert lost.at is None  # due for RQ's wall clock: queued at once
    with world.app.app_context():
        assert jobs.reconcile()["rescheduled"] == 0  # present now: not scheduled twice


def test_the_reconciler_sends_outbox_rows_not_yet_sent(world: World) -> None:
    world.app.config["OUTBOX_DISPATCH"] = "off"  # as if the process died after its commit
    visit = create_visit(world, planned_at=PLANNED)
    [d] = visit_deadlines(world, visit)
    assert all(o["sent_at"] is None for o in table_rows(world.app, "outbox"))
    assert pending_jobs(rq(world)) == []
    with world.app.app_context():
        # the deadline, the transition, and the email telling tom (a visitor) of the visit
        assert jobs.reconcile()["outbox_sent"] == 3
        assert jobs.reconcile()["outbox_sent"] == 0
    assert all(o["sent_at"] is not None for o in table_rows(world.app, "outbox"))
    assert len(firing_jobs(rq(world))) == 1
