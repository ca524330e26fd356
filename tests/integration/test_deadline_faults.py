"""Faults that must lose nothing, with real worker processes
(`python -m service.entrypoints.worker`) on a real Redis and the real wall clock: workers
racing, Redis flushed, Redis restarted empty, Redis down when a transition commits, a worker
killed mid-job, and (slow) a killed worker's scheduler duty moving to a surviving worker.

Deadlines are a few seconds ahead. Each test polls with a timeout and never sleeps long; every
test checks that no deadline fired before its due time and none fired twice.
"""

from __future__ import annotations

import mailbox
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry

from service.core import runtime
from service.jobs import outbox
from service.store.redis_conn import KEY as REDIS_EXTENSION
from tests.integration.conftest import Clock, World, advance, create_visit, visit_payload
from tests.support.worker import (
    Pending,
    WorkerProcess,
    expire_events,
    firing_jobs,
    notifications,
    queues_in,
    redis_server,
    registered_workers,
    run_queued,
    table_rows,
    wait_until,
    worker_env,
    worker_processes,
)

QUEUE = "visitflow"  # the default queue (RQ_QUEUE): every worker takes jobs from it


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, Any]:
    return {"OUTBOX_DISPATCH": "inline", "MAILBOX_PATH": str(tmp_path / "mail.mbox")}


@pytest.fixture(autouse=True)
def empty_redis(redis_url: str) -> None:
    conn = redis.Redis.from_url(redis_url)
    conn.flushall()
    conn.close()


@pytest.fixture
def live(world: World) -> World:
    """The world on the wall clock, the one the worker processes use."""
    runtime.set_clock(world.app, lambda: datetime.now(UTC))
    return world


@pytest.fixture
def rconn(redis_url: str) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(redis_url)
    yield conn
    conn.close()


def point_app_at(world: World, url: str) -> None:
    """Make the app talk to another Redis from its next command on."""
    world.app.config["REDIS_URL"] = url
    world.app.extensions.pop(REDIS_EXTENSION, None)


def env_for(world: World, redis_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return worker_env(world.app.config["SQLALCHEMY_DATABASE_URI"], redis_url, tmp_path, **extra)


def wait_ready(conn: redis.Redis, workers: list[WorkerProcess], timeout: float = 30) -> None:
    def ready() -> bool:
        for w in workers:
            assert w.alive(), f"{w.name} exited:\n{w.log()[-3000:]}"
        return registered_workers(conn) >= len(workers)

    wait_until(ready, timeout)


def due_visits(world: World, n: int, ahead: float) -> tuple[list[dict[str, Any]], datetime]:
    """`n` visits whose preparation deadline falls due `ahead` seconds from now, at a time
    that is not a whole second (RQ's scheduler counts whole seconds)."""
    due = datetime.now(UTC) + timedelta(seconds=ahead)
    due = due.replace(microsecond=700_000)
    visits = [create_visit(world, planned_at=due.isoformat()) for _ in range(n)]
    return visits, due


def deadlines_of(world: World, visits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = {v["id"] for v in visits}
    return [
        d for d in table_rows(world.app, "deadlines", workflow="visit") if d["instance_id"] in ids
    ]


def all_fired(world: World, visits: list[dict[str, Any]]) -> bool:
    return all(d["status"] == "fired" for d in deadlines_of(world, visits))


def logs(workers: list[WorkerProcess]) -> str:
    return "\n".join(f"--- {w.name}\n{w.log()[-4000:]}" for w in workers)


def assert_fired_once_on_time(world: World, visits: list[dict[str, Any]]) -> None:
    rows = deadlines_of(world, visits)
    assert len(rows) == len(visits)
    for d in rows:
        assert d["status"] == "fired"
        assert d["fired_at"] >= d["due_at"], f"deadline {d['id']} fired before its due time"
    for visit in visits:
        assert len(expire_events(world.app, "visit", visit["id"])) == 1
    per_visit = Counter(
        i for _, kind, _, i in notifications(world.app, workflow="visit") if kind == "overdue"
    )
    assert per_visit == {v["id"]: 3 for v in visits}  # mary, tom, mike: once each


def scheduled_for(conn: redis.Redis, due: datetime) -> list[Pending]:
    """The jobs waiting in a ScheduledJobRegistry to fire deadlines due at `due`: at that
    time, or within the second after it (RQ counts whole seconds). (The workers' first
    supervision run may schedule the deadlines of its own notices: those are later.)"""
    return [
        p
        for p in firing_jobs(conn)
        if p.at is not None and due - timedelta(seconds=1) < p.at <= due + timedelta(seconds=1)
    ]


def failed_jobs(conn: redis.Redis) -> dict[str, str]:
    """The failed jobs of every queue, with the end of their tracebacks."""
    out = {}
    for q in queues_in(conn):
        for job_id in FailedJobRegistry(queue=q).get_job_ids():
            result = Job.fetch(job_id, connection=conn).latest_result()
            out[job_id] = (result.exc_string or "")[-600:] if result is not None else "?"
    return out


def quiet(conn: redis.Redis, abandoned: frozenset[str] = frozenset()) -> bool:
    """Nothing queued and nothing running in any queue (but the jobs of a killed worker)."""
    for q in queues_in(conn):
        if q.count or not set(StartedJobRegistry(queue=q).get_job_ids()) <= abandoned:
            return False
    return True


# -- two workers racing -------------------------------------------------------------------------
def test_two_workers_racing_fire_each_deadline_once(
    live: World, rconn: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    env = env_for(live, redis_url, tmp_path)
    with worker_processes(2, env, tmp_path) as workers:
        wait_ready(rconn, workers)
        visits, due = due_visits(live, 8, ahead=3)
        q = Queue(QUEUE, connection=rconn)
        for _ in range(6):  # more firing at the due time, for both workers at once
            q.enqueue_at(due, "service.jobs.tasks.reconcile")
        wait_until(lambda: all_fired(live, visits), timeout=30)
        wait_until(lambda: quiet(rconn), timeout=20)

        def all_mailed() -> list[dict[str, Any]]:
            rows = [o for o in table_rows(live.app, "outbox") if o["topic"] == "email"]
            overdue = [o for o in rows if o["payload"]["kind"] == "overdue"]
            done = len(overdue) == len(visits) and all(o["delivered_at"] for o in rows)
            return rows if done else []

        emails = wait_until(all_mailed, timeout=20)
        assert all(w.alive() for w in workers), logs(workers)
        assert failed_jobs(rconn) == {}
    assert_fired_once_on_time(live, visits)
    for d in deadlines_of(live, visits):
        assert d["fired_at"] - d["due_at"] < timedelta(seconds=10)
    assert all(o["attempts"] == 1 for o in emails)
    box = mailbox.mbox(env["MAILBOX_PATH"])
    try:
        assert len(box) == len(emails)  # each email delivered once
    finally:
        box.close()


# -- Redis loses its data -----------------------------------------------------------------------
def test_deadlines_whose_jobs_were_flushed_from_redis_still_fire_once(
    live: World, rconn: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    with worker_processes(1, env_for(live, redis_url, tmp_path), tmp_path) as workers:
        wait_ready(rconn, workers)
        visits, due = due_visits(live, 4, ahead=3)
        assert scheduled_for(rconn, due)
        rconn.flushall()
        assert scheduled_for(rconn, due) == []
        wait_until(lambda: all_fired(live, visits), timeout=30)
        wait_until(lambda: quiet(rconn), timeout=20)
        assert workers[0].alive(), logs(workers)
    assert_fired_once_on_time(live, visits)


def test_deadlines_fire_once_after_redis_restarts_empty(live: World, tmp_path: Path) -> None:
    with redis_server() as server:
        point_app_at(live, server.url)
        conn = redis.Redis.from_url(server.url)
        try:
            env = env_for(live, server.url, tmp_path)
            with worker_processes(1, env, tmp_path) as workers:
                wait_ready(conn, workers)
                visits, due = due_visits(live, 4, ahead=5)
                assert scheduled_for(conn, due)
                conn.set("before-the-crash", 1)
                server.kill()
                server.start()
                assert not conn.exists("before-the-crash")  # everything is lost
                wait_until(
                    lambda: all_fired(live, visits),
                    timeout=40,
                    explain=lambda: f"{deadlines_of(live, visits)}\n{logs(workers)}",
                )
                wait_until(lambda: quiet(conn), timeout=20)
                assert workers[0].alive(), logs(workers)
        finally:
            conn.close()
    assert_fired_once_on_time(live, visits)


POISON: dict[str, bytes | str] = {"data": b"not a job", "status": "no-such-status", "origin": QUEUE}


def test_a_worker_keeps_working_after_an_unhandled_error_in_rqs_work_loop(
    live: World, rconn: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    """RQ's work loop catches any error it does not expect (a job hash it cannot read, a
    Redis error while it finalises a job), logs "found an unhandled exception, quitting" and
    returns; `main()` must start it again rather than end the process (and with it the
    scheduler, the reconciler and the outbox dispatcher). A malformed job makes that error
    happen on purpose; a Redis restart while a job finishes makes it happen by chance."""
    with worker_processes(1, env_for(live, redis_url, tmp_path), tmp_path) as workers:
        wait_ready(rconn, workers)
        rconn.hset("rq:job:poison", mapping=POISON)
        rconn.rpush(f"rq:queue:{QUEUE}", "poison")
        wait_until(lambda: not rconn.lrange(f"rq:queue:{QUEUE}", 0, -1).count(b"poison"), 10)
        visits, _ = due_visits(live, 1, ahead=1)
        wait_until(lambda: all_fired(live, visits) or not workers[0].alive(), timeout=15)
        assert workers[0].alive(), logs(workers)
    assert_fired_once_on_time(live, visits)


# -- Redis down when a transition commits -------------------------------------------------------
def test_a_transition_commits_while_redis_is_down_and_is_scheduled_once_it_is_back(
    world: World, clock: Clock, redis_url: str, rconn: redis.Redis, tmp_path: Path
) -> None:
    point_app_at(world, f"unix://{tmp_path}/no-redis-here.sock")
    payload = visit_payload(world, planned_at="2026-11-10T10:00:00+08:00")
    r = world.post("/api/v1/visits", "mary", payload)
    assert r.status_code == 201, r.get_json()
    visit = advance(world, "visits", r.get_json(), ["prepare"], "tom")
    assert visit["version"] == 2
    pending = table_rows(world.app, "outbox")
    # two deadline rows, two transitions, two emails (tom told of the visit, mary of prepare)
    assert [o["sent_at"] for o in pending] == [None] * 6
    point_app_at(world, redis_url)
    with world.app.app_context():
        assert outbox.dispatch_pending() == 6
        assert outbox.dispatch_pending() == 0
    first, second = table_rows(world.app, "deadlines", workflow="visit", instance_id=visit["id"])
    assert firing_jobs(rconn)  # scheduled now
    clock.now = second["due_at"] + timedelta(minutes=1)
    run_queued(world.app)
    first, second = table_rows(world.app, "deadlines", workflow="visit", instance_id=visit["id"])
    assert (first["status"], second["status"]) == ("closed", "fired")
    assert [e["trigger"] for e in expire_events(world.app, "visit", visit["id"])] == [
        "expire:visit"
    ]


def test_a_deadline_set_while_redis_was_down_is_sent_and_fired_by_a_worker_once_it_is_back(
    live: World, rconn: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    point_app_at(live, f"unix://{tmp_path}/no-redis-here.sock")
    visits, _ = due_visits(live, 2, ahead=2)
    assert all(o["sent_at"] is None for o in table_rows(live.app, "outbox"))
    point_app_at(live, redis_url)
    with worker_processes(1, env_for(live, redis_url, tmp_path), tmp_path) as workers:
        wait_until(lambda: all_fired(live, visits), timeout=30)
        wait_until(
            lambda: all(o["sent_at"] is not None for o in table_rows(live.app, "outbox")),
            timeout=20,
        )
        assert workers[0].alive(), logs(workers)
    assert_fired_once_on_time(live, visits)


# -- a deadline in the past, a worker killed ----------------------------------------------------
def test_a_deadline_already_past_when_it_is_set_fires_at_once(
    live: World, rconn: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    env = env_for(live, redis_url, tmp_path, RECONCILE_INTERVAL="3600")
    with worker_processes(1, env, tmp_path) as workers:
        wait_ready(rconn, workers)
        wait_until(lambda: quiet(rconn), timeout=10)  # the reconciler's first run is over
        past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()  # back-dated by a manager
        visit = create_visit(live, "mike", planned_at=past)
        created = datetime.now(UTC)
        wait_until(lambda: all_fired(live, [visit]), timeout=10)
        [d] = deadlines_of(live, [visit])
        assert d["fired_at"] - created < timedelta(seconds=3), logs(workers)
    assert_fired_once_on_time(live, [visit])


def test_a_worker_killed_mid_job_loses_nothing_and_does_nothing_twice(
    live: World, rconn: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    quiet_env = env_for(live, redis_url, tmp_path, RECONCILE_INTERVAL="3600")
    doomed = WorkerProcess("doomed", quiet_env, tmp_path)
    try:
        wait_ready(rconn, [doomed])
        wait_until(lambda: quiet(rconn), timeout=10)
        visits, due = due_visits(live, 1, ahead=3)
        [scheduled] = scheduled_for(rconn, due)
        # the same job, run a second early: it waits inside the worker for the due time...
        wait_until(lambda: datetime.now(UTC) >= due - timedelta(seconds=1), timeout=10)
        q = Queue(scheduled.queue, connection=rconn)
        job = q.enqueue(scheduled.func_name, *scheduled.args, job_id="mid-job")
        # ...and the worker is killed right then
        wait_until(lambda: "mid-job" in StartedJobRegistry(queue=q).get_job_ids(), 5, 0.02)
        doomed.kill()
        assert datetime.now(UTC) < due
        assert deadlines_of(live, visits)[0]["status"] == "open"
        assert job.get_status(refresh=True) == "started"  # abandoned, not finished
    finally:
        doomed.stop()
    with worker_processes(1, env_for(live, redis_url, tmp_path), tmp_path) as workers:
        wait_until(lambda: all_fired(live, visits), timeout=30)
        wait_until(lambda: quiet(rconn, abandoned=frozenset({"mid-job"})), timeout=20)
        assert workers[0].alive(), logs(workers)
    assert_fired_once_on_time(live, visits)


# -- the scheduler moves to a surviving worker ----------------------------------------------------
def scheduler_pgid(conn: redis.Redis, queue: str) -> int | None:
    """The process group of the worker whose RQ scheduler holds `queue`'s lock."""
    name = conn.get(f"rq:scheduler-lock:{queue}")
    if not isinstance(name, bytes):
        return None
    pid = conn.hget(f"rq:scheduler:{name.decode()}", "pid")
    if pid is None:
        return None
    try:
        return os.getpgid(int(pid))
    except ProcessLookupError:
        return None


@pytest.mark.slow
def test_a_killed_workers_scheduler_duty_moves_to_a_surviving_worker(
    live: World, rconn: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    """RQ's scheduler lock lives about 61 s after its holder dies; the survivor's maintenance
    (every 10 s, when its loop turns: the reconciler's job wakes it every 5 s) takes it then."""
    env = env_for(live, redis_url, tmp_path, RECONCILE_INTERVAL="5")
    with worker_processes(2, env, tmp_path) as workers:
        wait_ready(rconn, workers)
        # which queue do deadlines' jobs wait on? a deadline two days ahead tells
        create_visit(live, planned_at=(datetime.now(UTC) + timedelta(days=2)).isoformat())
        [queue] = {p.queue for p in firing_jobs(rconn)}
        holder_pgid = wait_until(lambda: scheduler_pgid(rconn, queue), timeout=20)
        [holder] = [w for w in workers if w.pid == holder_pgid]
        [survivor] = [w for w in workers if w is not holder]
        holder.kill()
        visits, due = due_visits(live, 3, ahead=3)
        ids = {p.job_id for p in scheduled_for(rconn, due)}
        assert ids
        # the reconciler fires the deadlines meanwhile; the scheduled jobs wait for a scheduler
        wait_until(lambda: all_fired(live, visits), timeout=30)
        wait_until(lambda: scheduler_pgid(rconn, queue) == survivor.pid, timeout=120, interval=1)

        def all_ran() -> bool:  # moved to the queue by the survivor's scheduler, and run
            waiting = {p.job_id for p in firing_jobs(rconn) if p.at is not None}
            done = [Job.fetch(j, connection=rconn).get_status() == "finished" for j in ids]
            return not ids & waiting and all(done)

        wait_until(all_ran, timeout=15)
        assert survivor.alive(), logs(workers)
    assert_fired_once_on_time(live, visits)
