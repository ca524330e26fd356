"""Rectification notices (整改通知): the list, issuing one, a notice's page and its steps.

The same pattern as the visit pages (`service/entrypoints/web/visits.py`): reads through
`service.store.visibility`, every change through `service.usecases.handlers` with
`source="web"`, the step forms generated from the definition by `fire_page`. Issuing a
notice from a supervision finding links the finding to it in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from service.core import labels, runtime
from service.core.errors import Conflict, InvalidRequest, NotFound
from service.core.texts import Text, message, render, stored
from service.entrypoints.web import search
from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import (
    _,
    bp,
    choices,
    creation_form,
    definition_of,
    department_options,
    lang,
    represent_rows,
    translated,
    tz,
)
from service.entrypoints.web.filtering import filtered_page
from service.entrypoints.web.forms import BoundField, bind, parse
from service.entrypoints.web.instances import fire_page, instance_context
from service.entrypoints.web.views import summary
from service.jobs import outbox
from service.store import repository as repo
from service.store.kinds import KINDS, RECTIFICATION
from service.store.models import Finding
from service.usecases import deadlines, handlers

findings_t = Finding.__table__
RELATED = (("visit", "related_visits"), ("issue", "related_issues"))
_ID = re.compile(r"\d{1,18}")


# -- list ----------------------------------------------------------------------------------
@bp.route("/notices")
@login_required
def notices() -> Any:
    t = RECTIFICATION.table
    # filters that cannot be used select nothing (the page says why)
    found = filtered_page(RECTIFICATION, t.c.due_at, t.c.id.desc())
    filter_errors = found.errors
    items = represent_rows(RECTIFICATION, found.rows)
    definition = definition_of(RECTIFICATION)
    return render_template(
        "web/notices.html",
        items=[(n, summary(RECTIFICATION, n, {})) for n in items],
        total=found.total,
        page=found.page,
        pages=found.pages,
        departments=department_options(),
        department_names=dict(department_options()),
        states=[(s.name, s.label.get(lang())) for s in definition.states.values()],
        may_create=runtime.registry().get(RECTIFICATION.workflow).may_create(web_actor()),
        filter_errors=filter_errors,
    ), (422 if filter_errors else 200)


# -- issuing -------------------------------------------------------------------------------
def related_tokens(form: MultiDict[str, str], name: str) -> list[str]:
    """The ids given for `name`: one per picked item, or typed (without the script) as a
    list separated by commas or spaces."""
    text = " ".join(form.getlist(name))
    return [t.lstrip("#") for t in re.split(r"[\s,，、;]+", text.strip()) if t.lstrip("#")]


def parse_related(form: MultiDict[str, str], errors: dict[str, list[str]]) -> list[Any]:
    """`related_visits` and `related_issues` as `[{workflow, id}]`; a token that is not an id
    is an error next to its field."""
    related: list[Any] = []
    for workflow, name in RELATED:
        for token in related_tokens(form, name):
            if _ID.fullmatch(token):
                item = {"workflow": workflow, "id": int(token)}
                if item not in related:
                    related.append(item)
            else:
                errors.setdefault(name, []).append(_("Not an id: %(value)s", value=token))
    return related


def related_fields(
    form: MultiDict[str, str], errors: Mapping[str, Sequence[str]]
) -> list[BoundField]:
    """The related visits and issues, each a picker that searches what the user may see."""
    labels = {"related_visits": _("Related visits"), "related_issues": _("Related issues")}
    out = []
    for workflow, name in RELATED:
        values = [t for t in related_tokens(form, name) if _ID.fullmatch(t)]
        ref = search.ref(workflow, values, multiple=True)
        out.append(
            BoundField(
                name,
                "ref",
                labels[name],
                _("Search by customer, place or title, and choose as many as apply."),
                False,
                options=list(ref.labels.items()),
                values=values,
                value=" ".join(t for t in related_tokens(form, name) if not _ID.fullmatch(t)),
                errors=list(errors.get(name, ())),
                multiple=True,
                search_url=ref.search_url,
            )
        )
    return out


def related_errors(messages: list[Any], related: list[Any]) -> dict[str, list[str]]:
    """The handler's `related` messages ("item 0: no visit 9") next to the field they are
    of, in the page's language."""
    out: dict[str, list[str]] = {}
    for found in messages:
        name = "related_visits"
        index = found.params.get("index") if isinstance(found, Text) else None
        if isinstance(index, int) and index < len(related):
            name = dict(RELATED).get(related[index]["workflow"], name)
        out.setdefault(name, []).append(message(found))
    return out


def load_finding(finding_id: int | None) -> dict[str, Any] | None:
    if finding_id is None:
        return None
    row = (
        repo.connection()
        .execute(sa.select(findings_t).where(findings_t.c.id == finding_id))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no finding {finding_id}")
    return dict(row)


def finding_text(finding: dict[str, Any]) -> str:
    """A finding as the supervisor's notice starts from: in the page's language."""
    return f"{finding_kind_label(finding['kind'])}: {stored(finding['message'], finding['detail'])}"


def finding_kind_label(kind: str) -> str:
    return render(labels.label(labels.FINDING_KINDS, kind))


def issue(data: dict[str, Any], finding_id: int | None) -> dict[str, Any]:
    """Create the notice through the handlers; from a finding, link the finding to it too."""
    ctx = handlers.Context(web_actor(), "web", g.request_id)
    if finding_id is None:
        return handlers.create(RECTIFICATION, data, ctx)
    with repo.writing() as conn:
        finding = (
            conn.execute(sa.select(findings_t).where(findings_t.c.id == finding_id))
            .mappings()
            .first()
        )
        if finding is None:
            raise NotFound(f"no finding {finding_id}")
        if finding["notice_id"] is not None:
            raise Conflict(_("A notice was issued for this finding meanwhile."))
        prepared = handlers.prepare_creation(RECTIFICATION, data, ctx, conn)
        taken = deadlines.notice_of(conn, finding["key"]) is not None
        notice_id = handlers.insert_created(
            conn,
            RECTIFICATION,
            prepared,
            ctx,
            runtime.now(),
            origin=None if taken else finding["key"],
        )
        linked = conn.execute(
            findings_t.update()
            .where(findings_t.c.id == finding_id, findings_t.c.notice_id.is_(None))
            .values(notice_id=notice_id)
        ).rowcount
        if not linked:  # another supervisor was quicker: roll this one back
            raise Conflict(_("A notice was issued for this finding meanwhile."))
        rep = handlers.get(RECTIFICATION, notice_id, ctx.actor, conn)
    outbox.wake()
    return rep


@bp.route("/notices/new", methods=["GET", "POST"])
@login_required
def notice_new() -> Any:
    refusal = _("Only the supervision group issues rectification notices.")
    _signed_in, specs = creation_form(RECTIFICATION.workflow, refusal)
    finding_id = request.values.get("finding", type=int)
    finding = load_finding(finding_id)
    if finding is not None and finding["notice_id"] is not None:
        return redirect(url_for("web.notice", notice_id=finding["notice_id"]))
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        raw: MultiDict[str, str] = MultiDict(request.form)
        data = parse(specs, raw, tz())
        related = parse_related(raw, errors)
        if not errors:
            try:
                rep = issue({**data, "related": related}, finding_id)
            except InvalidRequest as err:
                found = translated({k: v for k, v in err.errors.items() if k != "related"})
                errors = {**found, **related_errors(err.errors.get("related", []), related)}
            else:
                flash(_("Rectification notice #%(id)s issued.", id=rep["id"]), "success")
                return redirect(url_for("web.notice", notice_id=rep["id"]))
        status = 422
    else:
        raw = MultiDict()
        if finding is not None:
            raw["department"] = finding["department"] or ""
            raw["findings"] = finding_text(finding)
            if finding["workflow"] in ("visit", "issue") and finding["object_id"]:
                raw[dict(RELATED)[finding["workflow"]]] = str(finding["object_id"])
    fields = bind(specs, raw, errors, lang(), choices())
    return render_template(
        "web/notice_new.html",
        fields=fields,
        errors=errors,
        finding=finding,
        related_fields=related_fields(raw, errors),
    ), status


# -- one notice ------------------------------------------------------------------------------
def related_links(related: list[Any]) -> list[tuple[str, str | None]]:
    """The notice's related items, labelled as the search labels them, with their pages."""
    ids: dict[str, list[Any]] = {}
    for item in related or []:
        ids.setdefault(str(item.get("workflow")), []).append(item.get("id"))
    labels = {w: search.labels(KINDS[w], ids[w]) for w in ids if w in search.SEARCHABLE}
    out: list[tuple[str, str | None]] = []
    for item in related or []:
        workflow, item_id = item.get("workflow"), item.get("id")
        fallback = f"{definition_of_label(workflow)} #{item_id}"
        label = labels.get(str(workflow), {}).get(str(item_id), fallback)
        url = None
        if workflow == "visit":
            url = url_for("web.visit", visit_id=item_id)
        elif workflow == "issue" and "web.issue" in current_app.view_functions:
            url = url_for("web.issue", issue_id=item_id)
        out.append((label, url))
    return out


def definition_of_label(workflow: str) -> str:
    try:
        return str(runtime.registry().get(workflow).definition.label.get(lang()))
    except KeyError:
        return workflow


@bp.route("/notices/<int:notice_id>")
@login_required
def notice(notice_id: int) -> str:
    context = instance_context(RECTIFICATION, notice_id, _("The notice"))
    related = related_links(context["instance"].get("related") or [])
    return render_template("web/notice.html", related=related, **context)


@bp.route("/notices/<int:notice_id>/fire/<trigger>", methods=["GET", "POST"])
@login_required
def notice_fire(notice_id: int, trigger: str) -> Any:
    return fire_page(RECTIFICATION, notice_id, trigger, url_for("web.notice", notice_id=notice_id))
