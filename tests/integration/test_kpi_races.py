"""The KPI tallies against the rows when writers overlap the refresher, for the writes a
plain change-by-change test does not make, and for a reader whose statements straddle a
commit. (Found in review; each failed before its fix.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from service.jobs import tasks as jobs
from service.reports import kpi
from service.store import repository as repo
from service.store.db import db
from tests.integration.conftest import World
from tests.integration.test_kpi import QUOTAS, _agree, _pg, _refresh, _sql
from tests.integration.test_kpi import any_fixture as any_fixture  # noqa: F401 (a fixture)


def _only_pg(world: World) -> None:
    if not _pg(world):
        pytest.skip("writers overlapping under READ COMMITTED: PostgreSQL (SQLite has one writer)")


def _racing(world: World, first: str, second: str) -> None:
    """`first` in an open transaction; `second` committed meanwhile; the worker's round;
    then `first` commits."""
    with world.app.app_context():
        t1 = db.engine.connect()
        tx = t1.begin()
        t1.execute(sa.text(first))
        _sql(world, second)
        recounted = jobs.refresh_kpi(seconds=1)["days"]
        tx.commit()
        t1.close()
    assert recounted == 0  # the refresher waits for the open transaction's lock


def test_a_volume_imported_while_a_visit_is_done(any_fixture: World) -> None:
    world = any_fixture
    _only_pg(world)
    _refresh(world)
    globex = world.customers["Globex"]
    _racing(
        world,
        "INSERT INTO cooperation_volumes (customer_id, period_start, amount, projects, new_areas,"
        f" updated_by, updated_at) VALUES ({globex}, '2026-06-01', 300, 0, 0, 'crm', now())",
        "UPDATE visits SET state = 'visited' WHERE state = 'planned'",
    )
    figures = _agree(world)
    assert figures[0]["cooperation"]["visits_compared"] == 4
    _refresh(world)
    assert _agree(world) == figures


def test_a_department_changed_while_a_visitor_is_added(any_fixture: World) -> None:
    world = any_fixture
    _only_pg(world)
    _refresh(world)
    _racing(
        world,
        "UPDATE users SET department = 'technical' WHERE username = 'mike'",
        "INSERT INTO visit_visitors (visit_id, username) SELECT id, 'mike' FROM visits"
        " WHERE state = 'recorded'",
    )
    figures = _agree(world)
    _refresh(world)
    assert _agree(world) == figures


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE visit_visitors SET username = 'amy' WHERE username = 'ted'",
        "DELETE FROM users WHERE username = 'tom'",
        "UPDATE users SET username = 'tommy' WHERE username = 'tom'",
    ],
    ids=["visitor-updated", "user-deleted", "user-renamed"],
)
def test_visitors_and_users_changed_by_hand(any_fixture: World, statement: str) -> None:
    world = any_fixture
    _refresh(world)
    before = _agree(world)
    with world.app.app_context(), db.engine.begin() as conn:
        if "users" in statement:  # what refers to tom besides his visits
            conn.execute(
                sa.text(
                    "DELETE FROM api_tokens WHERE user_id ="
                    " (SELECT id FROM users WHERE username = 'tom')"
                )
            )
        conn.execute(sa.text(statement))
    after = _agree(world)
    assert after != before
    _refresh(world)
    assert _agree(world) == after


@pytest.mark.parametrize(
    "statement",
    ["DELETE FROM transition_events", "UPDATE transition_events SET actor = 'someone'"],
)
def test_the_audit_trail_is_append_only(any_fixture: World, statement: str) -> None:
    world = any_fixture
    with world.app.app_context():
        count = db.session.execute(sa.text("SELECT count(*) FROM transition_events")).scalar()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(sa.text(statement))
        after = db.session.execute(sa.text("SELECT count(*) FROM transition_events")).scalar()
    assert count and after == count


def test_a_reader_sees_one_state_while_a_writer_commits(any_fixture: World) -> None:
    """The figures read the dirty days, the ragged ends, the tallies and the dirty runs in
    several statements; a visit moved from the ragged end into a clean whole day between
    them must be counted once, not in neither place."""
    world = any_fixture
    start = datetime.fromisoformat("2026-03-10T02:30:00+00:00")
    end = datetime.fromisoformat("2026-04-02T12:00:00+00:00")  # ragged end: 04-02 00:00-12:00
    stamp = "+00" if _pg(world) else ".000000"
    _sql(
        world,
        f"UPDATE visits SET planned_at = '2026-04-02 05:00:00{stamp}' WHERE state = 'visited'",
    )
    _refresh(world)
    moved: list[bool] = []

    def between(*_: Any) -> None:
        if not moved:
            moved.append(True)  # a writer commits between the reader's statements
            _sql(
                world,
                f"UPDATE visits SET planned_at = '2026-04-01 02:00:00{stamp}'"
                " WHERE state = 'visited'",
            )

    if not _pg(world):
        pytest.skip("SQLite: a writer waits for no reader, and the reader keeps its snapshot")
    with world.app.app_context(), repo.snapshot() as conn:
        sa.event.listen(conn, "after_cursor_execute", between)
        during = kpi.figures(conn, start, end, QUOTAS)
        sa.event.remove(conn, "after_cursor_execute", between)
    assert moved
    assert during["plan_completion"]["done"] == 1
