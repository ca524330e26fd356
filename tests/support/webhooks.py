"""Webhook test support: a real HTTP receiver on loopback, signing, and RQ jobs run for real.

The receiver is the standard library's HTTP server in a thread on 127.0.0.1 and a free
port; it records every request and answers the statuses it is told to, in order. Jobs run in
an RQ SimpleWorker in burst mode on the test's Redis, inside the test app's context.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flask import Flask
from rq import Queue, SimpleWorker
from rq.registry import ScheduledJobRegistry

from service.store.redis_conn import get_redis


# -- the receiver -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


class Receiver:
    """Records POSTs; answers the queued statuses first (`respond(500, 500)`), then 200."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.statuses: deque[int] = deque()
        self.default = 200
        self.delay = 0.0  # seconds to wait before answering
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                    status = receiver.statuses.popleft() if receiver.statuses else receiver.default
                if receiver.delay:
                    time.sleep(receiver.delay)
                answer = b'{"ok": true}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

    def respond(self, *statuses: int) -> None:
        with self._lock:
            self.statuses.extend(statuses)

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.event for r in self.received]


@contextmanager
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()
        r.thread.join(timeout=5)


# -- signatures -------------------------------------------------------------------------------
def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header value, computed here from the contract, not with the service's code."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verifies(secret: str, header: str, body: bytes) -> bool:
    """What a subscriber does: recompute the HMAC of `t.body` and compare in constant time."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    mac = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(mac.hexdigest(), parts["v1"])


# -- jobs -------------------------------------------------------------------------------------
class BurstWorker(SimpleWorker):
    """RQ's SimpleWorker without its command channel, whose thread costs a second to stop."""

    def subscribe(self) -> None:
        return None


def default_queue(app: Flask) -> Queue:
    return Queue(app.config["RQ_QUEUE"], connection=get_redis(app))


def run_jobs(app: Flask, rounds: int = 5) -> int:
    """Run what waits in the default queue (webhooks, email) with a real RQ worker, in the
    app's context, round after round until it is empty; how many jobs ran. The deadlines
    queue is left alone: the test clock is weeks behind the real one."""
    ran = 0
    with app.app_context():
        q = default_queue(app)
        for _ in range(rounds):
            waiting = q.count
            if not waiting:
                break
            BurstWorker([q], connection=q.connection).work(
                burst=True, max_jobs=waiting, logging_level="WARNING"
            )
            ran += waiting
    return ran


def scheduled(app: Flask) -> list[tuple[str, float]]:
    """(job id, seconds from now) of the jobs scheduled on the default queue."""
    with app.app_context():
        registry = ScheduledJobRegistry(queue=default_queue(app))
        now = time.time()
        return [
            (job_id, registry.get_scheduled_time(job_id).timestamp() - now)
            for job_id in registry.get_job_ids()
        ]


def run_scheduled(app: Flask) -> int:
    """Move every scheduled job to its queue now (as RQ's scheduler would when it is due)
    and run the queue."""
    with app.app_context():
        registry = ScheduledJobRegistry(queue=default_queue(app))
        for job_id in registry.get_job_ids():
            registry.requeue(job_id)
    return run_jobs(app)
