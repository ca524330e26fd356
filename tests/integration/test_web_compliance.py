"""The compliance report: clause by clause, the compliant cases and the exceptions, as a
page with the first exceptions of each clause, a page per clause that pages through all of
them, and an Excel workbook with one sheet per clause holding every one."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from service.core import runtime
from service.store.db import db
from service.store.models import Deadline, RectificationNotice, TransitionEvent, Visit
from tests.integration.conftest import World
from tests.integration.test_kpi import _at, _event, _issue, _visit
from tests.integration.web import Browser
from workflows.quotas import Quotas

PERIOD = "from=2026-01-01&to=2027-01-01"
CLAUSES = ["3(二)", "3(三)", "4(二)", "4(三)", "5(一)", "5(一)3", "7(一)3"]


def _fixture(world: World) -> dict[str, int]:
    """Acme: two visits recorded in time and reported, planned a week ahead; Globex: one
    visit planned the same day, its record late (a fired deadline); one issue confirmed on
    time, one resolved late, one open; one notice verified, one not."""
    ids: dict[str, int] = {}
    with world.app.app_context():
        acme, globex = world.customers["Acme"], world.customers["Globex"]
        ids["good"] = _visit(acme, "2026-03-10T02:00:00", "reported", ["mary"])
        ids["good2"] = _visit(acme, "2026-04-10T02:00:00", "reported", ["mary"])
        ids["late"] = _visit(globex, "2026-05-10T02:00:00", "recorded", ["tom"])
        for key, created in (
            ("good", "2026-03-01T02:00:00"),
            ("good2", "2026-04-01T02:00:00"),
            ("late", "2026-05-10T00:00:00"),
        ):
            db.session.get(Visit, ids[key]).created_at = _at(created)
        db.session.add(
            Deadline(
                workflow="visit",
                instance_id=ids["late"],
                kind="record",
                state="visited",
                version=3,
                due_at=_at("2026-05-12T10:00:00"),
                status="fired",
                fired_at=_at("2026-05-12T10:00:00"),
            )
        )
        ids["ok_issue"] = _issue(acme, "2026-03-11T02:00:00", "customer_confirmed", "2026-03-20")
        _event(ids["ok_issue"], "resolve", "2026-03-15T02:00:00")
        ids["late_issue"] = _issue(acme, "2026-03-12T02:00:00", "customer_confirmed", "2026-03-20")
        _event(ids["late_issue"], "resolve", "2026-03-25T02:00:00")
        ids["open_issue"] = _issue(globex, "2026-05-11T02:00:00", "assigned", "2026-06-01")
        for key, state, verified in (
            ("ok_notice", "verified", True),
            ("open_notice", "rectified", False),
        ):
            notice = RectificationNotice(
                definition_version=1,
                state=state,
                data={},
                created_by="sara",
                department="technical",
                findings="f",
                due_at=_at("2026-06-30T00:00:00"),
            )
            db.session.add(notice)
            db.session.flush()
            ids[key] = int(notice.id)
            if verified:
                db.session.add(
                    TransitionEvent(
                        workflow="rectification",
                        instance_id=notice.id,
                        at=datetime(2026, 6, 20, tzinfo=UTC),
                        actor="sara",
                        source="web",
                        trigger="verify",
                        from_state="rectified",
                        to_state="verified",
                        version=4,
                        data={},
                    )
                )
        db.session.commit()
    return ids


def _sections(html: str) -> dict[str, str]:
    parts = html.split('<section class="clause"')[1:]
    return {clause: part for clause, part in zip(CLAUSES, parts, strict=True)}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("user", ["mary", "mike", "boss", "sara", "admin"])
def test_the_report_renders_for_the_kpi_readers(world: World, user: str, lang: str) -> None:
    _fixture(world)
    r = Browser(world, user, lang=lang).get(f"/compliance?{PERIOD}")
    assert r.status_code == 200, r.text
    assert r.text.count('<section class="clause"') == 7
    assert ("合规报告" if lang == "zh" else "Compliance report") in r.text


def test_others_may_not_see_the_report(world: World) -> None:
    b = Browser(world, "tom")
    assert b.get(f"/compliance?{PERIOD}").status_code == 403
    assert b.get(f"/compliance.xlsx?{PERIOD}").status_code == 403


def test_each_clause_counts_its_cases_and_lists_its_exceptions(world: World) -> None:
    ids = _fixture(world)
    r = Browser(world, "sara", lang="en").get(f"/compliance?{PERIOD}")
    s = _sections(r.text)
    # 3(二): Acme (core, 12) has 2, Globex (important, 6) 1, Initech (general, 2) none. By
    # the clock (2026-11-02) January to October have ended: core 10, important 5 (February,
    # April, June, August, October) and general 1 (June) are due, and each is short of them
    assert "0 of 3 cases compliant" in s["3(二)"]
    assert s["3(二)"].count('class="exception"') == 3
    assert s["3(二)"].count('class="in-progress-case"') == 0
    assert "Fewer visits than the tier requires (2/10)" in s["3(二)"]
    assert "Fewer visits than the tier requires (1/5)" in s["3(二)"]
    assert "Fewer visits than the tier requires (0/1)" in s["3(二)"]
    # 3(三): the Globex visit was planned the day it took place
    assert "2 of 3 cases compliant" in s["3(三)"]
    assert f'data-object="visit-{ids["late"]}"' in s["3(三)"]
    assert f'href="/visits/{ids["late"]}"' in s["3(三)"]
    # 4(三): one late record, one exception
    assert "2 of 3 cases compliant" in s["4(三)"]
    assert s["4(三)"].count('class="exception"') == 1
    assert f'data-object="visit-{ids["late"]}"' in s["4(三)"]
    assert "Record deadline passed" in s["4(三)"]
    # 5(一): the recorded visit has no report yet
    assert "2 of 3 cases compliant" in s["5(一)"]
    assert "No report yet" in s["5(一)"]
    # 5(一)3: one issue late, one open
    assert "1 of 3 cases compliant" in s["5(一)3"]
    assert f'data-object="issue-{ids["late_issue"]}"' in s["5(一)3"]
    assert f'data-object="issue-{ids["open_issue"]}"' in s["5(一)3"]
    assert f'href="/issues/{ids["ok_issue"]}"' not in s["5(一)3"]
    # 7(一)3: one notice not verified
    assert "1 of 2 cases compliant" in s["7(一)3"]
    assert f'href="/notices/{ids["open_notice"]}"' in s["7(一)3"]


def test_a_customer_with_the_visits_due_so_far_is_in_progress_not_an_exception(
    world: World,
) -> None:
    _fixture(world)
    with world.app.app_context():
        _visit(world.customers["Initech"], "2026-05-10T02:00:00", "reported", ["mary"])
        db.session.commit()
    s = _sections(Browser(world, "sara", lang="en").get(f"/compliance?{PERIOD}").text)
    # by 2026-11-02 Initech (general, 2 a year) owes June's visit and has it; December's is
    # not yet due: in progress, 1 of the year's 2. Acme and Globex are behind what is due.
    initech = s["3(二)"].split(f'data-object="customer-{world.customers["Initech"]}"')[1]
    assert "(1/2)" in initech.split("</tr>")[0]
    assert s["3(二)"].count('class="exception"') == 2
    assert "In progress: 1" in s["3(二)"]


def test_a_period_without_the_cases_has_no_exceptions_but_the_quota(world: World) -> None:
    _fixture(world)
    r = Browser(world, "sara", lang="en").get("/compliance?from=2025-01-01&to=2025-07-01")
    s = _sections(r.text)
    for clause in CLAUSES[1:]:
        assert "0 of 0 cases compliant" in s[clause], clause
        assert "No exceptions." in s[clause]


def test_the_workbook_has_a_sheet_per_clause_with_the_same_exceptions(world: World) -> None:
    ids = _fixture(world)
    b = Browser(world, "sara", lang="en")
    r = b.client.get(f"/compliance.xlsx?{PERIOD}")
    assert r.status_code == 200
    assert r.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == CLAUSES
    html = _sections(b.get(f"/compliance?{PERIOD}").text)
    for clause in CLAUSES:
        rows = list(book[clause].iter_rows(min_row=5, values_only=True))
        listed = sorted(str(row[1]) for row in rows)
        shown = sorted(
            part.split('"')[0].split("-")[-1] for part in html[clause].split('data-object="')[1:]
        )
        assert listed == shown, clause
    cases = list(book["4(三)"].iter_rows(min_row=3, max_row=3, values_only=True))[0]
    assert cases[:4] == ("Cases", 3, "Compliant", 2)
    row = list(book["4(三)"].iter_rows(min_row=5, values_only=True))[0]
    assert row[:4] == ("Visit", ids["late"], "Globex", "Record deadline passed")


def test_the_clauses_count_alike_on_sqlite_and_postgresql(any_world: World) -> None:
    from service.reports import compliance

    ids = _fixture(any_world)
    with any_world.app.app_context():
        quotas = runtime.quotas()
        with db.engine.connect() as conn:
            end = _at("2027-01-01T00:00:00")
            sections = compliance.report(conn, _at("2026-01-01T00:00:00"), end, quotas, end)
    counts = {s["clause"]: (s["compliant"], s["total"]) for s in sections}
    assert counts == {
        "3(二)": (0, 3),
        "3(三)": (2, 3),
        "4(二)": (0, 3),  # these visits were marked visited through the API, no check-in
        "4(三)": (2, 3),
        "5(一)": (2, 3),
        "5(一)3": (1, 3),
        "7(一)3": (1, 2),
    }
    late = {(x["workflow"], x["id"], x["reason"]) for s in sections for x in s["exceptions"]}
    assert ("visit", ids["late"], "record_late") in late
    assert ("issue", ids["late_issue"], "resolved_late") in late
    assert ("rectification", ids["open_notice"], "not_verified") in late


def test_a_leap_year_asks_for_the_yearly_quota_and_a_half_year_for_half(world: World) -> None:
    from service.reports import compliance

    quotas = Quotas({"core": 12, "important": 6, "general": 2}, ZoneInfo("Asia/Shanghai"))
    with world.app.app_context(), db.engine.connect() as conn:
        end = _at("2029-01-01T00:00:00")
        leap = compliance.section(conn, "3(二)", _at("2028-01-01T00:00:00"), end, quotas, end)
        end = _at("2026-07-01T00:00:00")
        half = compliance.section(conn, "3(二)", _at("2026-01-01T00:00:00"), end, quotas, end)
    assert sorted(x["required"] for x in leap["exceptions"]) == [2, 6, 12]
    assert sorted(x["required"] for x in half["exceptions"]) == [1, 3, 6]


# -- paging: the report shows a page of each clause, the clause's page all of them ------------
def _planned_late(world: World, n: int) -> list[int]:
    """`n` more exceptions to 3(三): Initech visits in August, each created an hour before."""
    ids = []
    with world.app.app_context():
        for day in range(1, n + 1):
            planned = f"2026-08-{day:02d}T02:00:00"
            ids.append(_visit(world.customers["Initech"], planned, "planned", ["mary"]))
            db.session.get(Visit, ids[-1]).created_at = _at(planned) - timedelta(hours=1)
        db.session.commit()
    return ids


def _shown(html: str) -> list[str]:
    """The exceptions listed (not the cases in progress, listed apart)."""
    marker = '<tr class="exception" data-object="'
    return [part.split('"')[0] for part in html.split(marker)[1:]]


def _clause_pages(b: Browser, number: int) -> list[str]:
    """Every exception of the clause, page after page until the pager has no next."""
    seen: list[str] = []
    for page in range(1, 100):
        r = b.get(f"/compliance/{number}?{PERIOD}&page={page}")
        assert r.status_code == 200, r.text
        seen += _shown(r.text)
        if 'id="page-next"' not in r.text:
            return seen
    raise AssertionError("the pager never ends")


def test_the_report_shows_a_page_of_each_clause_and_links_to_the_rest(world: World) -> None:
    ids = _fixture(world)
    late = _planned_late(world, 4)
    world.app.config["COMPLIANCE_PER_PAGE"] = 3
    r = Browser(world, "sara", lang="en").get(f"/compliance?{PERIOD}")
    s = _sections(r.text)
    # 3(三): the Globex visit and four planned an hour ahead, first by planned time
    assert "2 of 7 cases compliant" in s["3(三)"]
    assert "Exceptions: 5" in s["3(三)"]
    assert _shown(s["3(三)"]) == [f"visit-{ids['late']}", f"visit-{late[0]}", f"visit-{late[1]}"]
    assert 'href="/compliance/2?from=2026-01-01&amp;to=2027-01-01"' in s["3(三)"]
    assert "All 5 exceptions, page by page" in s["3(三)"]
    # 5(一)3: two exceptions fit on the page: no link to more
    assert len(_shown(s["5(一)3"])) == 2
    assert "page by page" not in s["5(一)3"]


def test_a_clause_page_walks_every_exception_once_in_the_report_order(any_world: World) -> None:
    from service.reports import compliance

    ids = _fixture(any_world)
    late = _planned_late(any_world, 7)
    any_world.app.config["COMPLIANCE_PER_PAGE"] = 3
    b = Browser(any_world, "boss", lang="en")
    walked = _clause_pages(b, 2)
    assert walked == [f"visit-{n}" for n in [ids["late"], *late]]
    first = b.get(f"/compliance/2?{PERIOD}")
    assert "Page 1 of 3" in first.text
    assert "2 of 10 cases compliant" in first.text and "Exceptions: 8" in first.text
    last = b.get(f"/compliance/2?{PERIOD}&page=3")
    assert _shown(last.text) == [f"visit-{late[5]}", f"visit-{late[6]}"]
    assert 'id="page-prev"' in last.text and 'id="page-next"' not in last.text
    # every clause: its pages hold as many exceptions as it counts, as the full list has them
    with any_world.app.app_context(), db.engine.connect() as conn:
        full = compliance.report(
            conn,
            _at("2025-12-31T16:00:00"),  # the period in the business time zone (UTC+8)
            _at("2026-12-31T16:00:00"),
            runtime.quotas(),
            _at("2026-11-02T01:00:00"),  # the clock's now, before the period's end
        )
    for number, section in enumerate(full, start=1):
        listed = [f"{x['workflow']}-{x['id']}" for x in section["exceptions"]]
        assert _clause_pages(b, number) == listed, section["clause"]
        rest = section["total"] - section["compliant"] - section["in_progress_count"]
        assert section["exception_count"] == len(listed) == rest


def test_a_page_past_the_last_is_not_found_and_one_below_the_first_is_the_first(
    world: World,
) -> None:
    _fixture(world)
    _planned_late(world, 4)
    world.app.config["COMPLIANCE_PER_PAGE"] = 3
    b = Browser(world, "sara", lang="en")
    assert b.get(f"/compliance/2?{PERIOD}&page=2").status_code == 200
    assert b.get(f"/compliance/2?{PERIOD}&page=3").status_code == 404
    assert b.get(f"/compliance/2?{PERIOD}&page=999").status_code == 404
    first = _shown(b.get(f"/compliance/2?{PERIOD}").text)
    assert _shown(b.get(f"/compliance/2?{PERIOD}&page=0").text) == first
    assert _shown(b.get(f"/compliance/2?{PERIOD}&page=x").text) == first
    # a clause without exceptions has its first page, and no other
    empty = b.get("/compliance/2?from=2025-01-01&to=2025-07-01")
    assert empty.status_code == 200 and "No exceptions." in empty.text
    assert b.get("/compliance/2?from=2025-01-01&to=2025-07-01&page=2").status_code == 404


@pytest.mark.parametrize("number", ["0", "8", "99", "-1", "x"])
def test_a_clause_number_not_in_the_report_is_not_found(world: World, number: str) -> None:
    r = Browser(world, "sara").get(f"/compliance/{number}?{PERIOD}")
    assert r.status_code == 404


def test_the_clause_page_is_for_the_kpi_readers_and_a_period(world: World) -> None:
    _fixture(world)
    assert Browser(world, "tom").get(f"/compliance/1?{PERIOD}").status_code == 403
    assert Browser(world, "amy").get(f"/compliance/9?{PERIOD}").status_code == 403
    b = Browser(world, "mike")
    assert b.get(f"/compliance/1?{PERIOD}").status_code == 200
    assert b.get("/compliance/1?from=2027-01-01&to=2026-01-01").status_code == 422
    assert b.get("/compliance/1?from=2026-13-01").status_code == 422
    assert b.client.get(f"/compliance/1?{PERIOD}").status_code == 200
    assert Browser(world).client.get(f"/compliance/1?{PERIOD}").status_code == 302


def test_the_workbook_holds_every_exception_beyond_the_page(any_world: World) -> None:
    ids = _fixture(any_world)
    late = _planned_late(any_world, 7)
    any_world.app.config["COMPLIANCE_PER_PAGE"] = 3
    b = Browser(any_world, "sara", lang="en")
    r = b.client.get(f"/compliance.xlsx?{PERIOD}")
    assert r.status_code == 200
    assert r.headers["Content-Length"] == str(len(r.data))
    assert "compliance-2026-01-01-2027-01-01.xlsx" in r.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(r.data))["3(三)"]
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    assert [row[1] for row in rows] == [ids["late"], *late]
    assert list(sheet.iter_rows(min_row=3, max_row=3, values_only=True))[0][:4] == (
        "Cases",
        10,
        "Compliant",
        2,
    )
    assert [f"visit-{row[1]}" for row in rows] == _clause_pages(b, 2)


def test_a_visit_planned_24_hours_ahead_is_in_time_and_a_microsecond_less_is_not(
    any_world: World,
) -> None:
    """The SQL of "less than a day" on SQLite (text) and PostgreSQL (timestamptz) alike."""
    from service.reports import compliance

    cases = {  # created, planned
        "a_day": ("2026-03-09T02:00:00.999999", "2026-03-10T02:00:00.999999"),
        "a_day_less_1us": ("2026-03-09T02:00:00.999999", "2026-03-10T02:00:00.999998"),
        "a_day_more_1us": ("2026-03-09T02:00:00.999999", "2026-03-10T02:00:01"),
        "half_a_second_less": ("2026-03-09T02:00:00.5", "2026-03-10T02:00:00.000001"),
        "created_after": ("2026-03-10T03:00:00", "2026-03-10T02:00:00"),
        "a_week": ("2026-03-03T02:00:00", "2026-03-10T02:00:00"),
    }
    ids = {}
    with any_world.app.app_context():
        for key, (created, planned) in cases.items():
            ids[key] = _visit(any_world.customers["Acme"], planned, "planned", [])
            db.session.get(Visit, ids[key]).created_at = _at(created)
        db.session.commit()
        quotas = runtime.quotas()
        with db.engine.connect() as conn:
            end = _at("2026-04-01T00:00:00")
            section = compliance.section(
                conn, "3(三)", _at("2026-03-01T00:00:00"), end, quotas, end
            )
    late = {x["id"] for x in section["exceptions"]}
    assert late == {ids["a_day_less_1us"], ids["half_a_second_less"], ids["created_after"]}
    assert (section["total"], section["compliant"]) == (6, 3)


def test_streamed_in_small_chunks_the_exceptions_are_the_full_list(any_world: World) -> None:
    from service.reports import compliance

    _fixture(any_world)
    _planned_late(any_world, 7)
    with any_world.app.app_context(), db.engine.connect() as conn:
        quotas = runtime.quotas()
        for clause in compliance.CLAUSES:
            end = _at("2027-01-01T00:00:00")
            cases = compliance.cases(clause, _at("2026-01-01T00:00:00"), end, quotas, end)
            full = compliance.exceptions(conn, cases)
            assert list(compliance.stream(conn, cases, chunk=2)) == full, clause
            assert compliance.count(conn, cases)[1] == len(full), clause
            pages = [compliance.exceptions(conn, cases, 2, k) for k in range(0, len(full) + 2, 2)]
            assert [x for page in pages for x in page] == full, clause


def test_before_a_month_ends_its_visits_are_in_progress_never_exceptions(world: World) -> None:
    from service.reports import compliance

    quotas = Quotas({"core": 12, "important": 6, "general": 2}, ZoneInfo("Asia/Shanghai"))
    start, end = _at("2025-12-31T16:00:00"), _at("2026-01-31T16:00:00")  # January, Shanghai
    with world.app.app_context(), db.engine.connect() as conn:
        # 31 January 23:59:59: January's visit (core only) is not yet due
        running = compliance.section(conn, "3(二)", start, end, quotas, _at("2026-01-31T15:59:59"))
        over = compliance.section(conn, "3(二)", start, end, quotas, end)
    acme = world.customers["Acme"]
    assert (running["total"], running["exception_count"], running["in_progress_count"]) == (1, 0, 1)
    assert [(x["id"], x["done"], x["required"]) for x in running["in_progress"]] == [(acme, 0, 1)]
    assert (over["exception_count"], over["in_progress_count"]) == (1, 0)
    assert [(x["id"], x["done"], x["required"]) for x in over["exceptions"]] == [(acme, 0, 1)]
