"""What every page module shares: the blueprint, texts, times, labels and reference data.

`views.py` (sign in, inbox), `visits.py`, `instances.py` (an instance's page and its step
forms), `issues.py`, `customers.py` and the other areas register their routes on `bp` and read
through these helpers; the list pages page through `page_args` and `page_of`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, g, make_response, render_template, request
from flask_babel import get_locale, gettext

from service.core import runtime
from service.core.texts import message
from service.entrypoints.web.auth import web_actor
from service.entrypoints.web.forms import Choices, Clock, Person, Ref
from service.store import paging
from service.store import repository as repo
from service.store.kinds import Kind
from service.store.models import Customer, Department, User
from service.usecases import listing
from workflows import Actor
from workflows.spec import Definition, FieldSpec, FieldType

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/web-static",
)


def _(text: str, **variables: Any) -> str:
    """The text in the page's language (Flask-Babel's gettext, typed)."""
    return str(gettext(text, **variables))


def error_page(status: int, message: str) -> tuple[str, int]:
    titles = {
        400: _("The request was refused"),
        403: _("You may not do this"),
        404: _("Not found"),
        409: _("Not possible now"),
        422: _("Invalid request"),
    }
    title = titles.get(status, _("Error"))
    return render_template("web/error.html", status=status, title=title, message=message), status


def creation_form(workflow: str, refusal: str) -> tuple[Actor, tuple[FieldSpec, ...]]:
    """The signed-in actor and the fields of `workflow`'s creation form; for a role that may
    not create one, the 403 page saying `refusal` (the request ends there)."""
    actor = web_actor()
    found = runtime.registry().get(workflow)
    if not found.may_create(actor):
        abort(make_response(error_page(403, refusal)))
    return actor, found.definition.create.fields


# -- languages and times -----------------------------------------------------------------
def lang() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "zh"


def tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) > 10:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def past(value: Any, now: datetime) -> bool:
    moment = as_datetime(value)
    return moment is not None and moment <= now


def local_time(value: Any) -> str:
    """A time as `YYYY-MM-DD HH:MM` in the business time zone; a bare date as it is."""
    moment = as_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(tz())
    return moment.strftime("%Y-%m-%d %H:%M")


# -- the definitions' labels -------------------------------------------------------------
def definition_of(kind: Kind, version: int | None = None) -> Definition:
    return runtime.registry().get(kind.workflow, version).definition


def state_label(workflow: str, state: str | None) -> str:
    if state is None:
        return ""
    states = runtime.registry().get(workflow).definition.states
    return states[state].label.get(lang()) if state in states else state


def trigger_label(definition: Definition, trigger: str | None) -> str:
    if trigger is None:
        return _("Created")
    if trigger.startswith("expire:"):
        kind = trigger.split(":", 1)[1]
        for state in definition.states.values():
            if state.deadline is not None and state.deadline.kind == kind:
                return _("Deadline passed: %(label)s", label=state.deadline.label.get(lang()))
        return trigger
    named = definition.transitions_named(trigger)
    return named[0].label.get(lang()) if named else trigger


def field_spec(definition: Definition, name: str) -> FieldSpec | None:
    """The first field called `name`: in the creation form, then in the transitions' forms."""
    for spec in definition.create.fields:
        if spec.name == name:
            return spec
    for trigger in definition.triggers:
        for t in definition.transitions_named(trigger):
            for spec in t.fields:
                if spec.name == name:
                    return spec
    return None


def choice_label(definition: Definition, name: str, value: Any) -> str:
    spec = field_spec(definition, name)
    if spec is None or value is None:
        return "" if value is None else str(value)
    labels = {c.value: c.label.get(lang()) for c in spec.choices}
    return labels.get(value, str(value))


# -- reference data ----------------------------------------------------------------------
def user_options() -> list[tuple[str, str]]:
    users = User.__table__
    rows = repo.connection().execute(
        sa.select(users.c.username, users.c.display_name, users.c.role)
        .where(users.c.active, users.c.role != "integration")
        .order_by(users.c.username)
    )
    return [(r.username, r.display_name or r.username) for r in rows]


def person_options() -> list[Person]:
    """Everyone a people picker may offer, by department then name; each field filters."""
    users = User.__table__
    rows = repo.connection().execute(
        sa.select(users.c.username, users.c.display_name, users.c.role, users.c.department)
        .where(users.c.active, users.c.role != "integration")
        .order_by(users.c.department, users.c.display_name, users.c.username)
    )
    departments = dict(department_options())
    return [
        Person(
            r.username,
            " · ".join(
                x for x in (r.display_name or r.username, departments.get(r.department or "")) if x
            ),
            r.role,
            r.department,
        )
        for r in rows
    ]


def user_names() -> dict[str, str]:
    """Display names by username (the username where a person has none), once per request."""
    names: dict[str, str] | None = g.get("_user_names")
    if names is None:
        users = User.__table__
        rows = repo.connection().execute(sa.select(users.c.username, users.c.display_name))
        names = {r.username: r.display_name or r.username for r in rows}
        names["system"] = _("System")
        g._user_names = names
    return names


def person(username: Any) -> str:
    """A person as pages show them: the display name, never the bare username if there is one."""
    if username is None or username == "":
        return ""
    return user_names().get(str(username), str(username))


def people(usernames: Any) -> str:
    return ", ".join(person(u) for u in as_list(usernames or []))


def department_options() -> list[tuple[str, str]]:
    d = Department.__table__
    rows = repo.connection().execute(sa.select(d.c.code, d.c.name).order_by(d.c.code))
    return [(r.code, r.name or r.code) for r in rows]


def customer_options() -> list[tuple[str, str]]:
    c = Customer.__table__
    rows = repo.connection().execute(sa.select(c.c.id, c.c.name, c.c.tier).order_by(c.c.name))
    return [(str(r.id), r.name) for r in rows]


def choices(
    refs: Mapping[str, Ref] | None = None, **overrides: Sequence[tuple[str, str]]
) -> Choices:
    return Choices(
        users=user_options(),
        departments=department_options(),
        overrides=overrides,
        clock=form_clock(),
        people=person_options(),
        refs=refs or {},
    )


def form_clock() -> Clock:
    """Now, the business time zone and the signed-in role: the bounds of time inputs."""
    skew = timedelta(seconds=float(current_app.config["CLOCK_SKEW_SECONDS"]))
    return Clock(runtime.now(), tz(), web_actor().role, skew)


def show(spec: FieldSpec, value: Any, names: Mapping[str, Mapping[str, str]]) -> str:
    """A stored value as a reader sees it: labels for choices, names for people, local times."""
    if value is None or value == "" or value == []:
        return "—"
    t = spec.type
    if spec.name in names:
        lookup = names[spec.name]
        return ", ".join(lookup.get(str(v), str(v)) for v in as_list(value))
    if t is FieldType.BOOLEAN:
        return _("Yes") if value else _("No")
    if t in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        labels = {c.value: c.label.get(lang()) for c in spec.choices}
        return ", ".join(labels.get(v, str(v)) for v in as_list(value))
    if t in (FieldType.USER, FieldType.USERS):
        return people(value)
    if t is FieldType.DATETIME:
        return local_time(value)
    if t is FieldType.GEO and isinstance(value, Mapping):
        return checkin_text(value)
    return str(value)


def checkin_flag_labels() -> dict[str, str]:
    return {
        "outside_radius": _("outside the site's radius"),
        "poor_accuracy": _("poor location accuracy"),
        "clock_skew": _("the device's clock is off"),
        "no_site": _("the customer has no site"),
    }


def checkin_text(value: Mapping[str, Any]) -> str:
    """A check-in as its reader needs it: when (the server's time), where against the
    customer's sites, how precisely, and what is doubtful about it."""
    parts = [_("at %(time)s", time=local_time(value.get("server_time")))]
    if value.get("distance_m") is not None:
        parts.append(
            _("%(distance)s m from %(site)s", distance=value["distance_m"], site=value.get("site"))
        )
    parts.append(_("accurate to %(metres)s m", metres=round(float(value.get("accuracy") or 0))))
    flags = value.get("flags") or []
    labels = checkin_flag_labels()
    comma, semicolon = ("，", "；") if lang() == "zh" else (", ", "; ")
    text = comma.join(parts)
    doubt = semicolon.join(labels.get(f, f) for f in flags)
    return f"{text} ⚠ {doubt}" if flags else f"{text} ✓"


def translated(errors: Mapping[str, Any]) -> dict[str, list[str]]:
    """Field messages in the page's language: the use cases' `Text`s rendered, the engine's
    fixed texts through the catalog (service/entrypoints/web/messages.py)."""
    return {name: [message(m) for m in as_list(messages)] for name, messages in errors.items()}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- reading what the signed-in user may see ---------------------------------------------
def visible_rows(kind: Kind, where: list[Any]) -> sa.Select[Any]:
    return listing.visible(kind, web_actor(), where)


def represent_rows(kind: Kind, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return listing.represent_rows(kind, rows, web_actor())


# -- paging ------------------------------------------------------------------------------
def page_args(
    parsed: dict[str, Any] | None = None, size_setting: str = "WEB_PER_PAGE"
) -> tuple[int, int]:
    """The page asked for (from 1) and the pages' size, the setting `size_setting`: a visitor
    does not choose it. `?page=` as it comes: anything but a positive number is the first page.
    A list page whose filters were parsed (`filtering.page_filters`) passes them: their
    checked `page` is taken, and `page` and `per_page` leave them, so only filters remain."""
    size = int(current_app.config[size_setting])
    if parsed is not None:
        parsed.pop("per_page", None)
        return int(parsed.pop("page", 1)), size
    return max(request.args.get("page", 1, type=int) or 1, 1), size


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` rows fill, at least one (an empty list is one empty page)."""
    return max((total + per_page - 1) // per_page, 1)


def page_of(query: sa.Select[Any], page_no: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    """That page of the query's rows (in its order) and the count of them all."""
    return paging.page_rows(repo.connection(), query, page_no, per_page)
