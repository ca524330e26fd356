"""Feedback meetings (regulation 5(一)): a meeting after a visit and the issue assignments
made in it, recorded in one transaction, all of it or nothing.

The API (`POST /api/v1/feedback-meetings`) and the web form both call `record_meeting`.
Each assignment is the issue's `assign` transition, checked by
`handlers.prepare_transition` and written by `handlers.apply_transition`, as
`handlers.fire` does for one transition: same checks, history event, deadline and outbox.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.engine import Connection

from service.core import context, roles
from service.core.errors import DomainError, Forbidden, InvalidRequest
from service.core.texts import msg
from service.store import references, visibility
from service.store import repository as repo
from service.store.kinds import ISSUE, VISIT
from service.store.models import FeedbackMeeting, FeedbackMeetingIssue, Issue, User
from service.store.paging import page_rows
from service.usecases import handlers
from workflows import Actor, WorkflowError

ASSIGNMENT_FIELDS = ("responsible_department", "responsible_person", "due_at")
meetings_t = FeedbackMeeting.__table__
links_t = FeedbackMeetingIssue.__table__
users_t = User.__table__
issues_t = Issue.__table__


class AssignmentSchema(Schema):
    issue_id = references.row_id(required=True)
    responsible_department = fields.String(required=True)
    responsible_person = fields.String(required=True)
    due_at = fields.Raw(required=True)  # the `assign` form checks it
    version = fields.Integer(strict=True)


class MeetingInSchema(Schema):
    held_at = fields.AwareDateTime(required=True)
    visit_id = references.row_id(allow_none=True)
    place = fields.String(allow_none=True, validate=validate.Length(max=200))
    attendees = fields.List(
        fields.String(validate=validate.Length(min=1, max=150)),
        required=True,
        validate=validate.Length(min=1, max=200),
    )
    decisions = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    assignments = fields.List(fields.Nested(AssignmentSchema), load_default=list)


class AssignmentRefused(Exception):
    """One assignment refused the whole meeting: `error` is the refusal (the API answers
    it as it is), `issue_id` the issue it was for (the web form shows it on that row)."""

    def __init__(self, issue_id: int, error: DomainError | WorkflowError) -> None:
        super().__init__(str(error))
        self.issue_id = issue_id
        self.error = error


# -- recording ---------------------------------------------------------------------------
def load_meeting(payload: Any) -> dict[str, Any]:
    """The meeting as `MeetingInSchema` loads it; 422 per field."""
    if not isinstance(payload, Mapping):
        raise InvalidRequest("the body must be a JSON object", {"_schema": ["must be an object"]})
    try:
        loaded: dict[str, Any] = MeetingInSchema().load(payload)
    except ValidationError as err:
        raise InvalidRequest(
            msg("invalid feedback meeting fields"), err.normalized_messages()
        ) from None
    return loaded


def transition_body(assignment: Mapping[str, Any]) -> dict[str, Any]:
    """An assignment as the body of the issue's `assign` transition."""
    body: dict[str, Any] = {
        "trigger": "assign",
        "data": {k: assignment[k] for k in ASSIGNMENT_FIELDS},
    }
    if "version" in assignment:
        body["version"] = assignment["version"]
    return body


def record_meeting(payload: Any, ctx: handlers.Context) -> dict[str, Any]:
    """Record a feedback meeting and fire its assignments, in one write transaction.

    Checks in the contract's order: the meeting's fields (422), the caller's role (403),
    then each assignment as its transition would be checked (404, 422, 409, 403, 422,
    raised as `AssignmentRefused`). A refusal, at any point, writes nothing at all.
    """
    body = load_meeting(payload)
    now = context.now()
    with repo.writing() as conn:
        _check_fields(conn, body)
        if ctx.actor.role not in roles.MEETING_RECORDERS:
            raise Forbidden(msg("only marketing records feedback meetings"))
        prepared = []
        for a in body["assignments"]:
            try:
                prepared.append(
                    handlers.prepare_transition(
                        conn, ISSUE, a["issue_id"], transition_body(a), ctx, now
                    )
                )
            except (DomainError, WorkflowError) as err:
                raise AssignmentRefused(a["issue_id"], err) from err
        meeting_id = _insert(conn, body, ctx.actor, now, [p.instance_id for p in prepared])
        results = []
        for p in prepared:
            try:
                row = handlers.apply_transition(conn, p, ctx, now)
            except WorkflowError as err:  # PostgreSQL: the issue moved since it was read
                raise AssignmentRefused(p.instance_id, err) from err
            results.append({"issue_id": p.instance_id, "status": 200, "state": row["state"]})
        meeting = get_meeting(conn, meeting_id, ctx.actor)
    context.committed()
    assert meeting is not None
    return {**meeting, "assignments": results}


def _check_fields(conn: Connection, body: Mapping[str, Any]) -> None:
    """Attendees are users, no issue is assigned twice, the visit exists (422 per field)."""
    errors: dict[str, list[str]] = {}
    attendees = body["attendees"]
    known = set(
        conn.execute(
            sa.select(users_t.c.username).where(users_t.c.username.in_(attendees))
        ).scalars()
    )
    unknown = [n for n in attendees if n not in known]
    if unknown:
        errors["attendees"] = [
            msg("unknown users: %(names)s", names=", ".join(sorted(set(unknown))))
        ]
    ids = [a["issue_id"] for a in body["assignments"]]
    if len(ids) != len(set(ids)):
        errors["assignments"] = [msg("an issue is assigned twice")]
    visit_id = body.get("visit_id")
    if visit_id is not None and repo.load(VISIT, visit_id, conn) is None:
        errors["visit_id"] = [msg("no visit %(id)s", id=visit_id)]
    elif visit_id is not None and ids:
        # the meeting of a visit assigns the issues raised at that visit (unknown ids are
        # the assignment's own 404)
        elsewhere = sorted(
            conn.execute(
                sa.select(issues_t.c.id).where(
                    issues_t.c.id.in_(ids), issues_t.c.visit_id.is_distinct_from(visit_id)
                )
            ).scalars()
        )
        if elsewhere:
            listed = ", ".join(map(str, elsewhere))
            errors.setdefault("assignments", []).append(
                msg("issues not raised at visit %(visit)s: %(ids)s", visit=visit_id, ids=listed)
            )
    if errors:
        raise InvalidRequest(msg("invalid feedback meeting fields"), errors)


def _insert(
    conn: Connection,
    body: Mapping[str, Any],
    actor: Actor,
    now: datetime,
    issue_ids: Sequence[int],
) -> int:
    meeting_id: int = conn.execute(
        meetings_t.insert()
        .values(
            visit_id=body.get("visit_id"),
            held_at=body["held_at"],
            place=body.get("place"),
            attendees=list(body["attendees"]),
            decisions=body["decisions"],
            created_by=actor.username,
            created_at=now,
        )
        .returning(meetings_t.c.id)
    ).scalar_one()
    if issue_ids:
        conn.execute(
            links_t.insert(), [{"meeting_id": meeting_id, "issue_id": i} for i in issue_ids]
        )
    return meeting_id


# -- reading -----------------------------------------------------------------------------
def visible_clause(actor: Actor) -> sa.ColumnElement[bool] | None:
    """The meetings `actor` may see, through the API and on the pages alike: those of the
    visits it may see (so all of them for marketing, management, supervision and admin;
    for technical and after-sales staff those of the visits they go on, and none without a
    visit); None for everything."""
    visits = visibility.clause(VISIT, actor)
    if visits is None:
        return None
    seen: sa.ColumnElement[bool] = meetings_t.c.visit_id.in_(
        sa.select(VISIT.table.c.id).where(visits)
    )
    return seen


def list_meetings(
    conn: Connection,
    visit_id: int | None,
    page: int,
    per_page: int,
    actor: Actor,
) -> tuple[list[dict[str, Any]], int]:
    """The meetings `actor` may see, latest first, of one visit or all, and their total."""
    where: list[Any] = []
    if visit_id is not None:
        where.append(meetings_t.c.visit_id == visit_id)
    clause = visible_clause(actor)
    if clause is not None:
        where.append(clause)
    query = (
        sa.select(meetings_t)
        .where(*where)
        .order_by(meetings_t.c.held_at.desc(), meetings_t.c.id.desc())
    )
    meetings, total = page_rows(conn, query, page, per_page)
    issue_ids = _issue_ids(conn, [m["id"] for m in meetings], actor)
    for m in meetings:
        m["issue_ids"] = issue_ids[m["id"]]
    return meetings, total


def get_meeting(conn: Connection, meeting_id: int, actor: Actor) -> dict[str, Any] | None:
    """One meeting with the ids of the issues assigned in it; None if unknown or not
    visible to `actor` (a 404 for the API and the pages alike)."""
    where = [meetings_t.c.id == meeting_id]
    clause = visible_clause(actor)
    if clause is not None:
        where.append(clause)
    row = conn.execute(sa.select(meetings_t).where(*where)).mappings().first()
    if row is None:
        return None
    return {**row, "issue_ids": _issue_ids(conn, [meeting_id], actor)[meeting_id]}


def _issue_ids(conn: Connection, meeting_ids: Sequence[int], actor: Actor) -> dict[int, list[int]]:
    """The issues assigned in each meeting that `actor` may see."""
    out: dict[int, list[int]] = {i: [] for i in meeting_ids}
    if meeting_ids:
        where = [links_t.c.meeting_id.in_(meeting_ids)]
        seen = visibility.clause(ISSUE, actor)
        if seen is not None:
            where.append(links_t.c.issue_id.in_(sa.select(issues_t.c.id).where(seen)))
        rows = conn.execute(
            sa.select(links_t.c.meeting_id, links_t.c.issue_id)
            .where(*where)
            .order_by(links_t.c.meeting_id, links_t.c.issue_id)
        )
        for meeting_id, issue_id in rows:
            out[meeting_id].append(issue_id)
    return out
