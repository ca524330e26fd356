"""The compliance report tells items still running apart from exceptions: an item is an
exception only when its deadline has passed by the report's moment (the end of its period,
or now when the period runs into the future); one still running is "in progress"."""

from __future__ import annotations

from datetime import UTC, datetime

from service.store.db import db
from service.store.models import Deadline, RectificationNotice
from tests.integration.conftest import World
from tests.integration.test_kpi import _at, _issue, _visit
from tests.integration.web import Browser

YEAR = "from=2026-01-01&to=2027-01-01"  # runs past the clock's now, 2026-11-02 09:00 +08


def _notice(due: str, state: str = "rectified") -> int:
    notice = RectificationNotice(
        definition_version=1,
        state=state,
        data={},
        created_by="sara",
        department="technical",
        findings="f",
        due_at=_at(due),
    )
    db.session.add(notice)
    db.session.flush()
    return int(notice.id)


def _recorded_visit(customer: int, planned: str, report_due: str) -> int:
    id_ = _visit(customer, planned, "recorded", ["mary"])
    db.session.add(
        Deadline(
            workflow="visit",
            instance_id=id_,
            kind="report",
            state="recorded",
            version=3,
            due_at=_at(report_due),
            status="open",
        )
    )
    return id_


def _rows(html: str, clause_no: int, kind: str) -> list[str]:
    part = html.split(f'id="clause-{clause_no}"')[1].split("</section>")[0]
    return [x.split('"')[0] for x in part.split(f'<tr class="{kind}" data-object="')[1:]]


def test_items_not_yet_due_are_in_progress_and_the_past_due_exceptions(world: World) -> None:
    with world.app.app_context():
        acme = world.customers["Acme"]
        soon = _notice("2026-11-09T00:00:00")  # due next week
        past = _notice("2026-10-30T00:00:00")  # due last week, not verified
        later = _issue(acme, "2026-10-20T02:00:00", "assigned", "2026-11-20")
        overdue = _issue(acme, "2026-09-20T02:00:00", "assigned", "2026-10-01")
        future = _recorded_visit(acme, "2026-11-03T02:00:00", "2026-11-06T10:00:00")
        late = _visit(acme, "2026-10-03T02:00:00", "recorded", ["mary"])  # no report, none due
        db.session.commit()
    for lang, heading, count in (
        ("zh", "进行中", "进行中：1"),
        ("en", "In progress", "In progress: 1"),
    ):
        html = Browser(world, "boss", lang=lang).get(f"/compliance?{YEAR}").text
        assert heading in html and count in html
        assert _rows(html, 7, "in-progress-case") == [f"rectification-{soon}"]
        assert _rows(html, 7, "exception") == [f"rectification-{past}"]
        assert _rows(html, 6, "in-progress-case") == [f"issue-{later}"]
        assert _rows(html, 6, "exception") == [f"issue-{overdue}"]
        assert _rows(html, 5, "in-progress-case") == [f"visit-{future}"]
        assert _rows(html, 5, "exception") == [f"visit-{late}"]
    en = Browser(world, "boss", lang="en").get(f"/compliance?{YEAR}").text
    assert "0 of 2 cases compliant" in en.split('id="clause-7"')[1]
    # an item in progress is not called an exception: its column says where it stands
    clause = en.split('id="clause-7"')[1].split("</section>")[0]
    exceptions, running = clause.split('<div class="in-progress">')
    assert "<th>Exception</th>" in exceptions and "<th>Status</th>" not in exceptions
    assert "<th>Status</th>" in running and "<th>Exception</th>" not in running
    assert 'data-label="Exception"' not in running


def test_a_deadline_at_the_reports_end_has_passed_and_one_a_second_later_runs(
    any_world: World,
) -> None:
    # to=2026-07-01 in Asia/Shanghai: the period ends 2026-06-30 16:00 UTC, a day boundary
    # that is not UTC's; the report's moment is that end (the period is past)
    with any_world.app.app_context():
        acme = any_world.customers["Acme"]
        at_end = _issue(acme, "2026-06-01T02:00:00", "assigned", None)
        after = _issue(acme, "2026-06-01T02:00:00", "assigned", None)
        utc_same_day = _issue(acme, "2026-06-01T02:00:00", "assigned", None)
        from service.store.models import Issue

        db.session.get(Issue, at_end).due_at = datetime(2026, 6, 30, 16, tzinfo=UTC)
        db.session.get(Issue, after).due_at = datetime(2026, 6, 30, 16, 0, 1, tzinfo=UTC)
        db.session.get(Issue, utc_same_day).due_at = datetime(2026, 6, 30, 23, tzinfo=UTC)
        db.session.commit()
    html = Browser(any_world, "sara", lang="en").get("/compliance?from=2026-06-01&to=2026-07-01")
    assert _rows(html.text, 6, "exception") == [f"issue-{at_end}"]
    assert sorted(_rows(html.text, 6, "in-progress-case")) == sorted(
        [f"issue-{after}", f"issue-{utc_same_day}"]
    )


def test_a_period_in_the_future_has_its_quota_in_progress_not_missed(world: World) -> None:
    html = Browser(world, "sara", lang="en").get("/compliance?from=2027-01-01&to=2028-01-01")
    first = html.text.split('id="clause-1"')[1].split("</section>")[0]
    assert "In progress: 3" in first and "Exceptions: 0" in first
    past = Browser(world, "sara", lang="en").get("/compliance?from=2025-01-01&to=2026-01-01")
    first = past.text.split('id="clause-1"')[1].split("</section>")[0]
    assert "In progress: 0" in first and "Exceptions: 3" in first
