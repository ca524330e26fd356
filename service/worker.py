"""`python -m service.worker`: an RQ worker with its scheduler, bound to the app's Redis."""

from __future__ import annotations

import logging

from rq import Queue, Worker

from service import create_app
from service.redis_conn import get_redis

QUEUE = "visitflow"


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app()
    conn = get_redis(app)
    with app.app_context():
        worker = Worker([Queue(QUEUE, connection=conn)], connection=conn)
        worker.work(with_scheduler=True)


if __name__ == "__main__":
    main()
