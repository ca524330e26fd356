"""HTTP throughput and latency of the transition endpoint against a bare one-row-update baseline.

Starts the real service (gunicorn, `service:create_app()`, SQLite in WAL mode, an embedded
Redis) on a free loopback port and drives it with concurrent clients, each on one persistent
keep-alive connection, each firing the visit lifecycle prepare -> visit -> record -> report
on visits of its own (created before the clock starts). Then, in the same run and with the
same gunicorn settings, the bare baseline of bench/throughput_baseline.py: a minimal Flask view
that loads one row with the ORM, increments it and commits, each client bumping its own row.
Both are warmed up first; only one server runs at a time.

Prints transitions per second and p50/p99 latency of both, the ratio
transitions_per_s / baseline_per_s, and non-200 responses; the last line is one JSON object.
Targets at 8 clients: ratio >= 1.0 and p99 <= 50 ms. It prints numbers, it never asserts.

    .venv/bin/python bench/throughput.py [--clients 8] [--seconds 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import deque
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from _support import (
    LIFECYCLE,
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
    service_env,
    start_gunicorn,
    start_service,
    tail,
)


# -- the service -----------------------------------------------------------------------
@dataclass
class Bench:
    """A server under test and its client drivers."""

    drivers: list[Driver]
    top_up: Callable[[float], None] = lambda _rate: None  # more work for a rate, untimed


def setup_service(args: argparse.Namespace, tmp: Path, redis_url: str, stack: ExitStack) -> Bench:
    env = service_env(tmp, redis_url)
    migrate(env)
    service: Service = start_service(
        env, tmp, stack, workers=args.workers, threads=args.threads, worker_class=args.worker_class
    )
    queues: list[deque[int]] = [deque() for _ in range(args.clients)]

    def top_up(rate: float) -> None:
        """Visits for the measured rounds at three times `rate` transitions/s (at least 40/s)."""
        lifecycles_needed = 3 * max(rate, 40.0) * (args.seconds + 1) / len(LIFECYCLE)
        need = math.ceil(lifecycles_needed / args.clients) + 2
        create_visits(service, [max(0, need - len(q)) for q in queues], queues)

    first = max(4, math.ceil(args.warmup * 60 / args.clients))  # enough for the warm-up
    create_visits(service, [first] * args.clients, queues)
    drivers = [Driver(Client(service.server.port, service.token), lifecycles(q)) for q in queues]
    return Bench(drivers, top_up)


def bumps(row: int) -> Callable[[], Job | None]:
    job: Job = [(f"/bump/{row}", b"", {})]
    return lambda: job


def setup_baseline(args: argparse.Namespace, tmp: Path, stack: ExitStack) -> Bench:
    from throughput_baseline import create_schema

    url = f"sqlite:///{tmp / 'baseline.db'}"
    create_schema(url, args.clients)
    env = {**os.environ, "BASELINE_DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"}
    server = start_gunicorn(
        "baseline", "bench.throughput_baseline:create_app()", env, tmp,
        workers=args.workers, threads=args.threads, worker_class=args.worker_class,
    )  # fmt: skip
    stack.callback(server.stop)
    return Bench([Driver(Client(server.port), bumps(i + 1)) for i in range(args.clients)])


def measure(args: argparse.Namespace, service: Bench, baseline: Bench) -> tuple[Phase, Phase]:
    """Warm both up, then alternate rounds so that both see the same background load."""
    warm = drive(service.drivers, args.warmup)
    service.top_up(warm.rate)
    drive(service.drivers, min(1.0, args.warmup))  # again, after the visits were written
    drive(baseline.drivers, args.warmup)
    per_round = args.seconds / args.rounds
    ours: list[Phase] = []
    theirs: list[Phase] = []
    for _ in range(args.rounds):
        ours.append(drive(service.drivers, per_round))
        theirs.append(drive(baseline.drivers, per_round))
    for d in service.drivers + baseline.drivers:
        d.client.close()
    return merge(ours), merge(theirs)


# -- main ------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    load_options(parser, "server", worker_class=True)
    parser.add_argument("--keep-logs", action="store_true", help="print gunicorn's logs")
    args = parser.parse_args()

    with folder_with_redis("vf-bench-http-") as (tmp, redis_url):  # Redis: the whole run
        with ExitStack() as stack:  # stops both servers (SIGTERM, wait) on the way out
            service_bench = setup_service(args, tmp, redis_url, stack)
            baseline_bench = setup_baseline(args, tmp, stack)
            service, baseline = measure(args, service_bench, baseline_bench)
        if args.keep_logs:
            for name in ("service", "baseline"):
                print(f"{name} log:\n{tail(tmp / f'{name}.log')}", file=sys.stderr)

    threads = f" x {args.threads} threads" if args.worker_class == "gthread" else ""
    print(
        f"gunicorn: {args.workers} workers ({args.worker_class}{threads}), SQLite WAL; "
        f"{args.clients} clients, {args.seconds:g} s each in {args.rounds} alternating rounds"
        f" after {args.warmup:g} s warm-up"
    )
    report("service", service, "transitions", " transitions/s")
    report("baseline", baseline, "bumps", " bumps/s")
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
