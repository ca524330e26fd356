"""Feedback meetings (走访反馈会议, regulation 5(一)) through the pages: the list, recording
a meeting with the assignments of its visit's raised issues, and one meeting's page.

Recording calls `service.usecases.meetings.record_meeting`, the API's use case, with `source="web"`:
the meeting and its assignments commit together or not at all. The list and the page show
the meetings of the visits the user may see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from service.core import roles, runtime, texts
from service.core.errors import DomainError, InvalidRequest, NotFound
from service.entrypoints.errors import status_of
from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import (
    _,
    bp,
    choices,
    customer_options,
    error_page,
    lang,
    local_time,
    page_args,
    person_options,
    represent_rows,
    translated,
    tz,
    user_options,
    visible_rows,
)
from service.entrypoints.web.forms import BoundField, bind, local_to_iso, to_local_input
from service.entrypoints.web.issues import ledger_rows, visit_options
from service.entrypoints.web.messages import N_
from service.store import repository as repo
from service.store import visibility
from service.store.kinds import ISSUE, VISIT
from service.usecases import handlers
from service.usecases.meetings import (
    ASSIGNMENT_FIELDS,
    AssignmentRefused,
    get_meeting,
    list_meetings,
    record_meeting,
)
from workflows import InvalidData, InvalidTransition, NotPermitted, VersionConflict

# marshmallow's messages for the meeting's own fields, marked for translation
LENGTH_MESSAGES = (
    N_("Length must be between 1 and 200."),
    N_("Length must be between 1 and 20000."),
    N_("Longer than maximum length 200."),
)


@bp.context_processor
def meeting_globals() -> dict[str, Any]:
    return {"meeting_recorders": roles.MEETING_RECORDERS}


# -- the list ----------------------------------------------------------------------------
def visit_labels(visit_ids: Sequence[int]) -> dict[int, str]:
    """`#12 · Acme · 2026-11-10 10:00` for each visit (the meetings' own visits)."""
    if not visit_ids:
        return {}
    t = VISIT.table
    customers = dict(customer_options())
    rows = repo.connection().execute(
        sa.select(t.c.id, t.c.customer_id, t.c.planned_at).where(t.c.id.in_(set(visit_ids)))
    )
    return {
        r.id: f"#{r.id} · {customers.get(str(r.customer_id), '')} · {local_time(r.planned_at)}"
        for r in rows
    }


@bp.route("/meetings")
@login_required
def meetings() -> str:
    visit_id = request.args.get("visit_id", type=int)
    page_no, per_page = page_args()
    items, total = list_meetings(repo.connection(), visit_id, page_no, per_page, web_actor())
    return render_template(
        "web/meetings.html",
        items=items,
        total=total,
        page=page_no,
        per_page=per_page,
        visit_id=visit_id,
        visits=visit_options(),
        visit_names=visit_labels([m["visit_id"] for m in items if m["visit_id"]]),
        user_names=dict(user_options()),
    )


# -- recording one -----------------------------------------------------------------------
def raised_issues(visit_id: int | None) -> list[dict[str, Any]]:
    """The visit's issues waiting to be assigned, that the user may see, oldest first."""
    if visit_id is None:
        return []
    t = ISSUE.table
    query = visible_rows(ISSUE, [t.c.visit_id == visit_id, t.c.state == "raised"])
    return [dict(r) for r in repo.connection().execute(query.order_by(t.c.id)).mappings()]


def assignment_specs() -> list[Any]:
    spec = runtime.registry().get(ISSUE.workflow).definition.transition("assign", "raised")
    assert spec is not None  # the issue definition assigns raised issues
    return [f for f in spec.fields if f.name in ASSIGNMENT_FIELDS]


def prefix(issue_id: int) -> str:
    return f"a{issue_id}-"


def meeting_fields(
    raw: MultiDict[str, str], errors: Mapping[str, Sequence[str]]
) -> list[BoundField]:
    def one(name: str, widget: str, label: str, required: bool, **more: Any) -> BoundField:
        f = BoundField(
            name, widget, label, None, required, errors=list(errors.get(name, ())), **more
        )
        if widget == "multiselect":
            f.values = raw.getlist(name)
        else:
            f.value = raw.get(name, "")
        return f

    people = [(p.username, p.label) for p in person_options()]
    return [
        one("held_at", "datetime", _("Held at"), True),
        one("place", "input", _("Meeting place"), False, max_length=200),
        one("attendees", "multiselect", _("Attendees"), True, options=people, filterable=True),
        one("decisions", "textarea", _("Decisions"), True, max_length=20000),
    ]


def assignment_rows(
    issues: list[dict[str, Any]],
    raw: MultiDict[str, str],
    errors: Mapping[int, Mapping[str, Sequence[str]]],
    fresh: set[int],
) -> list[dict[str, Any]]:
    """One row per raised issue: its three ledger fields, bound to what was typed, named
    `a{id}-field`; the version the form was built on (or the current one, for `fresh`)."""
    specs = assignment_specs()
    shown = {r["id"]: r for r in ledger_rows(represent_rows(ISSUE, issues))}
    out = []
    for issue in issues:
        p = prefix(issue["id"])
        mine: MultiDict[str, str] = MultiDict(
            {f.name: raw.get(p + f.name, "") for f in specs if raw.get(p + f.name)}
        )
        fields = bind(specs, mine, errors.get(issue["id"], {}), lang(), choices())
        for f in fields:
            f.name = p + f.name
            f.required = False  # a row left empty is not assigned in this meeting
        version = raw.get(p + "version", "")
        if issue["id"] in fresh or not version:
            version = str(issue["version"])
        out.append({"issue": shown[issue["id"]], "fields": fields, "version": version})
    return out


def form_payload(raw: MultiDict[str, str]) -> tuple[dict[str, Any], list[int]]:
    """The submitted form as the use case's payload, and the issue id of each assignment.

    Values that do not parse are handed on as typed, for the use case to name the error;
    a row whose three fields are empty is no assignment."""
    payload: dict[str, Any] = {
        "attendees": [v for v in raw.getlist("attendees") if v],
        "decisions": raw.get("decisions", "").strip(),
        "place": raw.get("place", "").strip() or None,
        "assignments": [],
    }
    held_at = raw.get("held_at", "").strip()
    if held_at:
        payload["held_at"] = local_to_iso(held_at, tz())
    visit_id = raw.get("visit_id", "").strip()
    if visit_id:
        payload["visit_id"] = int(visit_id) if visit_id.isdigit() else visit_id
    ids: list[int] = []
    for token in raw.getlist("issue"):
        if not token.isdigit():
            continue
        issue_id, p = int(token), prefix(int(token))
        values = {k: raw.get(p + k, "").strip() for k in ASSIGNMENT_FIELDS}
        if not any(values.values()):
            continue
        assignment: dict[str, Any] = {"issue_id": issue_id}
        assignment.update({k: v for k, v in values.items() if v})
        version = raw.get(p + "version", "")
        if version.isdigit():
            assignment["version"] = int(version)
        payload["assignments"].append(assignment)
        ids.append(issue_id)
    return payload, ids


def refusal(refused: AssignmentRefused) -> tuple[int, dict[str, list[str]], str]:
    """An assignment's refusal as the page shows it: status, its row's field errors, and a
    message naming the issue."""
    err, issue_id = refused.error, refused.issue_id
    if isinstance(err, InvalidData):
        return 422, translated(err.errors), ""
    if isinstance(err, VersionConflict):
        message = _(
            "Issue #%(id)s was changed by someone else meanwhile: check it and submit again.",
            id=issue_id,
        )
        return 409, {}, message
    if isinstance(err, InvalidTransition):
        message = _("Issue #%(id)s is no longer waiting to be assigned.", id=issue_id)
        return 409, {}, message
    if isinstance(err, NotPermitted):
        return 403, {}, _("Your role may not assign issue #%(id)s.", id=issue_id)
    if isinstance(err, NotFound):
        return 404, {}, _("Issue #%(id)s does not exist or you may not see it.", id=issue_id)
    if isinstance(err, DomainError):
        return status_of(err)[0], translated(err.errors), texts.message(err.message)
    return 400, {}, str(err)


def split_errors(
    errors: Mapping[str, Any], ids: Sequence[int]
) -> tuple[dict[str, list[str]], dict[int, dict[str, list[str]]]]:
    """The use case's field errors: the meeting's, and each assignment's by issue id."""
    own: dict[str, list[str]] = {}
    rows: dict[int, dict[str, list[str]]] = {}
    for name, messages in errors.items():
        if name == "assignments" and isinstance(messages, Mapping):
            for index, fields in messages.items():
                if isinstance(index, int) and index < len(ids) and isinstance(fields, Mapping):
                    rows[ids[index]] = translated(fields)
            continue
        own.update(translated({name: messages}))
    return own, rows


def chosen_visit(token: str) -> dict[str, Any] | None:
    """The visit named by `visit_id`, if the user may see it."""
    if not token.isdigit():
        return None
    row = repo.load(VISIT, int(token))
    return row if row is not None and visibility.can_see(VISIT, row, web_actor()) else None


def start_values(visit: Mapping[str, Any] | None) -> MultiDict[str, str]:
    """A new meeting starts now, with the visit's visitors and the recorder attending."""
    raw: MultiDict[str, str] = MultiDict()
    raw["held_at"] = to_local_input(runtime.now().replace(second=0, microsecond=0), tz())
    attendees = [*(visit["visitors"] if visit else []), web_actor().username]
    raw.setlist("attendees", list(dict.fromkeys(attendees)))
    return raw


@bp.route("/meetings/new", methods=["GET", "POST"])
@login_required
def meeting_new() -> Any:
    actor = web_actor()
    if actor.role not in roles.MEETING_RECORDERS:
        return error_page(403, _("Only marketing records feedback meetings."))
    token = request.values.get("visit_id", "").strip()
    visit = chosen_visit(token)
    errors: dict[str, list[str]] = {}
    row_errors: dict[int, dict[str, list[str]]] = {}
    message, status, fresh = "", 200, set()
    if request.method == "POST":
        raw: MultiDict[str, str] = MultiDict(request.form)
        payload, ids = form_payload(raw)
        ctx = handlers.Context(actor, "web", g.request_id)
        try:
            meeting = record_meeting(payload, ctx)
        except InvalidRequest as err:
            status = 422
            errors, row_errors = split_errors(err.errors, ids)
        except AssignmentRefused as refused:
            status, found, message = refusal(refused)
            row_errors = {refused.issue_id: found} if found else {}
            if status == 409:
                fresh = {refused.issue_id}
        else:
            text = _(
                "Feedback meeting #%(id)s recorded (issues assigned: %(n)s).",
                id=meeting["id"],
                n=len(meeting["assignments"]),
            )
            flash(text, "success")
            return redirect(url_for("web.meeting", meeting_id=meeting["id"]))
    else:
        raw = start_values(visit)
    return render_template(
        "web/meeting_new.html",
        visits=visit_options(),
        visit=visit,
        visit_label=visit_labels([visit["id"]])[visit["id"]] if visit else "",
        fields=meeting_fields(raw, errors),
        rows=assignment_rows(raised_issues(visit["id"] if visit else None), raw, row_errors, fresh),
        errors=errors,
        message=message,
        invalid_rows=bool(row_errors),
    ), status


# -- one meeting -------------------------------------------------------------------------
@bp.route("/meetings/<int:meeting_id>")
@login_required
def meeting(meeting_id: int) -> str:
    found = get_meeting(repo.connection(), meeting_id, web_actor())
    if found is None:
        raise NotFound(f"no feedback meeting {meeting_id}")
    t = ISSUE.table
    rows = [
        dict(r)
        for r in repo.connection()
        .execute(visible_rows(ISSUE, [t.c.id.in_(found["issue_ids"])]).order_by(t.c.id))
        .mappings()
    ]
    return render_template(
        "web/meeting.html",
        meeting=found,
        visit_name=visit_labels([found["visit_id"]] if found["visit_id"] else []).get(
            found["visit_id"], ""
        ),
        user_names=dict(user_options()),
        issues=ledger_rows(represent_rows(ISSUE, rows)),
    )
