"""`/feedback-meetings` (a visit's feedback meeting, where its issues are assigned) and
`/evaluations` (the half-yearly evaluation record, with a snapshot of the KPIs).

The use cases are `service.usecases.meetings` and `service.usecases.evaluations`, shared
with the web pages."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields

from service.core.texts import msg
from service.entrypoints.api.common import (
    TOKEN,
    Blueprint,
    PageArgs,
    found,
    listed,
    page_schema,
    worded,
)
from service.entrypoints.auth import current_actor
from service.store import references
from service.store import repository as repo
from service.usecases import handlers
from service.usecases.evaluations import (
    EvaluationInSchema,
    check_reader,
    get_evaluation,
    list_evaluations,
    record_evaluation,
)
from service.usecases.meetings import (
    AssignmentRefused,
    MeetingInSchema,
    get_meeting,
    list_meetings,
    record_meeting,
)


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
    visit_id = references.row_id(strict=False)  # a query string's digits


MeetingIn = worded(MeetingInSchema, msg("invalid feedback meeting fields"), "MeetingIn")
EvaluationIn = worded(EvaluationInSchema, "invalid evaluation fields", "EvaluationIn")


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
ASSIGNMENT_REFUSALS = {
    403: "the role, or an assignment's transition, is refused",
    404: "an assigned issue is unknown or not visible",
    409: "an assigned issue's version or state",
}
MeetingPage = page_schema(MeetingSchema, "MeetingPage")
EvaluationPage = page_schema(EvaluationSchema, "EvaluationPage")


def _context() -> handlers.Context:
    return handlers.Context(current_actor(), "api", g.get("request_id"))


@blp.route("/feedback-meetings")
class Meetings(MethodView):
    @blp.arguments(MeetingListArgs, location="query", as_kwargs=False)
    @blp.response(200, MeetingPage)
    @blp.errors(TOKEN)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Feedback meetings, latest first, optionally of one visit: those of the visits the
        caller may see (technical and after-sales staff: the visits they go on)."""
        visit_id, actor = args.get("visit_id"), current_actor()
        return listed(lambda p, n: list_meetings(repo.connection(), visit_id, p, n, actor), args)

    @blp.arguments(MeetingIn, as_kwargs=False)
    @blp.response(201, MeetingSchema)
    @blp.errors({**TOKEN, **ASSIGNMENT_REFUSALS})
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record a feedback meeting (marketing) and assign the issues it assigned, each
        through the issue's `assign` transition, in one transaction: if anything is refused
        (the meeting's fields, the role, or one assignment), that error is returned and
        nothing is written."""
        try:
            return record_meeting(body, _context())
        except AssignmentRefused as refused:
            raise refused.error from None


@blp.route("/feedback-meetings/<int:meeting_id>")
class MeetingItem(MethodView):
    @blp.response(200, MeetingSchema)
    @blp.errors({**TOKEN, 404: "unknown, or its visit not visible"})
    def get(self, meeting_id: int) -> dict[str, Any]:
        """One feedback meeting with the issues assigned in it; 404 if its visit is not
        visible to the caller."""
        meeting = get_meeting(repo.connection(), meeting_id, current_actor())
        return found(meeting, f"no feedback meeting {meeting_id}")


@blp.route("/evaluations")
class Evaluations(MethodView):
    @blp.arguments(PageArgs, location="query", as_kwargs=False)
    @blp.response(200, EvaluationPage)
    @blp.errors({**TOKEN, 403: "not a KPI reader"})
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Half-yearly evaluations, latest period first (the KPI readers: marketing,
        management, supervision, admin; 403 for the others)."""
        check_reader(current_actor())
        return listed(lambda p, n: list_evaluations(repo.connection(), p, n), args)

    @blp.arguments(EvaluationIn, as_kwargs=False)
    @blp.response(201, EvaluationSchema)
    @blp.errors({**TOKEN, 403: "only the marketing manager and management"})
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record a half-yearly evaluation (marketing manager, management), with the
        period's KPIs taken as a snapshot."""
        return record_evaluation(body, _context())


@blp.route("/evaluations/<int:evaluation_id>")
class EvaluationItem(MethodView):
    @blp.response(200, EvaluationSchema)
    @blp.errors({**TOKEN, 403: "not a KPI reader", 404: "no such evaluation"})
    def get(self, evaluation_id: int) -> dict[str, Any]:
        """One evaluation record (the KPI readers; an unknown one is 404 before the role's
        403)."""
        evaluation = found(
            get_evaluation(repo.connection(), evaluation_id), f"no evaluation {evaluation_id}"
        )
        check_reader(current_actor())
        return evaluation
