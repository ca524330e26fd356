"""The evaluation figures against a hand-computed fixture, and the KPI inputs' refusals.

The period is the year 2026 (UTC): it holds every month-end of 2026 in Shanghai (1 January
2026 00:00 there is 31 December 2025 16:00 UTC, before it; 1 January 2027 00:00 there is
inside it), so the yearly tier quotas apply whole (core 12, important 6, general 2: 20
visits due of Acme, Globex and Initech).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from service.jobs import tasks as jobs
from service.reports import kpi
from service.store import repository as repo
from service.store.db import db
from service.store.models import Issue, KpiDirty, KpiTally, TransitionEvent, Visit, VisitVisitor
from tests.integration.conftest import World
from workflows.quotas import Quotas

PERIOD = "from=2026-01-01T00:00:00%2B00:00&to=2027-01-01T00:00:00%2B00:00"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _visit(customer: int, planned: str, state: str, visitors: list[str]) -> int:
    visit = Visit(
        definition_version=1,
        state=state,
        data={},
        created_by="mary",
        customer_id=customer,
        planned_at=_at(planned),
        visitors=visitors,
        topics=[],
    )
    db.session.add(visit)
    db.session.flush()
    db.session.add_all(VisitVisitor(visit_id=visit.id, username=u) for u in visitors)
    return int(visit.id)


def _issue(customer: int, created: str, state: str, due: str | None) -> int:
    issue = Issue(
        definition_version=1,
        state=state,
        data={},
        created_by="mary",
        created_at=_at(created),
        customer_id=customer,
        title="t",
        description="d",
        category="quality",
        severity="minor",
        due_at=_at(due) if due else None,
    )
    db.session.add(issue)
    db.session.flush()
    return int(issue.id)


def _event(issue: int, trigger: str, at: str, data: dict[str, Any] | None = None) -> None:
    db.session.add(
        TransitionEvent(
            workflow="issue",
            instance_id=issue,
            at=_at(at),
            actor="mary",
            source="api",
            trigger=trigger,
            from_state="x",
            to_state="y",
            version=1,
            data=data or {},
        )
    )


@pytest.fixture
def fixture(world: World) -> World:
    return _build(world)


@pytest.fixture
def any_fixture(any_world: World) -> World:
    return _build(any_world)


def _build(world: World) -> World:
    acme, globex, initech = (world.customers[n] for n in ("Acme", "Globex", "Initech"))
    with world.app.app_context():
        _visit(acme, "2026-03-10 02:00", "reported", ["mary", "tom"])
        _visit(acme, "2026-06-10 02:00", "recorded", ["mary"])
        _visit(acme, "2026-07-01 02:00", "cancelled", ["mary", "ted"])
        _visit(globex, "2026-04-01 02:00", "visited", ["mike"])
        _visit(globex, "2026-05-01 02:00", "planned", ["mike"])
        _visit(initech, "2025-12-31 02:00", "reported", ["mary"])  # before the period
        on_time = _issue(acme, "2026-03-10 03:00", "customer_confirmed", "2026-03-20 00:00")
        _event(on_time, "resolve", "2026-03-18 00:00")
        _event(on_time, "confirm", "2026-03-19 00:00", {"satisfaction": 5})
        late = _issue(acme, "2026-03-11 03:00", "resolved", "2026-03-20 00:00")
        _event(late, "resolve", "2026-03-15 00:00")  # reopened, then resolved late
        _event(late, "resolve", "2026-03-25 00:00")
        _issue(globex, "2026-04-02 00:00", "assigned", "2026-04-10 00:00")
        no_due = _issue(globex, "2026-04-03 00:00", "customer_confirmed", None)
        _event(no_due, "resolve", "2026-04-05 00:00")
        _event(no_due, "confirm", "2026-04-06 00:00", {"satisfaction": 2})
        old = _issue(initech, "2025-12-01 00:00", "customer_confirmed", None)
        _event(old, "confirm", "2025-12-05 00:00", {"satisfaction": 1})  # before the period
        db.session.commit()
    surveys = [
        {"customer_id": acme, "surveyed_at": "2026-05-01T10:00:00+08:00", "score": 4},
        {"customer_id": globex, "surveyed_at": "2026-06-01T10:00:00+08:00", "score": 5},
        {"customer_id": acme, "surveyed_at": "2025-11-01T10:00:00+08:00", "score": 1},
    ]
    assert world.post("/api/v1/customer-surveys", "mary", surveys).status_code == 201
    volumes = [
        {"customer_id": acme, "period_start": "2026-01-01", "amount": "100"},
        {"customer_id": acme, "period_start": "2026-03-01", "amount": "50"},
        {"customer_id": acme, "period_start": "2026-03-10", "amount": "10"},  # the visit's day
        {"customer_id": acme, "period_start": "2026-04-01", "amount": "200", "projects": 1},
        {"customer_id": acme, "period_start": "2027-01-01", "amount": "1000"},  # after the period
        {"customer_id": globex, "period_start": "2026-03-01", "amount": "100"},
        {"customer_id": globex, "period_start": "2026-05-01", "amount": "150", "new_areas": 2},
        {"customer_id": initech, "period_start": "2026-06-01", "amount": "999", "projects": 3},
    ]
    r = world.post("/api/v1/cooperation-volumes", "crm", volumes)
    assert r.status_code == 200, r.get_json()
    return world


EXPECTED: dict[str, Any] = {
    "plan_completion": {
        "required": 20,
        "done": 3,
        "rate": 0.15,
        "by_tier": [
            {"tier": "core", "customers": 1, "required": 12, "done": 2, "rate": 0.1667},
            {"tier": "general", "customers": 1, "required": 2, "done": 0, "rate": 0.0},
            {"tier": "important", "customers": 1, "required": 6, "done": 1, "rate": 0.1667},
        ],
        "by_department": [
            {"department": "marketing", "planned": 5, "done": 3, "rate": 0.6},
            {"department": "technical", "planned": 2, "done": 1, "rate": 0.5},
        ],
        "by_person": [
            {"person": "mary", "planned": 3, "done": 2, "rate": 0.6667},
            {"person": "mike", "planned": 2, "done": 1, "rate": 0.5},
            {"person": "ted", "planned": 1, "done": 0, "rate": 0.0},
            {"person": "tom", "planned": 1, "done": 1, "rate": 1.0},
        ],
    },
    "issues": {
        "raised": 4,
        "resolved": 3,
        "resolution_rate": 0.75,
        "resolved_with_deadline": 2,
        "on_time": 1,
        "on_time_rate": 0.5,
    },
    "satisfaction": {
        "confirmations": 2,
        "confirmation_average": 3.5,
        "surveys": 2,
        "survey_average": 4.5,
        "average": 4.0,
    },
    # Done visits against the volume period each fell in and the next one: Acme 03-10
    # (03-10: 10 → 04-01: 200), Acme 06-10 (04-01: 200 → 2027-01-01: 1000), Globex 04-01
    # (03-01: 100 → 05-01: 150). Loyalty counts the volumes starting in 2026.
    "cooperation": {
        "visits_compared": 3,
        "volume_before": 310.0,
        "volume_after": 1350.0,
        "growth": 4.3548,
        "new_projects": 4,
        "new_areas": 2,
        "volumes_with_new_business": 3,
    },
}


def test_figures_match_the_hand_computed_ones(fixture: World) -> None:
    r = fixture.get(f"/api/v1/kpi?{PERIOD}", "boss")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    for section, expected in EXPECTED.items():
        assert body[section] == expected, section
    plan = body["plan_completion"]
    assert all(type(x["required"]) is int for x in [plan, *plan["by_tier"]])


def _plan(world: World, start: str, end: str) -> dict[str, Any]:
    query = f"from={start.replace('+', '%2B')}&to={end.replace('+', '%2B')}"
    r = world.get(f"/api/v1/kpi?{query}", "boss")
    assert r.status_code == 200, r.get_json()
    plan: dict[str, Any] = r.get_json()["plan_completion"]
    return plan


def _tiers(plan: dict[str, Any]) -> dict[str, tuple[int, int, float | None]]:
    return {t["tier"]: (t["required"], t["done"], t["rate"]) for t in plan["by_tier"]}


def test_a_month_owes_only_the_visits_due_at_its_end(fixture: World) -> None:
    # March in Shanghai: core's third visit (12 a year) is due at its end; important (6:
    # February, April...) and general (2: June, December) owe none, so they have no rate.
    # Done in March: Acme's reported visit of 03-10.
    plan = _plan(fixture, "2026-03-01T00:00:00+08:00", "2026-04-01T00:00:00+08:00")
    assert _tiers(plan) == {
        "core": (1, 1, 1.0),
        "general": (0, 0, None),
        "important": (0, 0, None),
    }
    assert (plan["required"], plan["done"], plan["rate"]) == (1, 1, 1.0)
    query = "from=2026-03-01T00:00:00%2B08:00&to=2026-04-01T00:00:00%2B08:00"
    r = fixture.get(f"/api/v1/kpi/export.csv?{query}", "boss")
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    tier = "Visit plan completion by customer tier"
    assert [tier, "General", "Required", "0"] in rows
    assert [tier, "General", "Rate", ""] in rows  # no rate where nothing is due
    assert [tier, "Core", "Required", "1"] in rows


def test_a_quarter_owes_its_month_ends_and_the_last_second_is_not_yet_june_s_end(
    fixture: World,
) -> None:
    # April to June: core 3 (April, May, June), important 2 (April, June), general 1 (June);
    # done: Globex's visit of 04-01 10:00 (Shanghai) and Acme's of 06-10.
    plan = _plan(fixture, "2026-04-01T00:00:00+08:00", "2026-07-01T00:00:00+08:00")
    assert _tiers(plan) == {
        "core": (3, 1, 0.3333),
        "general": (1, 0, 0.0),
        "important": (2, 1, 0.5),
    }
    assert (plan["required"], plan["done"], plan["rate"]) == (6, 2, 0.3333)
    # ending at 23:59:59 on 30 June, June has not ended: its visits are not yet due
    plan = _plan(fixture, "2026-04-01T00:00:00+08:00", "2026-06-30T23:59:59+08:00")
    assert _tiers(plan) == {
        "core": (2, 1, 0.5),
        "general": (0, 0, None),
        "important": (1, 1, 1.0),
    }
    # the same end written in UTC, one second later: 30 June 16:00 UTC is 1 July in Shanghai
    plan = _plan(fixture, "2026-04-01T00:00:00+08:00", "2026-06-30T16:00:00+00:00")
    assert plan["required"] == 6


def test_csv_and_excel_exports_carry_the_same_figures(fixture: World) -> None:
    r = fixture.get(f"/api/v1/kpi/export.csv?{PERIOD}", "sara")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Section", "Group", "Measure", "Value"]  # the API's language: English
    assert ["Issue resolution", "All", "On-time rate", "0.5"] in rows
    assert ["Visit plan completion by person", "mary", "Rate", "0.6667"] in rows
    assert ["Visit plan completion", "All", "Required", "20"] in rows
    assert ["Visit plan completion by customer tier", "Core", "Required", "12"] in rows
    r = fixture.get(f"/api/v1/kpi/export.xlsx?{PERIOD}", "mike")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.data)).active
    assert sheet is not None
    values = [tuple(row) for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert ("Cooperation growth and loyalty", "All", "Growth", 4.3548) in values
    assert ("Visit plan completion", "All", "Required", 20) in values
    assert len(values) == len(rows) - 1


@pytest.mark.parametrize("user", ["tom", "amy", "crm"])
def test_other_roles_may_not_read_the_figures(world: World, user: str) -> None:
    for path in ("/api/v1/kpi", "/api/v1/kpi/export.csv", "/api/v1/kpi/export.xlsx"):
        assert world.get(f"{path}?{PERIOD}", user).status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "",
        "from=yesterday&to=2027-01-01T00:00:00%2B00:00",
        "from=2026-01-01T00:00:00&to=2027-01-01T00:00:00",  # naive
        "from=2027-01-01T00:00:00%2B00:00&to=2026-01-01T00:00:00%2B00:00",  # reversed
    ],
)
def test_bad_periods_are_refused(world: World, query: str) -> None:
    assert world.get(f"/api/v1/kpi?{query}", "boss").status_code == 422


def test_csv_import_stores_rows_and_replaces_a_period(world: World) -> None:
    acme = world.customers["Acme"]
    text = (
        "customer_id,period_start,amount,projects,new_areas\n"
        f"{acme},2026-01-01,100.50,1,0\n"
        f"{acme},2026-02-01,80,,\n"
    )
    r = world.post("/api/v1/cooperation-volumes/import", "mary", data=text.encode())
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"stored": 2}
    again = f"customer_id,period_start,amount\n{acme},2026-01-01,120\n"
    files = {"file": (io.BytesIO(again.encode()), "volumes.csv")}
    r = world.client.post(
        "/api/v1/cooperation-volumes/import", headers=world.auth("mary"), data=files
    )
    assert r.status_code == 200, r.get_json()
    assert world.count("cooperation_volumes") == 2


@pytest.mark.parametrize(
    "line",
    ["{acme},2026-13-01,10", "{acme},2026-01-01,-5", "999999,2026-01-01,10", "{acme},2026-01-01,x"],
)
def test_a_bad_csv_row_stores_nothing(world: World, line: str) -> None:
    acme = world.customers["Acme"]
    text = f"customer_id,period_start,amount\n{acme},2026-05-01,10\n" + line.format(acme=acme)
    r = world.post("/api/v1/cooperation-volumes/import", "mary", data=text.encode())
    assert r.status_code == 422, r.get_json()
    assert "rows" in r.get_json()["errors"]
    assert world.count("cooperation_volumes") == 0


def test_bad_inputs_and_roles_of_the_recording_endpoints(world: World) -> None:
    acme = world.customers["Acme"]
    good = {"customer_id": acme, "surveyed_at": "2026-05-01T10:00:00+08:00", "score": 4}
    assert world.post("/api/v1/customer-surveys", "tom", good).status_code == 403
    for bad in ({**good, "score": 6}, {**good, "surveyed_at": "2026-05-01"}, [good, {}]):
        assert world.post("/api/v1/customer-surveys", "mary", bad).status_code == 422
    assert world.post("/api/v1/customer-surveys", "mary", "x").status_code == 422
    assert world.count("customer_surveys") == 0
    volume = {"customer_id": acme, "period_start": "2026-01-01", "amount": "1"}
    assert world.post("/api/v1/cooperation-volumes", "tom", [volume]).status_code == 403
    assert world.post("/api/v1/cooperation-volumes", "mary", [volume, volume]).status_code == 422
    assert world.post("/api/v1/cooperation-volumes", "mary", [volume]).status_code == 200
    assert world.count("cooperation_volumes") == 1
    assert world.post("/api/v1/customer-surveys", "mike", [good]).status_code == 201


TOO_BIG = 2**31  # one more than an INTEGER column holds (and than any id)
SURVEY = {"surveyed_at": "2026-05-01T10:00:00+08:00", "score": 4}
VOLUME = {"period_start": "2026-01-01", "amount": "1"}


@pytest.mark.parametrize(
    ("path", "row", "field"),
    [
        ("/api/v1/customer-surveys", {**SURVEY, "customer_id": TOO_BIG}, "customer_id"),
        ("/api/v1/cooperation-volumes", {**VOLUME, "customer_id": TOO_BIG}, "customer_id"),
        ("/api/v1/cooperation-volumes", {**VOLUME, "projects": TOO_BIG}, "projects"),
        ("/api/v1/cooperation-volumes", {**VOLUME, "amount": "1" + "0" * 17}, "amount"),
    ],
)
def test_numbers_beyond_their_columns_are_field_errors(
    any_world: World, path: str, row: dict[str, Any], field: str
) -> None:
    """On both databases: refused as a field error naming the bound, not overflowing SQL."""
    row = {"customer_id": any_world.customers["Acme"], **row}
    body = [row] if path.endswith("volumes") else row
    r = any_world.post(path, "mary", body)
    assert r.status_code == 422, r.get_json()
    assert "less than or equal to" in str(r.get_json()["errors"]), r.get_json()
    assert field in str(r.get_json()["errors"])
    assert any_world.count("customer_surveys") == any_world.count("cooperation_volumes") == 0


# -- the tallies ---------------------------------------------------------------------------
PERIODS = [
    ("2026-01-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"),  # whole UTC days
    ("2026-01-01T00:00:00+08:00", "2026-07-01T00:00:00+08:00"),  # a half-year in Beijing
    ("2026-03-10T02:30:00+00:00", "2026-04-02T12:00:00+00:00"),  # ragged ends
    ("2026-03-10T01:00:00+00:00", "2026-03-10T05:00:00+00:00"),  # within one day
]
QUOTAS = Quotas({"core": 12, "important": 6, "general": 2}, ZoneInfo("Asia/Shanghai"))


def _figures(world: World, tallies: bool) -> list[dict[str, Any]]:
    with world.app.app_context(), repo.reading() as conn:
        return [
            kpi.figures(conn, datetime.fromisoformat(a), datetime.fromisoformat(b), QUOTAS, tallies)
            for a, b in PERIODS
        ]


def _agree(world: World) -> list[dict[str, Any]]:
    """The figures from the tallies are those counted from the rows, for every period."""
    tallied = _figures(world, tallies=True)
    assert tallied == _figures(world, tallies=False)
    return tallied


def _refresh(world: World) -> None:
    with world.app.app_context():
        assert jobs.refresh_kpi()["days"] > 0
        assert db.session.execute(sa.select(sa.func.count()).select_from(KpiDirty)).scalar() == 0


def _sql(world: World, statement: str, **params: Any) -> None:
    with world.app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


# Each changes what a KPI counts, straight in SQL as any writer might: the triggers must
# mark the days whose tallies it makes stale.
CHANGES: list[tuple[str, str]] = [
    ("a visit done", "UPDATE visits SET state = 'visited' WHERE state = 'planned'"),
    (
        "a visit moved",
        "UPDATE visits SET planned_at = '2026-08-20 02:00:00' WHERE state = 'recorded'",
    ),
    (
        "a visitor added",
        "INSERT INTO visit_visitors (visit_id, username) SELECT id, 'tom'"
        " FROM visits WHERE state = 'visited'",
    ),
    ("a visitor removed", "DELETE FROM visit_visitors WHERE username = 'ted'"),
    ("a department changed", "UPDATE users SET department = 'technical' WHERE username = 'mary'"),
    ("a tier changed", "UPDATE customers SET tier = 'general' WHERE tier = 'core'"),
    ("an issue resolved", "UPDATE issues SET state = 'resolved' WHERE state = 'assigned'"),
    (
        "a deadline moved",
        "UPDATE issues SET due_at = '2026-03-30 00:00:00' WHERE state = 'resolved'",
    ),
    ("a survey rescored", "UPDATE customer_surveys SET score = 1 WHERE score = 5"),
    ("a survey removed", "DELETE FROM customer_surveys WHERE score = 4"),
    ("a volume changed", "UPDATE cooperation_volumes SET amount = 20 WHERE amount = 10"),
    ("a volume removed", "DELETE FROM cooperation_volumes WHERE amount = 150"),
    ("new business", "UPDATE cooperation_volumes SET projects = 5 WHERE amount = 100"),
]


def test_the_tallies_agree_with_the_rows_through_every_kind_of_change(any_fixture: World) -> None:
    world = any_fixture
    first = _agree(world)  # nothing recounted yet: every day is dirty
    assert first[0]["plan_completion"]["done"] == 3
    _refresh(world)
    with world.app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(KpiTally)).scalar()
    assert _agree(world) == first
    before = first
    for name, statement in CHANGES:
        if _pg(world):  # SQLite stores UTC times without their offset
            statement = statement.replace(":00:00'", ":00:00+00'")
        _sql(world, statement)
        now = _agree(world)  # the changed days are dirty, counted from the rows
        assert now != before, f"{name}: changed no figure"
        _refresh(world)
        assert _agree(world) == now, name
        before = now


def test_events_and_new_rows_mark_their_days(any_fixture: World) -> None:
    world = any_fixture
    _refresh(world)
    acme = world.customers["Acme"]
    with world.app.app_context():
        issue = db.session.execute(sa.select(sa.func.min(Issue.id))).scalar()
        _event(issue, "confirm", "2026-06-01 00:00", {"satisfaction": 1})
        _event(issue, "resolve", "2026-12-30 00:00")  # late now
        _visit(acme, "2026-09-01 02:00", "reported", ["mike"])
        _issue(acme, "2026-09-01 03:00", "raised", None)
        db.session.commit()
    volume = {"customer_id": acme, "period_start": "2026-09-01", "amount": "70"}
    assert world.post("/api/v1/cooperation-volumes", "crm", [volume]).status_code == 200
    survey = {"customer_id": acme, "surveyed_at": "2026-09-02T10:00:00+08:00", "score": 2}
    assert world.post("/api/v1/customer-surveys", "mary", [survey]).status_code == 201
    now = _agree(world)
    year = now[0]
    assert year["satisfaction"]["confirmations"] == 3 and year["satisfaction"]["surveys"] == 3
    assert year["issues"]["raised"] == 5 and year["issues"]["on_time"] == 0
    assert year["plan_completion"]["done"] == 4
    assert year["cooperation"]["visits_compared"] == 4
    _refresh(world)
    assert _agree(world) == now


def _pg(world: World) -> bool:
    with world.app.app_context():
        return bool(db.engine.dialect.name == "postgresql")
