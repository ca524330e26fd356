"""`/feedback-meetings` (a visit's feedback meeting, where its issues are assigned) and
`/evaluations` (the half-yearly evaluation record, with a snapshot of the KPIs)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service import handlers, kpi, references, runtime
from service import repository as repo
from service.api.common import PageArgs, page, page_schema, paging
from service.api.reviews import load
from service.auth import current_actor
from service.errors import Forbidden, InvalidRequest, NotFound
from service.extensions import db
from service.kinds import ISSUE, VISIT
from service.models import Evaluation, FeedbackMeeting, FeedbackMeetingIssue, User
from service.representation import InstanceView
from workflows import VersionConflict

MEETING_RECORDERS = frozenset({"marketing_staff", "marketing_manager"})
EVALUATORS = frozenset({"marketing_manager", "management"})


class AssignmentSchema(Schema):
    issue_id = fields.Integer(required=True, strict=True)
    responsible_department = fields.String(required=True)
    responsible_person = fields.String(required=True)
    due_at = fields.Raw(required=True)  # the `assign` form checks it
    version = fields.Integer(strict=True)


class MeetingInSchema(Schema):
    held_at = fields.AwareDateTime(required=True)
    visit_id = fields.Integer(strict=True, allow_none=True)
    place = fields.String(allow_none=True, validate=validate.Length(max=200))
    attendees = fields.List(
        fields.String(validate=validate.Length(min=1, max=150)),
        required=True,
        validate=validate.Length(min=1, max=200),
    )
    decisions = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    assignments = fields.List(fields.Nested(AssignmentSchema), load_default=list)


class MeetingSchema(Schema):
    id = fields.Integer()
    visit_id = fields.Integer(allow_none=True)
    held_at = fields.DateTime()
    place = fields.String(allow_none=True)
    attendees = fields.List(fields.String())
    decisions = fields.String()
    created_by = fields.String()
    created_at = fields.DateTime()
    issue_ids = fields.List(fields.Integer())
    assignments = fields.List(fields.Dict())


class MeetingListArgs(PageArgs):
    visit_id = fields.Integer()


class EvaluationInSchema(Schema):
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    findings = fields.String(allow_none=True, validate=validate.Length(max=20000))
    measures = fields.String(allow_none=True, validate=validate.Length(max=20000))

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        if data["period_end"] < data["period_start"]:
            raise ValidationError("must not be before period_start", "period_end")


class EvaluationSchema(Schema):
    id = fields.Integer()
    period_start = fields.Date()
    period_end = fields.Date()
    summary = fields.String()
    findings = fields.String(allow_none=True)
    measures = fields.String(allow_none=True)
    kpi = fields.Dict(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()


blp = Blueprint(
    "meetings", __name__, url_prefix="/api/v1", description="Feedback meetings and evaluations"
)
MeetingPage = page_schema(MeetingSchema, "MeetingPage")
EvaluationPage = page_schema(EvaluationSchema, "EvaluationPage")


def _meeting(meeting: FeedbackMeeting, assignments: list[Any] | None = None) -> dict[str, Any]:
    issue_ids = db.session.execute(
        sa.select(FeedbackMeetingIssue.issue_id)
        .where(FeedbackMeetingIssue.meeting_id == meeting.id)
        .order_by(FeedbackMeetingIssue.issue_id)
    ).scalars()
    out = {c.name: getattr(meeting, c.name) for c in FeedbackMeeting.__table__.columns}
    out["issue_ids"] = list(issue_ids)
    if assignments is not None:
        out["assignments"] = assignments
    return out


def _transition(a: dict[str, Any]) -> dict[str, Any]:
    data = {k: a[k] for k in ("responsible_department", "responsible_person", "due_at")}
    body: dict[str, Any] = {"trigger": "assign", "data": data}
    if "version" in a:
        body["version"] = a["version"]
    return body


def _check_assignment(a: dict[str, Any], ctx: handlers.Context) -> None:
    """Every check handlers.fire makes before writing, made without writing, so that a
    refused assignment refuses the whole meeting before anything is stored."""
    with repo.reading() as conn:
        row = handlers.load_visible(ISSUE, a["issue_id"], ctx.actor, conn)
        workflow = handlers.workflow_of(ISSUE, row)
        body = _transition(a)
        outcome = workflow.fire(
            InstanceView(ISSUE, row),
            "assign",
            ctx.actor,
            body["data"],
            runtime.now(),
            body.get("version"),
        )
        spec = workflow.transition("assign", row["state"])
        assert spec is not None
        references.check_references(spec.fields, outcome.data, conn)


@blp.route("/feedback-meetings")
class Meetings(MethodView):
    @blp.arguments(MeetingListArgs, location="query", as_kwargs=False)
    @blp.response(200, MeetingPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Feedback meetings, latest first, optionally of one visit."""
        page_no, per_page = paging(args)
        where = [FeedbackMeeting.visit_id == args["visit_id"]] if "visit_id" in args else []
        total = db.session.execute(
            sa.select(sa.func.count()).select_from(FeedbackMeeting).where(*where)
        ).scalar()
        rows = db.session.execute(
            sa.select(FeedbackMeeting)
            .where(*where)
            .order_by(FeedbackMeeting.held_at.desc(), FeedbackMeeting.id.desc())
            .limit(per_page)
            .offset((page_no - 1) * per_page)
        ).scalars()
        return page([_meeting(m) for m in rows], int(total or 0), page_no, per_page)

    @blp.doc(requestBody={"content": {"application/json": {"schema": MeetingInSchema}}})
    @blp.response(201, MeetingSchema)
    def post(self) -> dict[str, Any]:
        """Record a feedback meeting (marketing) and assign the issues it assigned: each
        through the issue's `assign` transition. Every assignment is checked first; if one
        is refused, its error is returned and nothing is written."""
        body = load(MeetingInSchema(), "feedback meeting")
        errors: dict[str, Any] = {}
        known = set(
            db.session.execute(
                sa.select(User.username).where(User.username.in_(body["attendees"]))
            ).scalars()
        )
        unknown = [n for n in body["attendees"] if n not in known]
        if unknown:
            errors["attendees"] = [f"unknown users: {', '.join(sorted(set(unknown)))}"]
        ids = [a["issue_id"] for a in body["assignments"]]
        if len(ids) != len(set(ids)):
            errors["assignments"] = ["an issue is assigned twice"]
        if body.get("visit_id") is not None:
            with repo.reading() as conn:
                if repo.load(VISIT, body["visit_id"], conn) is None:
                    errors["visit_id"] = [f"no visit {body['visit_id']}"]
        if errors:
            raise InvalidRequest("invalid feedback meeting fields", errors)
        actor = current_actor()
        if actor.role not in MEETING_RECORDERS:
            raise Forbidden("only marketing records feedback meetings")
        ctx = handlers.Context(actor, "api", g.get("request_id"))
        for a in body["assignments"]:
            _check_assignment(a, ctx)
        meeting = FeedbackMeeting(
            visit_id=body.get("visit_id"),
            held_at=body["held_at"],
            place=body.get("place"),
            attendees=body["attendees"],
            decisions=body["decisions"],
            created_by=actor.username,
            created_at=runtime.now(),
        )
        db.session.add(meeting)
        db.session.flush()
        db.session.add_all(FeedbackMeetingIssue(meeting_id=meeting.id, issue_id=i) for i in ids)
        db.session.commit()
        results: list[dict[str, Any]] = []
        for a in body["assignments"]:
            try:
                rep = handlers.fire(ISSUE, a["issue_id"], _transition(a), ctx)
            except VersionConflict as err:  # changed since it was checked: a race
                results.append({"issue_id": a["issue_id"], "status": 409, "error": str(err)})
            else:
                results.append({"issue_id": a["issue_id"], "status": 200, "state": rep["state"]})
        return _meeting(meeting, results)


@blp.route("/feedback-meetings/<int:meeting_id>")
class MeetingItem(MethodView):
    @blp.response(200, MeetingSchema)
    def get(self, meeting_id: int) -> dict[str, Any]:
        """One feedback meeting with the issues assigned in it."""
        meeting = db.session.get(FeedbackMeeting, meeting_id)
        if meeting is None:
            raise NotFound(f"no feedback meeting {meeting_id}")
        return _meeting(meeting)


def _kpi_snapshot(start: Any, end: Any) -> dict[str, Any]:
    """The KPIs of the period, its days in the service's time zone, last day included."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    since = datetime.combine(start, time(), zone)
    until = datetime.combine(end + timedelta(days=1), time(), zone)
    quotas = current_app.config["POLICY"]["visit_quotas"]
    with repo.reading() as conn:
        figures: dict[str, Any] = kpi.figures(conn, since, until, quotas)
    return figures


@blp.route("/evaluations")
class Evaluations(MethodView):
    @blp.arguments(PageArgs, location="query", as_kwargs=False)
    @blp.response(200, EvaluationPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Half-yearly evaluations, latest period first."""
        page_no, per_page = paging(args)
        total = db.session.execute(sa.select(sa.func.count()).select_from(Evaluation)).scalar()
        rows = db.session.execute(
            sa.select(Evaluation)
            .order_by(Evaluation.period_start.desc(), Evaluation.id.desc())
            .limit(per_page)
            .offset((page_no - 1) * per_page)
        ).scalars()
        return page(list(rows), int(total or 0), page_no, per_page)

    @blp.doc(requestBody={"content": {"application/json": {"schema": EvaluationInSchema}}})
    @blp.response(201, EvaluationSchema)
    def post(self) -> Evaluation:
        """Record a half-yearly evaluation (marketing manager, management), with the
        period's KPIs taken as a snapshot."""
        body = load(EvaluationInSchema(), "evaluation")
        actor = current_actor()
        if actor.role not in EVALUATORS:
            raise Forbidden("only the marketing manager and management record evaluations")
        evaluation = Evaluation(
            **body,
            kpi=_kpi_snapshot(body["period_start"], body["period_end"]),
            created_by=actor.username,
            created_at=runtime.now(),
        )
        db.session.add(evaluation)
        db.session.commit()
        return evaluation


@blp.route("/evaluations/<int:evaluation_id>")
class EvaluationItem(MethodView):
    @blp.response(200, EvaluationSchema)
    def get(self, evaluation_id: int) -> Evaluation:
        """One evaluation record."""
        evaluation = db.session.get(Evaluation, evaluation_id)
        if evaluation is None:
            raise NotFound(f"no evaluation {evaluation_id}")
        return evaluation
