"""The supervision checks run on their schedule (daily at SUPERVISION_AT on working days, or
every SUPERVISION_INTERVAL seconds, from the last run kept in Redis), never merely because a
worker started: a fresh install's inboxes are not flooded with findings at the first start.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from service.core import config, runtime
from service.jobs import schedule
from tests.integration.conftest import Clock, World
from tests.support.worker import (
    queue_of,
    run_queued,
    table_rows,
    wait_until,
    worker_env,
    worker_processes,
)

QUOTAS = {"core": 12, "important": 6, "general": 2}
# 1 July: June has ended, so core 6, important 3 and general 1 are due: all three are behind
SHANGHAI_10AM_WEDNESDAY = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, Any]:
    policy = copy.deepcopy(config.DEFAULT_POLICY)
    policy["visit_quotas"] = dict(QUOTAS)
    return {
        "OUTBOX_DISPATCH": "inline",
        "MAILBOX_PATH": str(tmp_path / "mail.mbox"),
        "POLICY": policy,
    }


@pytest.fixture
def rconn(redis_url: str) -> Any:
    conn = redis.Redis.from_url(redis_url)
    conn.flushall()
    yield conn
    conn.close()


def tick(world: World) -> dict[str, Any]:
    """The cron thread's job, on a real RQ worker."""
    with world.app.app_context():
        queue_of(world.app).enqueue("service.jobs.tasks.supervise_when_due")
    (ran,) = run_queued(world.app, rounds=1)
    assert ran.status == "finished", ran
    result: dict[str, Any] = ran.result
    return result


def test_starting_a_worker_does_not_run_the_checks(
    world: World, rconn: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    # December, no visit done: every customer is behind its tier's quota, so a run of the
    # checks would find (and notify) three things at once
    env = worker_env(world.app.config["SQLALCHEMY_DATABASE_URI"], redis_url, tmp_path)
    with worker_processes(1, env, tmp_path) as (worker,):
        # the cron thread's supervision job (enqueued at once) has run
        done = "Successfully completed service.jobs.tasks.supervise"
        wait_until(lambda: done in worker.log(), 60, 0.2, worker.log)
    assert table_rows(world.app, "findings") == []
    assert table_rows(world.app, "rectification_notices") == []
    started = schedule.last_run(rconn)
    assert started is not None
    assert abs((datetime.now(UTC) - started).total_seconds()) < 120  # the schedule starts now


def test_the_checks_run_when_their_time_of_day_comes(
    world: World, rconn: redis.Redis, clock: Clock
) -> None:
    clock.now = SHANGHAI_10AM_WEDNESDAY
    assert tick(world) == {"due": False}  # no last run: the schedule starts now (10:00)
    clock.now += timedelta(hours=12)  # 22:00: before the next 08:00
    assert tick(world) == {"due": False}
    clock.now += timedelta(hours=10)  # Thursday 08:00 Asia/Shanghai
    result = tick(world)
    assert result["due"] is True and result["findings"] == 3, result  # Acme, Globex, Initech
    assert len(table_rows(world.app, "rectification_notices")) == 3
    assert schedule.last_run(rconn) == clock.now
    clock.now += timedelta(hours=1)
    assert tick(world) == {"due": False}  # once a day


def test_a_missed_run_is_made_at_the_next_tick(
    world: World, rconn: redis.Redis, clock: Clock
) -> None:
    clock.now = SHANGHAI_10AM_WEDNESDAY
    rconn.set(schedule.LAST_RUN_KEY, (clock.now - timedelta(days=3)).isoformat())  # worker down
    assert tick(world)["findings"] == 3


def test_with_an_interval_the_checks_run_every_interval_from_the_last_run(
    world: World, rconn: redis.Redis, clock: Clock
) -> None:
    world.app.config["SUPERVISION_INTERVAL"] = 600
    clock.now = SHANGHAI_10AM_WEDNESDAY
    assert tick(world) == {"due": False}
    clock.now += timedelta(seconds=599)
    assert tick(world) == {"due": False}
    clock.now += timedelta(seconds=1)
    assert tick(world)["due"] is True


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        ("2026-07-01T09:00:00+08:00", "2026-07-02T08:00:00+08:00"),  # Wednesday → Thursday
        ("2026-07-01T07:59:00+08:00", "2026-07-01T08:00:00+08:00"),  # the same morning
        ("2026-07-03T08:00:00+08:00", "2026-07-06T08:00:00+08:00"),  # Friday → Monday
        ("2026-09-30T08:00:00+08:00", "2026-10-08T08:00:00+08:00"),  # past National Day
    ],
)
def test_the_daily_schedule_skips_non_working_days(world: World, last: str, expected: str) -> None:
    with world.app.app_context():
        got = schedule.next_run(datetime.fromisoformat(last))
        assert got == datetime.fromisoformat(expected)
        assert runtime.registry().calendar.is_workday(got.date())


def test_a_bad_time_of_day_is_named() -> None:
    with pytest.raises(ValueError, match="SUPERVISION_AT must be HH:MM"):
        schedule.at_time("8 am")
