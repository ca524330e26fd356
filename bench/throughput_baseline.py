"""The bare baseline for bench/throughput.py: a minimal Flask view doing one ORM row update.

`create_app()` builds a Flask app with Flask-SQLAlchemy and one model, `Counter(id, value,
version)`. `POST /bump/<id>` loads the row with the ORM, increments it, commits and returns
JSON. It runs under gunicorn with the same worker settings as the service, on its own SQLite
file with the service's pragmas (WAL, synchronous=NORMAL, busy_timeout, foreign_keys) and,
like the service's write path, BEGIN IMMEDIATE, so that concurrent writers wait for the lock
instead of failing on a stale snapshot.

Configuration: BASELINE_DATABASE_URL (a SQLAlchemy URL; default an in-memory database).
`python bench/throughput_baseline.py URL ROWS` creates the table with ROWS counters at zero.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import sqlalchemy as sa
from flask import Flask, abort
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Counter(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "counters"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)


def _sqlite_pragmas(engine: sa.Engine) -> None:
    """The service's SQLite settings (service/store/repository.py); every transaction
    here writes."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # BEGIN is emitted below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_app(database_url: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url or os.environ.get(
        "BASELINE_DATABASE_URL", "sqlite://"
    )
    db.init_app(app)
    with app.app_context():
        _sqlite_pragmas(db.engine)

    @app.post("/bump/<int:counter_id>")
    def bump(counter_id: int) -> dict[str, Any]:
        counter = db.session.get(Counter, counter_id)
        if counter is None:
            abort(404)
        counter.value += 1
        counter.version += 1
        out = {"id": counter.id, "value": counter.value, "version": counter.version}
        db.session.commit()  # read before: after the commit the ORM would reload the row
        return out

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        db.session.execute(sa.text("SELECT 1"))
        return {"status": "ok"}

    return app


def create_schema(database_url: str, rows: int) -> None:
    """The counters table with `rows` rows at zero (ids 1..rows)."""
    app = create_app(database_url)
    with app.app_context():
        db.create_all()
        db.session.add_all(Counter(id=i, value=0, version=1) for i in range(1, rows + 1))
        db.session.commit()
        db.engine.dispose()


if __name__ == "__main__":
    create_schema(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 8)
