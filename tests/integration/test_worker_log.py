"""The worker's console: RQ's own lines at `RQ_LOG_LEVEL` (the launcher sets WARNING, so the
housekeeping jobs that run every few seconds do not bury requests and errors); VisitFlow's
own lines always."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from rq.job import Job, JobStatus

from service.core import config
from service.entrypoints.launcher import child_env
from tests.integration.conftest import World
from tests.support.worker import queue_of, wait_until, worker_env, worker_processes


@pytest.fixture
def rconn(redis_url: str) -> redis.Redis:
    conn = redis.Redis.from_url(redis_url)
    conn.flushall()
    return conn


@pytest.mark.parametrize(("level", "shown"), [("WARNING", False), ("INFO", True)])
def test_rq_job_lines_follow_rq_log_level(
    world: World, rconn: redis.Redis, redis_url: str, tmp_path: Path, level: str, shown: bool
) -> None:
    env = worker_env(
        world.app.config["SQLALCHEMY_DATABASE_URI"], redis_url, tmp_path, RQ_LOG_LEVEL=level
    )
    with worker_processes(1, env, tmp_path) as (worker,):
        wait_until(lambda: "worker ready: listening on" in worker.log(), 60, 0.2, worker.log)
        with world.app.app_context():
            job = queue_of(world.app).enqueue("service.jobs.tasks.reconcile")
        wait_until(
            lambda: Job.fetch(job.id, connection=rconn).get_status() == JobStatus.FINISHED,
            60,
            0.2,
            worker.log,
        )
        log = worker.log()
    assert ("Successfully completed service.jobs.tasks.reconcile" in log) is shown, log


def test_the_launcher_quiets_rq_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RQ_LOG_LEVEL", raising=False)
    assert child_env()["RQ_LOG_LEVEL"] == "WARNING"
    monkeypatch.setenv("RQ_LOG_LEVEL", "DEBUG")
    assert child_env()["RQ_LOG_LEVEL"] == "DEBUG"


def test_a_bad_rq_log_level_stops_the_start_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RQ_LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="RQ_LOG_LEVEL='loud'"):
        config.from_environment(str(tmp_path))
