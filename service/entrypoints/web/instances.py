"""One instance's page and its step forms, for any kind of workflow (visits, issues, notices).

`instance_context` gathers what an instance page shows (data with labels, deadlines, history,
the steps the user may take); `fire_page` is the step form: generated from the transition's
fields, submitted through `handlers.fire` with `source="web"`, errors next to the fields, a
version conflict shown with the input kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request
from werkzeug.datastructures import MultiDict

from service.core import runtime
from service.entrypoints.web import search
from service.entrypoints.web.auth import web_actor
from service.entrypoints.web.common import (
    _,
    as_datetime,
    choices,
    customer_options,
    definition_of,
    department_options,
    error_page,
    lang,
    person,
    show,
    translated,
    trigger_label,
    tz,
)
from service.entrypoints.web.diagrams import diagram
from service.entrypoints.web.forms import bind, initial, parse
from service.store.kinds import VISIT, Kind
from service.usecases import client_requests, handlers
from workflows import Actor, InvalidData, VersionConflict
from workflows.spec import Definition, FieldSpec, TransitionSpec
from workflows.timebounds import BACKDATED

# A reason explains one change; it is never carried over from another transition's form.
NO_CARRY = frozenset({"reason"})


def names_for(kind: Kind, visit_ids: Sequence[Any] = ()) -> dict[str, dict[str, str]]:
    """Display names for the fields that hold a reference: customers, departments, visits
    (those of `visit_ids` the user may see)."""
    names: dict[str, dict[str, str]] = {}
    if "visit_id" in kind.fields and visit_ids:
        names["visit_id"] = search.labels(VISIT, visit_ids)
    if "customer_id" in kind.fields:
        names["customer_id"] = dict(customer_options())
    departments = dict(department_options())
    for name in ("responsible_department", "department"):
        if name in kind.fields:
            names[name] = departments
    return names


def _fields_of(transitions: Sequence[TransitionSpec]) -> list[FieldSpec]:
    seen: dict[str, FieldSpec] = {}
    for t in transitions:
        for f in t.fields:
            seen.setdefault(f.name, f)
    return list(seen.values())


def _rows(
    specs: Sequence[FieldSpec], values: Mapping[str, Any], names: Mapping[str, Any]
) -> list[tuple[str, str, str]]:
    return [
        (s.label.get(lang()), show(s, values.get(s.name), names), s.name)
        for s in specs
        if s.name in values
    ]


def data_sections(
    kind: Kind,
    rep: Mapping[str, Any],
    definition: Definition,
    create_title: str | None = None,
    history: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """The creation fields (as they stand now), then each step's last submitted data.

    The steps come in the order of the history (`history`, newest first), by their latest
    round: a record sent back and submitted again comes after the rework that asked for it.
    """
    create_title = create_title or _("Plan")
    names = names_for(kind, [rep.get("visit_id")] if rep.get("visit_id") else [])
    data = rep.get("data") or {}
    created = {**(data.get("create") or {}), **{k: rep.get(k) for k in kind.fields}}
    sections: list[dict[str, Any]] = [
        {
            "id": "create",
            "title": create_title,
            "rows": [
                (s.label.get(lang()), show(s, created.get(s.name), names), s.name)
                for s in definition.create.fields
            ],
        }
    ]
    latest: dict[str, Mapping[str, Any]] = {}
    rounds: dict[str, int] = {}
    for event in reversed(history):  # oldest first: the latest round of each step wins
        trigger = event["trigger"]
        if trigger in data:
            latest.pop(trigger, None)  # re-insert: dicts keep the order of the latest rounds
            latest[trigger] = event
            rounds[trigger] = rounds.get(trigger, 0) + 1
    order = list(latest) + [t for t in definition.triggers if t in data and t not in latest]
    for trigger in order:
        specs = _fields_of(definition.transitions_named(trigger))
        event = latest.get(trigger)
        sections.append(
            {
                "id": trigger,
                "title": trigger_label(definition, trigger),
                "rows": _rows(specs, data[trigger], names),
                "at": event["at"] if event else None,
                "actor": event["actor"] if event else None,
                "rounds": rounds.get(trigger, 1),
            }
        )
    return sections


def deadline_rows(rep: Mapping[str, Any], definition: Definition) -> list[dict[str, Any]]:
    now = runtime.now()
    out = []
    for d in rep["deadlines"]:
        spec = definition.states[d["state"]].deadline if d["state"] in definition.states else None
        due = as_datetime(d["due_at"])
        out.append(
            {
                "label": spec.label.get(lang()) if spec else d["kind"],
                "kind": d["kind"],
                "due_at": d["due_at"],
                "overdue": due is not None and due <= now,
            }
        )
    return out


def history_rows(kind: Kind, instance_id: int, definition: Definition) -> list[dict[str, Any]]:
    """The timeline, newest first: every event with the data submitted in it, so that each
    round of a step (a record sent back and submitted again) stays visible."""
    from service.store import repository as repo

    events, _total = repo.history(kind.workflow, instance_id, 1, 1000)
    names = names_for(kind)
    rows = []
    for e in reversed(events):
        trigger = e["trigger"]
        specs: Sequence[FieldSpec] = ()
        if trigger is None:
            specs = ()  # the creation's data is the first card, as it stands now
        elif not trigger.startswith("expire:"):
            specs = _fields_of(definition.transitions_named(trigger))
        rows.append(
            {
                "at": e["at"],
                "actor": e["actor"],
                "actor_name": person(e["actor"]),
                "source": e["source"],
                "trigger": trigger,
                "label": trigger_label(definition, trigger),
                "from": e["from_state"],
                "to": e["to_state"],
                "version": e["version"],
                "rows": _rows(specs, e["data"] or {}, names),
                "backdated": _backdated(definition, trigger, e["data"]),
            }
        )
    return rows


def _backdated(definition: Definition, trigger: str | None, data: Any) -> list[str]:
    """The labels of the fields an event's actor back-dated (a planned time in the past)."""
    names = data.get(BACKDATED) if isinstance(data, dict) else None
    if not names:
        return []
    specs = (
        definition.create.fields
        if trigger is None
        else _fields_of(definition.transitions_named(trigger))
    )
    labels = {s.name: s.label.get(lang()) for s in specs}
    return [labels.get(n, n) for n in names]


def instance_context(kind: Kind, instance_id: int, create_title: str) -> dict[str, Any]:
    """What an instance page shows; 404 when the user may not see the instance."""
    rep = handlers.get(kind, instance_id, web_actor())
    definition = definition_of(kind, rep["definition_version"])
    history = history_rows(kind, instance_id, definition)
    return {
        "kind": kind,
        "instance": rep,
        "sections": data_sections(kind, rep, definition, create_title, history),
        "deadlines": deadline_rows(rep, definition),
        "history": history,
        "diagram": diagram(definition, rep["state"], lang()),
        "states": [(s.name, s.label.get(lang()), s.final) for s in definition.states.values()],
        "buttons": [(t, trigger_label(definition, t)) for t in rep["allowed_triggers"]],
    }


# -- step forms --------------------------------------------------------------------------
def _prefill(
    kind: Kind, rep: Mapping[str, Any], trigger: str, definition: Definition
) -> list[dict[str, Any]]:
    """Where a form's first values come from: this trigger's last data, the instance, the rest."""
    data = rep.get("data") or {}
    others = [
        {k: v for k, v in data[t].items() if k not in NO_CARRY}
        for t in reversed(definition.triggers)
        if t != trigger and t in data
    ]
    attrs = {k: rep.get(k) for k in kind.fields}
    create = {k: v for k, v in (data.get("create") or {}).items() if k not in NO_CARRY}
    return [data.get(trigger) or {}, attrs, *others, create]


def _not_allowed(kind: Kind) -> str:
    if kind.workflow == "visit":
        return _("Your role or part in this visit does not allow it.")
    return _("Your role or part in this does not allow it.")


def _submit(kind: Kind, instance_id: int, body: dict[str, Any], actor: Actor) -> bool:
    """Fire the form's step, once per `client_id` the form carries (rendered into the form,
    kept by the offline queue): True if an earlier submission with that id did it."""
    ctx = handlers.Context(actor, "web", g.request_id)
    key = client_requests.checked_key(request.form.get("client_id"))
    if key is None:
        handlers.fire(kind, instance_id, body, ctx)
        return False
    dumps = current_app.json.dumps
    return client_requests.fire_once(kind, instance_id, body, ctx, key, dumps).replayed


def fire_page(kind: Kind, instance_id: int, trigger: str, back: str) -> Any:
    """A transition's form (GET) and its submission through `handlers.fire` (POST)."""
    actor = web_actor()
    rep = handlers.get(kind, instance_id, actor)
    definition = definition_of(kind, rep["definition_version"])
    if trigger not in definition.triggers:
        abort(404)
    spec = definition.transition(trigger, rep["state"])
    errors: dict[str, Any] = {}
    conflict = False
    status = 200
    version = rep["version"]
    if request.method == "GET":
        if spec is None:
            return error_page(409, _("This step is not possible from the current state."))
        if trigger not in rep["allowed_triggers"]:
            return error_page(403, _not_allowed(kind))
        raw = initial(spec.fields, _prefill(kind, rep, trigger, definition), tz())
    else:
        spec = spec or definition.transitions_named(trigger)[0]
        raw = MultiDict(request.form)
        try:
            version = int(request.form.get("version", ""))
        except ValueError:
            return error_page(400, _("The form is missing the version. Reload it."))
        body = {"trigger": trigger, "version": version, "data": parse(spec.fields, raw, tz())}
        try:
            replayed = _submit(kind, instance_id, body, actor)
        except InvalidData as err:
            errors, status = translated(err.errors), 422
        except VersionConflict as err:
            # Show what changed; the input stays, and a second submission applies it to the
            # version now shown (the engine checks the state and the rights again then).
            conflict, status, version = True, 409, err.actual
            rep = handlers.get(kind, instance_id, actor)
        else:
            if replayed:  # the offline queue, a double click: the first submission did it
                flash(_("This step was sent before and is done already; nothing changed."), "info")
            else:
                flash(_("Done: %(label)s.", label=trigger_label(definition, trigger)), "success")
            return redirect(back)
    fields = bind(spec.fields, raw, errors, lang(), choices())
    return render_template(
        "web/fire.html",
        client_id=raw.get("client_id") or uuid.uuid4().hex,
        kind=kind,
        instance=rep,
        trigger=trigger,
        title=spec.label.get(lang()),
        fields=fields,
        errors=errors,
        conflict=conflict,
        version=version,
        back=back,
    ), status
