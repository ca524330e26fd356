"""KPI, ledger and inbox queries on a large SQLite database.

Builds a database migrated by Alembic with 100,000 customers, about 600,000 visits and
400,000 issues (with their visitors, resolve and confirm events, open deadlines, surveys and
quarterly cooperation volumes) by INSERT ... SELECT over recursive CTEs (the database's
triggers mark every day dirty), recounts the KPI tallies as the worker does, then times,
after a warm-up, `GET /api/v1/kpi` for the year (with the tallies up to date, and again
right after a week of visits changed, before the worker has recounted those days), the
issues ledger (`GET /api/v1/issues` filtered, as management and as a technical user) and
`service.usecases.inbox.inbox` for a marketing and a technical user. Prints p50/p99 of each; the
last line is one JSON object with `worst_p99_ms`. Also reported, and not counted in
`worst_p99_ms`: the compliance report's page for the year (`compliance_year`), which counts
every case of the year clause by clause. Benchmarks never assert.

    .venv/bin/python bench/kpi.py [--customers 100000] [--visits 600000] [--issues 400000]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _support import folder_with_redis, percentile

TS = "strftime('%Y-%m-%d %H:%M:%S.000000', {base}, {offset})"


def _ts(base: str, seconds: str) -> str:
    return TS.format(base=base, offset=f"'+' || ({seconds}) || ' seconds'")


def _series(n: int) -> str:
    return f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) "


def generate(path: Path, customers: int, visits: int, issues: int) -> dict[str, int]:
    """Bulk rows straight into the migrated file: one transaction, synchronous off."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA journal_mode = MEMORY")
    db.execute("PRAGMA cache_size = -400000")
    now = "'2026-01-01 00:00:00.000000'"
    planned = _ts("'2025-07-01'", "(i * 7907) % 47304000")  # over 18 months
    customer = f"((i * 7919) % {customers}) + 1"
    surveyed = _ts("'2026-01-01'", "(i * 7907) % 31536000")
    steps = [
        "INSERT INTO departments (code, name) VALUES ('marketing', 'Marketing'),"
        " ('technical', 'Technical'), ('management', 'Management')",
        "INSERT INTO users (username, password_hash, role, department, active, created_at) "
        + _series(50)
        + f"SELECT 'm' || (i - 1), 'x', 'marketing_staff', 'marketing', 1, {now} FROM n "
        f"UNION ALL SELECT 't' || (i - 1), 'x', 'technical', 'technical', 1, {now} FROM n "
        f"UNION ALL SELECT 'boss', 'x', 'management', 'management', 1, {now} WHERE 0 = 0",
        "INSERT INTO customers (id, name, tier, criteria, contacts, created_at, updated_at) "
        + _series(customers)
        + "SELECT i, 'Customer ' || i, CASE WHEN i % 10 = 0 THEN 'core' WHEN i % 10 < 4"
        f" THEN 'important' ELSE 'general' END, '[]', '[]', {now}, {now} FROM n",
        "INSERT INTO visits (id, definition_version, state, version, data, overdue, created_by,"
        " created_at, updated_at, customer_id, planned_at, visitors, topics) "
        + _series(visits)
        + "SELECT i, 1, CASE i % 8 WHEN 0 THEN 'planned' WHEN 1 THEN 'prepared' WHEN 2 THEN"
        " 'visited' WHEN 3 THEN 'recorded' WHEN 7 THEN 'cancelled' ELSE 'reported' END, 1,"
        f" '{{}}', 0, 'm' || (i % 50), {planned}, {planned}, {customer}, {planned},"
        " json_array('m' || (i % 50), 't' || (i % 50)), '[]' FROM n",
        "INSERT INTO visit_visitors (visit_id, username) SELECT id, 'm' || (id % 50) FROM visits"
        " UNION ALL SELECT id, 't' || (id % 50) FROM visits WHERE id % 2 = 0",
        "INSERT INTO issues (id, definition_version, state, version, data, overdue, created_by,"
        " created_at, updated_at, visit_id, customer_id, title, description, category,"
        " severity, responsible_department, responsible_person, due_at) "
        "SELECT v.id, 1, CASE v.id % 5 WHEN 0 THEN 'raised' WHEN 1 THEN 'assigned' WHEN 2"
        " THEN 'resolved' ELSE 'customer_confirmed' END, 1, '{}', 0, v.created_by,"
        f" {_ts('v.planned_at', '86400')}, {_ts('v.planned_at', '86400')}, v.id,"
        " v.customer_id, 'Issue ' || v.id, 'd', 'quality', CASE v.id % 4 WHEN 0 THEN 'low'"
        " WHEN 1 THEN 'medium' WHEN 2 THEN 'high' ELSE 'critical' END,"
        " CASE WHEN v.id % 5 = 0 THEN NULL ELSE 'technical' END,"
        " CASE WHEN v.id % 5 = 0 THEN NULL ELSE 't' || (v.id % 50) END,"
        f" CASE WHEN v.id % 5 = 0 THEN NULL ELSE {_ts('v.planned_at', 15 * 86400)} END"
        f" FROM visits v WHERE v.id <= {issues}",
        "INSERT INTO transition_events (workflow, instance_id, at, actor, source, trigger,"
        " from_state, to_state, version, data) SELECT 'issue', id, "
        + _ts("created_at", "(id % 20) * 86400")
        + ", responsible_person, 'api', 'resolve', 'assigned', 'resolved', 3, '{}' FROM issues"
        " WHERE state IN ('resolved', 'customer_confirmed')",
        "INSERT INTO transition_events (workflow, instance_id, at, actor, source, trigger,"
        " from_state, to_state, version, data) SELECT 'issue', id, "
        + _ts("created_at", "(id % 20 + 1) * 86400")
        + ", created_by, 'api', 'confirm', 'resolved', 'customer_confirmed', 4,"
        " json_object('satisfaction', id % 5 + 1) FROM issues"
        " WHERE state = 'customer_confirmed'",
        "INSERT INTO deadlines (workflow, instance_id, kind, state, version, due_at, status,"
        " created_at) SELECT 'issue', id, CASE state WHEN 'raised' THEN 'assign' ELSE"
        f" 'resolve' END, state, 1, {_ts('created_at', 15 * 86400)}, 'open', created_at"
        " FROM issues WHERE state IN ('raised', 'assigned')",
        "INSERT INTO deadlines (workflow, instance_id, kind, state, version, due_at, status,"
        f" created_at) SELECT 'visit', id, 'record', state, 1, {_ts('planned_at', 3 * 86400)},"
        " 'open', planned_at FROM visits WHERE state = 'visited'",
        "INSERT INTO customer_surveys (customer_id, surveyed_at, score, created_by, created_at) "
        + _series(customers)
        + f"SELECT i, {surveyed}, i % 5 + 1, 'm0',"
        f" {now} FROM n",
        "INSERT INTO cooperation_volumes (customer_id, period_start, amount, projects,"
        " new_areas, updated_by, updated_at) SELECT c.id, q.d, (c.id % 97) * 1000 + q.k * 10,"
        " (c.id + q.k) % 3 = 0, (c.id + q.k) % 7 = 0, 'crm', " + now + " FROM customers c,"
        " (SELECT '2025-10-01' AS d, 0 AS k UNION ALL SELECT '2026-01-01', 1 UNION ALL"
        " SELECT '2026-04-01', 2 UNION ALL SELECT '2026-07-01', 3 UNION ALL"
        " SELECT '2026-10-01', 4) q",
    ]
    with db:
        for sql in steps:
            db.execute(sql)
    db.execute("ANALYZE")
    counts = {
        t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in (
            "customers",
            "visits",
            "visit_visitors",
            "issues",
            "transition_events",
            "deadlines",
            "customer_surveys",
            "cooperation_volumes",
        )  # fmt: skip
    }
    db.close()
    return counts


def timed(label: str, run: Callable[[], Any], runs: int) -> dict[str, float]:
    run()  # warm-up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
    print(f"{label:40s} p50 {p50:8.1f} ms   p99 {p99:8.1f} ms", flush=True)
    return {"p50_ms": round(p50, 1), "p99_ms": round(p99, 1)}


def busy_week(path: Path, run: Callable[[], Any], runs: int) -> dict[str, float]:
    """The KPI query right after visits of a week were done or undone (seven dirty days)."""
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "UPDATE visits SET state = CASE state WHEN 'visited' THEN 'prepared' ELSE"
            " 'visited' END WHERE state IN ('visited', 'prepared')"
            " AND planned_at >= '2026-06-01' AND planned_at < '2026-06-08'"
        )
    dirty = db.execute("SELECT count(DISTINCT day) FROM kpi_dirty").fetchone()[0]
    db.close()
    return timed(f"GET /kpi, {dirty} days not yet recounted", run, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=600_000)
    parser.add_argument("--issues", type=int, default=400_000)
    parser.add_argument("--runs", type=int, default=20)
    opts = parser.parse_args()
    with folder_with_redis("visitflow-bench-kpi-") as (folder, redis_url):
        path = folder / "visitflow.db"
        os.environ.update(
            DATABASE_URL=f"sqlite:///{path}", REDIS_URL=redis_url, SECRET_KEY="bench-secret"
        )
        from flask_migrate import upgrade

        from service import create_app
        from service.store.db import db
        from service.store.models import ApiToken, User
        from service.usecases.accounts import hash_token
        from service.usecases.inbox import inbox
        from workflows import Actor

        app = create_app({"AUTH_CACHE_SECONDS": 0})
        with app.app_context():
            upgrade()
            db.engine.dispose()
        start = time.perf_counter()
        counts = generate(path, opts.customers, opts.visits, opts.issues)
        built = time.perf_counter() - start
        print(f"generated in {built:.1f} s: {json.dumps(counts)}", flush=True)
        from service.jobs import tasks as jobs

        start = time.perf_counter()
        with app.app_context():
            recounted = 0
            while (n := jobs.refresh_kpi(seconds=60)["days"]) > 0:
                recounted += n
        refreshed = time.perf_counter() - start
        print(f"KPI tallies of {recounted} days recounted in {refreshed:.1f} s", flush=True)

        client = app.test_client()
        headers: dict[str, dict[str, str]] = {}
        with app.app_context():
            for name in ("boss", "t7"):
                user = db.session.execute(db.select(User).filter_by(username=name)).scalar_one()
                db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(f"tk-{name}")))
                headers[name] = {"Authorization": f"Bearer tk-{name}"}
            db.session.commit()

        def get(path: str, user: str) -> Callable[[], Any]:
            def run() -> Any:
                r = client.get(path, headers=headers[user])
                if r.status_code != 200:
                    raise SystemExit(f"{path}: {r.status_code} {r.get_data(as_text=True)}")
                return r

            return run

        def inbox_of(actor: Actor) -> Callable[[], Any]:
            def run() -> Any:
                with app.test_request_context():
                    return inbox(actor, 1, 50)

            return run

        year = "from=2026-01-01T00:00:00%2B08:00&to=2027-01-01T00:00:00%2B08:00"
        results = {
            "kpi_year": timed(
                "GET /kpi (the year 2026)", get(f"/api/v1/kpi?{year}", "boss"), opts.runs
            ),
            "kpi_year_busy": busy_week(path, get(f"/api/v1/kpi?{year}", "boss"), opts.runs),
            "ledger_management": timed(
                "GET /issues?state=assigned&department=",
                get("/api/v1/issues?state=assigned&department=technical&page=3", "boss"),
                opts.runs,
            ),
            "ledger_technical": timed(
                "GET /issues?severity=high (technical)",
                get("/api/v1/issues?severity=high", "t7"),
                opts.runs,
            ),
            "inbox_marketing": timed(
                "inbox (marketing staff m7)",
                inbox_of(Actor("m7", "marketing_staff", "marketing")),
                opts.runs,
            ),
            "inbox_technical": timed(
                "inbox (technical t7)", inbox_of(Actor("t7", "technical", "technical")), opts.runs
            ),
        }
        web = app.test_client()
        with web.session_transaction() as session:
            session["_user_id"] = "boss"  # signed in to the pages (Flask-Login) as management

        def page(path: str) -> Callable[[], Any]:
            def run() -> Any:
                r = web.get(path)
                if r.status_code != 200:
                    raise SystemExit(f"{path}: {r.status_code}")
                return r

            return run

        extra = {
            "compliance_year": timed(
                "GET /compliance (the year 2026, page)",
                page("/compliance?from=2026-01-01&to=2027-01-01"),
                opts.runs,
            ),
        }
        with app.app_context():
            db.engine.dispose()
    worst = max(r["p99_ms"] for r in results.values())
    summary = {
        "bench": "kpi",
        "target_p99_ms": 200,
        "worst_p99_ms": worst,
        "generate_s": round(built, 1),
        "tallies_recount_s": round(refreshed, 1),
        "counts": counts,
        **results,
        **extra,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
