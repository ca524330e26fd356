"""The supervision group's periodic checks (regulation 7(一)2) and the findings they make.

Plan execution (customers with fewer visits this year than their tier's quota has due by
now, each quota's visits due at month-ends: `workflows.quotas`), record completeness (visits
visited but not recorded within N working days) and timeliness of issue resolution (issues
past their deadline). Each finding has a key, so it is found once and, where policy says so,
turned into one rectification notice, never twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.core import context, labels
from service.core.statuses import DeadlineStatus
from service.core.texts import Text, msg
from service.store import repository as repo
from service.store.models import Customer, Deadline, Finding, Issue, Visit
from service.usecases import deadlines

findings_t = Finding.__table__
DONE = ("visited", "recorded", "reported")


def _plan_execution(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    policy = context.config()["POLICY"]
    quotas = context.current().quotas()
    local = now.astimezone(quotas.tz)
    year_start = datetime(local.year, 1, 1, tzinfo=quotas.tz)
    year_end = datetime(local.year + 1, 1, 1, tzinfo=quotas.tz)
    c, v = Customer.__table__, Visit.__table__
    done = (
        sa.select(v.c.customer_id, sa.func.count().label("done"))
        .where(v.c.state.in_(DONE), v.c.planned_at >= year_start, v.c.planned_at < year_end)
        .group_by(v.c.customer_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(c.c.id, c.c.name, c.c.tier, sa.func.coalesce(done.c.done, 0)).outerjoin(
            done, done.c.customer_id == c.c.id
        )
    ).all()
    out = []
    period = f"{local.year}-{local.month:02d}"
    for customer_id, name, tier, count in rows:
        expected = quotas.due_by(tier, now)  # the visits of months ended this year
        if count < expected:
            out.append(
                {
                    "key": f"plan_execution:{customer_id}:{period}",
                    "kind": "plan_execution",
                    "workflow": None,
                    "object_id": customer_id,
                    "department": policy["marketing_department"],
                    "message": msg(
                        "%(customer)s (%(tier)s): %(done)s visits done by %(date)s,"
                        " %(expected)s expected of %(quota)s this year",
                        customer=name,
                        tier=labels.label(labels.TIERS, tier),
                        done=count,
                        date=local.date(),
                        expected=expected,
                        quota=quotas.yearly(tier),
                    ),
                }
            )
    return out


def _record_completeness(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    policy = context.config()["POLICY"]
    calendar = context.registry().calendar
    days = int(policy["record_within_working_days"])
    v, c = Visit.__table__, Customer.__table__
    out = []
    for visit_id, version, updated_at, customer in conn.execute(
        sa.select(v.c.id, v.c.version, v.c.updated_at, c.c.name)
        .join(c, c.c.id == v.c.customer_id)
        .where(v.c.state == "visited")
    ).all():
        if calendar.working_days_between(updated_at, now) > days:
            out.append(
                {
                    "key": f"record_completeness:visit:{visit_id}:v{version}",
                    "kind": "record_completeness",
                    "workflow": "visit",
                    "object_id": visit_id,
                    "department": policy["marketing_department"],
                    "message": msg(
                        "visit #%(id)s to %(customer)s, visited %(date)s, not recorded"
                        " within %(days)s working days",
                        id=visit_id,
                        customer=customer,
                        date=updated_at.astimezone(calendar.tz).date(),
                        days=days,
                    ),
                }
            )
    return out


def _issue_timeliness(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    i, d, c = Issue.__table__, Deadline.__table__, Customer.__table__
    rows = conn.execute(
        sa.select(
            i.c.id,
            i.c.version,
            i.c.state,
            i.c.responsible_department,
            d.c.kind,
            d.c.due_at,
            i.c.title,
            c.c.name,
        )
        .outerjoin(c, c.c.id == i.c.customer_id)
        .join(
            d,
            sa.and_(
                d.c.workflow == "issue",
                d.c.instance_id == i.c.id,
                d.c.state == i.c.state,
                d.c.version == i.c.version,
            ),
        )
        .where(d.c.status.in_((DeadlineStatus.OPEN, DeadlineStatus.FIRED)), d.c.due_at < now)
    ).all()
    marketing = context.config()["POLICY"]["marketing_department"]
    return [
        {
            "key": deadlines.overdue_origin("issue", issue_id, version, kind),
            "kind": "issue_timeliness",
            "workflow": "issue",
            "object_id": issue_id,
            "department": department or marketing,
            "message": _issue_late(issue_id, title, customer, state, kind, due),
        }
        for issue_id, version, state, department, kind, due, title, customer in rows
    ]


def _issue_late(
    issue_id: int, title: str, customer: str | None, state: str, kind: str, due: datetime
) -> Text:
    definition = context.registry().get("issue").definition
    spec = definition.states[state] if state in definition.states else None
    deadline = spec.deadline.label if spec and spec.deadline else kind
    return msg(
        "issue #%(id)s “%(title)s” (%(customer)s, %(state)s) past its %(deadline)s of %(due)s",
        id=issue_id,
        title=title,
        customer=customer or "—",
        state=spec.label if spec else state,
        deadline=deadline,
        due=due.astimezone(context.registry().calendar.tz).date(),
    )


CHECKS = (_plan_execution, _record_completeness, _issue_timeliness)


def run_checks(now: datetime | None = None) -> dict[str, Any]:
    """Record new findings and issue the notices policy asks for; return the counts."""
    now = now or context.now()
    auto = set(context.config()["POLICY"]["auto_rectification"].get("findings", []))
    new = notices = 0
    with repo.writing() as conn:
        known = set(conn.execute(sa.select(findings_t.c.key)).scalars())
        for check in CHECKS:
            for finding in check(conn, now):
                if finding["key"] in known:
                    continue
                message: Text = finding.pop("message")
                notice_id = None
                if finding["kind"] in auto:
                    related = (
                        [{"workflow": finding["workflow"], "id": finding["object_id"]}]
                        if finding["workflow"]
                        else []
                    )
                    origin = finding["key"]
                    issued = deadlines.issue_notice(
                        conn,
                        finding["department"],
                        _findings_text(finding["kind"], message),
                        related,
                        origin,
                        now,
                    )
                    notice_id = issued or deadlines.notice_of(conn, origin)
                    notices += 1 if issued else 0
                conn.execute(
                    findings_t.insert().values(
                        **finding,
                        detail=str(message),
                        message=message.as_json(),
                        found_at=now,
                        notice_id=notice_id,
                    )
                )
                known.add(finding["key"])
                new += 1
    return {"findings": new, "notices": notices, "at": now.astimezone(UTC).isoformat()}


def _findings_text(kind: str, message: Text) -> Text:
    """A generated notice's findings: the kind of finding and what was found."""
    return msg(
        "%(kind)s: %(detail)s", kind=labels.label(labels.FINDING_KINDS, kind), detail=message
    )
