"""`python -m service.entrypoints.worker`: an RQ worker with its scheduler, on the app's Redis.

- SimpleWorker: jobs run in this process, on the app created once (no fork per job).
- maintenance every 10 s instead of RQ's 10 minutes: a surviving worker takes over the
  scheduler lock of a killed one as soon as the lock expires (about a minute).
- an outbox thread hands committed outbox rows to RQ (one worker at a time).
- a cron thread (RQ's CronScheduler) enqueues the reconciler every RECONCILE_INTERVAL
  seconds, a look at the supervision checks' schedule every minute (they run daily at
  SUPERVISION_AT, or every SUPERVISION_INTERVAL, from their last run: never merely because
  a worker started) and the recount of the KPI tallies every KPI_REFRESH_INTERVAL; it keeps
  its schedule in this process, so a flushed or restarted Redis does not lose it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Flask
from rq import SimpleWorker
from rq.cron import CronScheduler

from service import create_app
from service.jobs import outbox, schedule
from service.jobs import tasks as jobs
from service.store.redis_conn import get_redis

log = logging.getLogger(__name__)
MAINTENANCE_INTERVAL = 10
SUPERVISION_TICK = 60  # seconds between looks at the supervision checks' schedule


class Worker(SimpleWorker):
    """A SimpleWorker that remembers whether a signal asked it to stop."""

    asked_to_stop = False

    def request_stop(self, signum: int, frame: Any) -> None:
        self.asked_to_stop = True
        super().request_stop(signum, frame)

    def request_force_stop(self, signum: int, frame: Any) -> None:
        self.asked_to_stop = True
        super().request_force_stop(signum, frame)


def cron_loop(app: Flask, stop: threading.Event) -> None:
    conn = get_redis(app)
    queue = outbox.queue(app, deadlines=True).name  # repairs go before routine work
    cron = CronScheduler(connection=conn, name=f"visitflow-cron-{threading.get_native_id()}")
    cron.register(
        jobs.reconcile,
        queue,
        interval=app.config["RECONCILE_INTERVAL"],
        job_timeout=600,
        name="reconcile",
    )
    cron.register(  # a tick: the checks themselves run on their schedule (service/jobs/schedule.py)
        jobs.supervise_when_due,
        app.config["RQ_QUEUE"],
        interval=SUPERVISION_TICK,
        job_timeout=600,
        name="supervise",
    )
    cron.register(
        jobs.refresh_kpi,
        app.config["RQ_QUEUE"],
        interval=app.config["KPI_REFRESH_INTERVAL"],
        job_timeout=600,
        name="refresh-kpi",
    )
    while not stop.is_set():
        try:
            cron.enqueue_jobs()
        except Exception:  # Redis down: try again at the next tick
            log.exception("cron: could not enqueue")
        stop.wait(max(0.5, min(5.0, cron.calculate_sleep_interval())))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app()
    jobs.bind(app)
    rq_level = app.config["RQ_LOG_LEVEL"]
    logging.getLogger("rq").setLevel(rq_level)  # rq.cron, rq.scheduler...
    schedule.at_time(app.config["SUPERVISION_AT"])  # a bad setting stops the start, named
    conn = get_redis(app)
    stop = threading.Event()
    threading.Thread(target=cron_loop, args=(app, stop), name="cron", daemon=True).start()
    threading.Thread(
        target=outbox.dispatch_loop,
        args=(app, stop, app.config["OUTBOX_POLL_INTERVAL"]),
        name="outbox",
        daemon=True,
    ).start()
    # Deadlines first: RQ takes jobs in the order of its queues, so mail never delays them.
    queues = [outbox.queue(app, deadlines=True), outbox.queue(app)]
    log.info("worker ready: listening on %s", ", ".join(q.name for q in queues))
    with app.app_context():
        while True:
            worker = None
            try:
                worker = Worker(queues, connection=conn, maintenance_interval=MAINTENANCE_INTERVAL)
                worker.work(with_scheduler=True, logging_level=rq_level)
            except Exception:  # Redis away or restarted under us
                log.exception("worker failed")
            # RQ returns from work() both when asked to stop and after an unhandled error
            # ("quitting"); only the first should end this process.
            if worker is not None and worker.asked_to_stop:
                break
            log.warning("worker stopped without being asked to; starting again in 1 s")
            time.sleep(1)
    stop.set()


if __name__ == "__main__":
    main()
