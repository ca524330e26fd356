"""What an expiry and a reminder tell people: in-app notifications, their email copies in the
local mailbox, rectification notices issued by policy, and their escalation to management.

A real RQ worker (SimpleWorker, burst) runs the jobs inside the test app, with controlled time.
"""

from __future__ import annotations

import mailbox
import time
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa

from service.core import runtime
from service.jobs import tasks as jobs
from service.store.db import db
from service.usecases import deadlines
from tests.integration.conftest import Clock, World, advance, create_visit, fire
from tests.support.worker import (
    expire_events,
    notifications,
    run_again,
    run_queued,
    table_rows,
)

PLANNED = "2026-11-10T10:00:00+08:00"
DUE = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # the visit's preparation deadline
REMIND = datetime(2026, 11, 9, 2, 0, tzinfo=UTC)  # its reminder, one working day before
ISSUE_DUE = "2026-11-20"  # a bare date: close of business that day


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, Any]:
    return {"OUTBOX_DISPATCH": "inline", "MAILBOX_PATH": str(tmp_path / "mail.mbox")}


@pytest.fixture(autouse=True)
def empty_redis(redis_url: str) -> None:
    conn = redis.Redis.from_url(redis_url)
    conn.flushall()
    conn.close()


def mails(world: World) -> list[mailbox.mboxMessage]:
    path = Path(world.app.config["MAILBOX_PATH"])
    if not path.exists():
        return []
    box = mailbox.mbox(str(path))
    try:
        return list(box)
    finally:
        box.close()


def my_notifications(
    world: World, user: str, kind: str | None = None, **query: Any
) -> list[dict[str, Any]]:
    """The user's notifications through the API; only those of `kind` if given."""
    r = world.get("/api/v1/notifications", user, query_string=query)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["total"] == len(body["items"])
    return [i for i in body["items"] if kind is None or i["kind"] == kind]


def overdue_visit(world: World, clock: Clock, **over: Any) -> dict[str, Any]:
    visit = create_visit(world, planned_at=PLANNED, **over)
    clock.now = DUE + timedelta(minutes=5)
    run_queued(world.app)
    return visit


def assigned_issue(world: World, person: str = "ted") -> dict[str, Any]:
    r = world.post(
        "/api/v1/issues",
        "mary",
        {
            "customer_id": world.customers["Acme"],
            "title": "Spindle noise",
            "description": "The new spindle is loud",
            "category": "product",
            "severity": "high",
        },
    )
    assert r.status_code == 201, r.get_json()
    data = {
        "responsible_department": "technical",
        "responsible_person": person,
        "due_at": ISSUE_DUE,
    }
    r = fire(world, "issues", r.get_json(), "assign", "mary", data)
    assert r.status_code == 200, r.get_json()
    return dict(r.get_json())


def issue_due(world: World, issue: dict[str, Any]) -> datetime:
    [d] = [
        d
        for d in table_rows(world.app, "deadlines", workflow="issue", instance_id=issue["id"])
        if d["status"] == "open"
    ]
    assert d["kind"] == "resolution"
    due: datetime = d["due_at"]
    return due


def notices(world: World) -> list[dict[str, Any]]:
    return table_rows(world.app, "rectification_notices")


# -- in-app notifications ----------------------------------------------------------------------
def test_an_overdue_visit_is_in_each_recipients_notifications(world: World, clock: Clock) -> None:
    visit = overdue_visit(world, clock)
    for user in ("mary", "tom", "mike"):
        [item] = my_notifications(world, user, kind="overdue")
        assert item["kind"] == "overdue"
        assert item["object"] == {"workflow": "visit", "id": visit["id"]}
        assert item["read"] is False
        assert datetime.fromisoformat(item["created_at"]) == clock.now
        assert f"#{visit['id']}" in item["message"] and "2026-11-10 10:00" in item["message"]
    for user in ("ted", "amy", "boss", "sara"):
        assert my_notifications(world, user) == []


def test_notifications_are_listed_newest_first(world: World, clock: Clock) -> None:
    early = create_visit(world, planned_at=PLANNED)
    late = create_visit(world, planned_at="2026-11-12T10:00:00+08:00")
    clock.now = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)
    run_queued(world.app)
    clock.now = datetime(2026, 11, 13, 0, 0, tzinfo=UTC)
    run_queued(world.app)
    items = my_notifications(world, "mary", kind="overdue")
    assert [i["object"]["id"] for i in items] == [late["id"], early["id"]]
    assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)


def test_marking_a_notification_read(world: World, clock: Clock) -> None:
    overdue_visit(world, clock)
    [item] = my_notifications(world, "mary")
    r = world.post(f"/api/v1/notifications/{item['id']}/read", "mary")
    assert r.status_code == 204
    assert r.data == b""
    assert [i["read"] for i in my_notifications(world, "mary")] == [True]
    assert my_notifications(world, "mary", unread="true") == []
    assert len(my_notifications(world, "mary", unread="false")) == 1


def test_another_users_notification_cannot_be_marked_read(world: World, clock: Clock) -> None:
    overdue_visit(world, clock)
    [theirs] = my_notifications(world, "tom", kind="overdue")
    r = world.post(f"/api/v1/notifications/{theirs['id']}/read", "mary")
    assert r.status_code == 404
    assert r.get_json()["code"] == "not_found"
    assert world.post("/api/v1/notifications/999999/read", "mary").status_code == 404
    assert [i["read"] for i in my_notifications(world, "tom")] == [False, False]


# -- email --------------------------------------------------------------------------------------
def test_without_smtp_each_notification_batch_is_one_email_in_the_mailbox(
    world: World, clock: Clock
) -> None:
    with world.app.app_context():
        db.session.execute(
            sa.text("UPDATE users SET email='mike@example.com' WHERE username='mike'")
        )
        db.session.commit()
    visit = overdue_visit(world, clock)
    planned, message = mails(world)
    assert planned["To"].strip() == "tom@localhost"  # told of the new visit; mary planned it
    assert sorted(a.strip() for a in message["To"].split(",")) == [
        "mary@localhost",
        "mike@example.com",
        "tom@localhost",
    ]
    assert message["From"] == world.app.config["MAIL_FROM"]
    subject = str(make_header(decode_header(message["Subject"])))
    assert (
        subject
        == f"[VisitFlow] 重点客户走访 #{visit['id']}：走访准备期限已逾期（2026-11-10 10:00）"
    )
    rows = [o for o in table_rows(world.app, "outbox") if o["topic"] == "email"]
    assert [(r["delivered_at"] is not None, r["attempts"]) for r in rows] == [(True, 1)] * 2


def test_an_email_job_run_twice_delivers_once(world: World, clock: Clock) -> None:
    create_visit(world, planned_at=PLANNED, visitors=["mary"])  # nobody told of the visit
    clock.now = DUE + timedelta(minutes=5)
    ran = run_queued(world.app)
    email_jobs = [r for r in ran if "email" in r.func_name]
    assert [r.status for r in email_jobs] == ["finished"]
    run_again(world.app, email_jobs)
    assert len(mails(world)) == 1
    [row] = [o for o in table_rows(world.app, "outbox") if o["topic"] == "email"]
    assert row["attempts"] == 1


def test_an_email_whose_job_redis_lost_is_sent_by_the_reconciler(
    world: World, clock: Clock, redis_url: str
) -> None:
    create_visit(world, planned_at=PLANNED, visitors=["mary"])  # nobody told of the visit
    clock.now = DUE + timedelta(minutes=5)
    with world.app.app_context():
        assert len(deadlines.fire_due().fired) == 1  # the email is queued in RQ
    [row] = [o for o in table_rows(world.app, "outbox") if o["topic"] == "email"]
    assert row["sent_at"] is not None and row["delivered_at"] is None
    redis.Redis.from_url(redis_url).flushall()  # ...and lost with everything else
    clock.advance(minutes=1)
    with world.app.app_context():
        jobs.reconcile()
    run_queued(world.app)
    assert len(mails(world)) == 1


def test_an_email_whose_delivery_failed_is_delivered_later(
    world: World, clock: Clock, tmp_path: Path
) -> None:
    good = world.app.config["MAILBOX_PATH"]
    (tmp_path / "not-a-folder").write_text("a file where the mailbox's folder should be")
    world.app.config["MAILBOX_PATH"] = str(tmp_path / "not-a-folder" / "mail.mbox")
    overdue_visit(world, clock, visitors=["mary"])  # nobody told of the visit: one email
    [row] = [o for o in table_rows(world.app, "outbox") if o["topic"] == "email"]
    assert row["delivered_at"] is None  # delivery failed, the claim rolled back
    world.app.config["MAILBOX_PATH"] = good  # the mailbox (or SMTP server) is back
    clock.advance(minutes=5)
    with world.app.app_context():
        jobs.reconcile()
    run_queued(world.app)
    assert len(mails(world)) == 1


# -- reminders ----------------------------------------------------------------------------------
def test_a_reminder_goes_out_once_before_the_deadline(world: World, clock: Clock) -> None:
    visit = create_visit(world, planned_at=PLANNED)
    clock.now = REMIND + timedelta(minutes=1)
    ran = run_queued(world.app, rounds=1)
    reminders = sorted(notifications(world.app, kind="reminder"))
    assert reminders == [
        ("mary", "reminder", "visit", visit["id"]),
        ("mike", "reminder", "visit", visit["id"]),
        ("tom", "reminder", "visit", visit["id"]),
    ]
    [d] = table_rows(world.app, "deadlines", workflow="visit", instance_id=visit["id"])
    assert (d["status"], d["reminded_at"]) == ("open", clock.now)  # reminded, not fired
    clock.advance(hours=1)
    run_again(world.app, [r for r in ran if "remind" in r.func_name])
    with world.app.app_context():
        assert deadlines.remind_due() == 0
        assert jobs.reconcile()["reminders"] == 0
    assert sorted(notifications(world.app, kind="reminder")) == reminders
    assert [i["kind"] for i in my_notifications(world, "mary")] == ["reminder"]


def test_a_reminder_is_never_sent_before_its_time(world: World) -> None:
    """Its job woken a moment early (RQ counts whole seconds) sends nothing early: it waits,
    or leaves the reminder to the next run; the reconciler sends it once at the latest."""
    visit = create_visit(world, planned_at=PLANNED)
    start, t0 = REMIND - timedelta(seconds=0.8), time.monotonic()
    runtime.set_clock(world.app, lambda: start + timedelta(seconds=time.monotonic() - t0))
    run_queued(world.app, rounds=1)
    [d] = table_rows(world.app, "deadlines", workflow="visit", instance_id=visit["id"])
    assert d["reminded_at"] is None or d["reminded_at"] >= REMIND
    later = REMIND + timedelta(seconds=30)
    runtime.set_clock(world.app, lambda: later)
    with world.app.app_context():
        jobs.reconcile()
    [d] = table_rows(world.app, "deadlines", workflow="visit", instance_id=visit["id"])
    assert REMIND <= d["reminded_at"] <= later
    assert len(notifications(world.app, kind="reminder")) == 3


def test_no_reminder_once_the_state_is_left(world: World, clock: Clock) -> None:
    visit = create_visit(world, planned_at=PLANNED)
    advance(world, "visits", visit, ["prepare"], "tom")
    clock.now = REMIND + timedelta(minutes=1)
    run_queued(world.app, rounds=1)
    assert notifications(world.app, kind="reminder") == []


# -- overdue ledger issues and rectification notices --------------------------------------------
def test_an_overdue_assigned_issue_notifies_its_person_and_the_departments_manager(
    world: World, clock: Clock
) -> None:
    issue = assigned_issue(world, person="ted")
    clock.now = issue_due(world, issue) + timedelta(minutes=1)
    run_queued(world.app)
    overdue = sorted(notifications(world.app, kind="overdue"))
    assert overdue == [
        ("ted", "overdue", "issue", issue["id"]),  # the responsible person
        ("tom", "overdue", "issue", issue["id"]),  # the manager of the technical department
    ]
    shown = world.get(f"/api/v1/issues/{issue['id']}", "mary").get_json()
    assert (shown["overdue"], shown["state"], shown["version"]) == (True, "assigned", 2)


def test_inactive_users_are_not_notified(world: World, clock: Clock) -> None:
    with world.app.app_context():
        db.session.execute(sa.text("UPDATE users SET active=0 WHERE username='ted'"))
        db.session.commit()
    issue = assigned_issue(world, person="tom")
    clock.now = issue_due(world, issue) + timedelta(minutes=1)
    run_queued(world.app)
    # mike (Marketing's manager) told of the issue, tom of its assignment, overdue, notice
    assert sorted(n[0] for n in notifications(world.app)) == ["mike", "tom", "tom", "tom"]


def test_an_overdue_assigned_issue_issues_one_rectification_notice_to_its_department(
    world: World, clock: Clock
) -> None:
    issue = assigned_issue(world)
    clock.now = issue_due(world, issue) + timedelta(minutes=1)
    run_queued(world.app)
    [notice] = notices(world)
    shown = world.get(f"/api/v1/rectification-notices/{notice['id']}", "sara").get_json()
    assert shown["department"] == "technical"
    assert shown["related"] == [{"workflow": "issue", "id": issue["id"]}]
    assert (shown["state"], shown["created_by"]) == ("issued", "system")
    [created] = world.get(
        f"/api/v1/rectification-notices/{notice['id']}/history", "sara"
    ).get_json()["items"]
    assert (created["actor"], created["source"], created["to"]) == ("system", "job", "issued")
    issued = sorted(notifications(world.app, kind="rectification_issued"))
    assert issued == [
        ("ted", "rectification_issued", "rectification", notice["id"]),
        ("tom", "rectification_issued", "rectification", notice["id"]),
    ]
    # the notice's own acknowledgement deadline is written and scheduled with it
    [d] = table_rows(world.app, "deadlines", workflow="rectification", instance_id=notice["id"])
    assert (d["kind"], d["status"]) == ("acknowledgement", "open")


def test_the_issue_notice_is_issued_once_however_often_firing_runs(
    world: World, clock: Clock
) -> None:
    issue = assigned_issue(world)
    clock.now = issue_due(world, issue) + timedelta(minutes=1)
    with world.app.app_context():
        first = deadlines.fire_all_due()
    run_queued(world.app)
    clock.advance(minutes=10)
    with world.app.app_context():
        assert deadlines.fire_all_due().notices == []
        jobs.reconcile()
    run_queued(world.app)
    assert len(first.notices) == 1
    assert [n["id"] for n in notices(world)] == first.notices
    assert len(expire_events(world.app, "issue", issue["id"])) == 1
    assert len(notifications(world.app, kind="rectification_issued")) == 2


def test_no_automatic_notice_where_policy_says_no(world: World, clock: Clock) -> None:
    world.app.config["POLICY"]["auto_rectification"]["deadlines"] = False
    issue = assigned_issue(world)
    clock.now = issue_due(world, issue) + timedelta(minutes=1)
    run_queued(world.app)
    assert notices(world) == []
    assert len(notifications(world.app, kind="overdue")) == 2  # still notified


def sara_notice(world: World, due_at: str) -> dict[str, Any]:
    body = {"department": "technical", "findings": "Records late", "due_at": due_at}
    r = world.post("/api/v1/rectification-notices", "sara", body)
    assert r.status_code == 201, r.get_json()
    return dict(r.get_json())


def test_an_unacknowledged_notice_reminds_the_department_when_overdue(
    world: World, clock: Clock
) -> None:
    notice = sara_notice(world, "2026-11-13T18:00:00+08:00")
    [d] = table_rows(world.app, "deadlines", workflow="rectification", instance_id=notice["id"])
    assert d["kind"] == "acknowledgement"
    clock.now = d["due_at"] + timedelta(minutes=1)
    run_queued(world.app)
    assert sorted(notifications(world.app, kind="overdue")) == [
        ("ted", "overdue", "rectification", notice["id"]),
        ("tom", "overdue", "rectification", notice["id"]),
    ]


def test_an_acknowledged_notice_past_its_due_time_escalates_to_management(
    world: World, clock: Clock
) -> None:
    notice = sara_notice(world, "2026-11-09T18:00:00+08:00")
    advance(world, "rectification-notices", notice, ["acknowledge"], "tom")
    [_, d] = table_rows(world.app, "deadlines", workflow="rectification", instance_id=notice["id"])
    assert (d["kind"], d["due_at"]) == ("rectification", datetime(2026, 11, 9, 10, tzinfo=UTC))
    clock.now = d["due_at"] + timedelta(minutes=1)
    run_queued(world.app)
    clock.advance(hours=1)
    with world.app.app_context():
        jobs.reconcile()
    mine = [n for n in notifications(world.app) if n[3] == notice["id"]]
    assert sorted(n for n in mine if n[1] in ("overdue", "escalated")) == [
        ("boss", "escalated", "rectification", notice["id"]),
        ("tom", "overdue", "rectification", notice["id"]),  # the technical department's manager
    ]
    [item] = [i for i in my_notifications(world, "boss") if i["kind"] == "escalated"]
    assert item["object"] == {"workflow": "rectification", "id": notice["id"]}
    shown = world.get(f"/api/v1/rectification-notices/{notice['id']}", "sara").get_json()
    assert (shown["overdue"], shown["state"]) == (True, "acknowledged")
