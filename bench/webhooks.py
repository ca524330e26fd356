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
processes (`python -m service.entrypoints.worker`) started; deliveries per second are counted at the
receiver from its first delivery to its last.

Prints both inbound rates with p50/p99 latency, their ratio (target >= 0.8) and the outbound
rate; the last line is one JSON object. It prints numbers, it never asserts.

    .venv/bin/python bench/webhooks.py [--clients 8] [--seconds 10] [--outbound 2000]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import math
import sys
import threading
import time
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _support import (
    HOST,
    LIFECYCLE,
    TRANSITION_DATA,
    Client,
    Driver,
    Job,
    Phase,
    Service,
    create_visits,
    drive,
    folder_with_redis,
    lifecycles,
    load_options,
    merge,
    migrate,
    report,
    run_flask,
    service_env,
    start_service,
    start_worker,
    tail,
)

ADMIN, ADMIN_PASSWORD = "root", "bench-pw-root"
INTEGRATION = "bench-crm"


# -- the two entry points ----------------------------------------------------------------------
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
    service: Service
    admin_token: str
    secret: str

    @property
    def port(self) -> int:
        return self.service.server.port

    @property
    def token(self) -> str:
        return self.service.token


def setup_service(
    env: dict[str, str], args: argparse.Namespace, tmp: Path, stack: ExitStack
) -> Setup:
    migrate(env)
    run_flask(env, "users", "create", ADMIN, "--role", "admin",
              "--department", "it", "--password", ADMIN_PASSWORD)  # fmt: skip
    grants = [arg for t in LIFECYCLE for arg in ("--grant", f"visit:{t}")]
    secret = run_flask(env, "integrations", "create", INTEGRATION, *grants).strip().splitlines()[-1]
    service = start_service(env, tmp, stack, workers=args.workers, threads=args.threads)
    c = Client(service.server.port)
    admin = c.json("POST", "/api/v1/auth/tokens", {"username": ADMIN, "password": ADMIN_PASSWORD})
    c.close()
    return Setup(service, admin["token"], secret)


def measure_inbound(args: argparse.Namespace, setup: Setup) -> tuple[Phase, Phase]:
    """Warm both up, then alternate rounds so that both see the same background load."""
    n = args.clients
    api_q: list[deque[int]] = [deque() for _ in range(n)]
    hook_q: list[deque[int]] = [deque() for _ in range(n)]
    first = max(4, math.ceil(args.warmup * 60 / n))
    create_visits(setup.service, [first] * n, api_q)
    create_visits(setup.service, [first] * n, hook_q)
    api = [Driver(Client(setup.port, setup.token), lifecycles(q)) for q in api_q]
    signed = [SignedLifecycles(q, setup.secret, i) for i, q in enumerate(hook_q)]
    for s in signed:
        s.sign_all()
    hooks = [Driver(Client(setup.port), s.next_job) for s in signed]
    warm_api = drive(api, args.warmup)
    warm_hooks = drive(hooks, args.warmup)

    def top_up(queues: list[deque[int]], have: list[int], rate: float) -> None:
        """Visits for the measured rounds at three times `rate` transitions/s."""
        needed = 3 * max(rate, 40.0) * (args.seconds + 1) / len(LIFECYCLE)
        need = math.ceil(needed / n) + 2
        create_visits(setup.service, [max(0, need - h) for h in have], queues)

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
    events = math.ceil(args.outbound / len(LIFECYCLE))
    queues: list[deque[int]] = [deque() for _ in range(args.clients)]
    per = math.ceil(events / args.clients)
    create_visits(setup.service, [per] * args.clients, queues)  # creations are events too
    drivers = [Driver(Client(setup.port, setup.token), lifecycles(q)) for q in queues]
    drive(drivers, 600)  # until every queue runs out
    expected = per * args.clients * (1 + len(LIFECYCLE))
    started = time.perf_counter()
    workers = [start_worker(i, env, tmp) for i in range(args.outbound_workers)]
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
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    load_options(parser, "side")
    parser.add_argument("--outbound", type=int, default=2000, help="outbound events (about)")
    parser.add_argument("--outbound-workers", type=int, default=2, help="RQ worker processes")
    parser.add_argument("--outbound-timeout", type=float, default=120.0)
    parser.add_argument("--keep-logs", action="store_true", help="print the processes' logs")
    args = parser.parse_args()

    with folder_with_redis("vf-bench-webhooks-") as (tmp, redis_url):  # Redis: the whole run
        env = service_env(tmp, redis_url, MAILBOX_PATH=str(tmp / "mail.mbox"))
        with ExitStack() as stack:
            setup = setup_service(env, args, tmp, stack)
            api, hooks = measure_inbound(args, setup)
            outbound = measure_outbound(args, setup, env, tmp, stack)
        if args.keep_logs:
            for name in ["service", *(f"worker-{i}" for i in range(args.outbound_workers))]:
                print(f"{name} log:\n{tail(tmp / f'{name}.log')}", file=sys.stderr)

    print(
        f"gunicorn: {args.workers} workers (gthread x {args.threads} threads), SQLite WAL; "
        f"{args.clients} clients, {args.seconds:g} s per side in {args.rounds} alternating rounds"
        f" after {args.warmup:g} s warm-up"
    )
    report("api", api, "transitions", "/s")
    report("webhooks", hooks, "transitions", "/s")
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
