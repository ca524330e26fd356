"""Forms generated from a definition's fields: HTML widgets, and request.form back to data.

`bind` turns `FieldSpec`s into `BoundField`s that the `fields.html` macros render; `parse`
turns a submitted form into the JSON-like data the engine's `Form` validates, so that a
field error comes from the engine, exactly as for the API. Values that do not parse are
handed on as typed, for the engine to name the error next to the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from workflows.spec import FieldSpec, FieldType
from workflows.timebounds import window

Option = tuple[str, str]  # value, label


class Person(NamedTuple):
    """Someone a people picker may offer: the field's `roles` and `departments` decide."""

    username: str
    label: str  # the display name and department, as the picker shows it
    role: str
    department: str | None


@dataclass(frozen=True)
class Ref:
    """An id field chosen by search: where to search, and the labels of the chosen ids."""

    search_url: str
    labels: Mapping[str, str] = field(default_factory=dict)
    multiple: bool = False


WIDGETS: dict[FieldType, str] = {
    FieldType.STRING: "input",
    FieldType.TEXT: "textarea",
    FieldType.INTEGER: "number",
    FieldType.NUMBER: "number",
    FieldType.RATING: "rating",
    FieldType.BOOLEAN: "checkbox",
    FieldType.DATE: "date",
    FieldType.DATETIME: "datetime",
    FieldType.CHOICE: "select",
    FieldType.MULTI_CHOICE: "checkboxes",
    FieldType.USER: "select",
    FieldType.USERS: "multiselect",
    FieldType.DEPARTMENT: "select",
    FieldType.GEO: "geo",
}
LIST_TYPES = frozenset({FieldType.MULTI_CHOICE, FieldType.USERS})


@dataclass
class BoundField:
    """One field ready to render: its widget, texts in the page's language, value, errors."""

    name: str
    widget: str  # input textarea number rating checkbox date datetime select checkboxes ...
    label: str
    help: str | None
    required: bool
    options: list[Option] = field(default_factory=list)
    value: str = ""  # single-valued widgets
    values: list[str] = field(default_factory=list)  # checkboxes and multi-selects
    errors: list[str] = field(default_factory=list)
    max_length: int | None = None
    step: str | None = None
    min: float | None = None
    max: float | None = None
    earliest: str | None = None  # a date or datetime-local input's min, from `not_before`
    latest: str | None = None  # its max, from `not_after`
    multiple: bool = False  # a people or ref picker that takes several
    search_url: str | None = None  # a ref picker's search endpoint
    filterable: bool = False  # a select with a filter box (people, customers...)

    @property
    def chosen(self) -> list[Option]:
        """A picker's chosen values with their labels, in the order chosen."""
        labels = dict(self.options)
        picked = self.values if self.multiple else [self.value] if self.value else []
        return [(v, labels.get(v, v)) for v in picked]

    @property
    def id(self) -> str:
        return f"f-{self.name}"


@dataclass(frozen=True)
class Clock:
    """What the time bounds of date and datetime inputs depend on: now, where, and who."""

    now: datetime
    tz: ZoneInfo
    role: str
    skew: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class Choices:
    """Reference data for user, users and department fields, and per-field overrides; the
    clock bounds date and datetime inputs (`not_before` / `not_after: now`)."""

    users: Sequence[Option] = ()
    departments: Sequence[Option] = ()
    overrides: Mapping[str, Sequence[Option]] = field(default_factory=dict)  # name -> options
    clock: Clock | None = None
    people: Sequence[Person] = ()  # for user and users fields, filtered by each field
    refs: Mapping[str, Ref] = field(default_factory=dict)  # name -> chosen by search


def bind(
    specs: Iterable[FieldSpec],
    raw: MultiDict[str, str],
    errors: Mapping[str, Sequence[str]],
    lang: str,
    choices: Choices,
) -> list[BoundField]:
    """The fields with what was typed (`raw`, as submitted) and the engine's errors."""
    out = []
    for spec in specs:
        widget, options = _widget(spec, lang, choices)
        ref = choices.refs.get(spec.name)
        bound = BoundField(
            name=spec.name,
            widget=widget,
            label=spec.label.get(lang),
            help=spec.help.get(lang) if spec.help else None,
            required=spec.required,
            options=options,
            errors=[str(m) for m in errors.get(spec.name, ())],
            max_length=spec.max_length,
            min=spec.min,
            max=spec.max,
            step="any" if spec.type is FieldType.NUMBER else None,
            multiple=spec.type in LIST_TYPES or bool(ref and ref.multiple),
            search_url=ref.search_url if ref else None,
            filterable=spec.name in choices.overrides
            or spec.type in (FieldType.USER, FieldType.USERS),
        )
        if choices.clock is not None and widget in ("date", "datetime"):
            bound.earliest, bound.latest = input_bounds(spec, widget, choices.clock)
        if bound.multiple:
            bound.values = raw.getlist(spec.name)
        else:
            bound.value = raw.get(spec.name, "")
        out.append(bound)
    return out


def input_bounds(spec: FieldSpec, widget: str, clock: Clock) -> tuple[str | None, str | None]:
    """A date or datetime-local input's min and max: a hint to the browser, whole days (the
    page may stay open for hours), the server's check being the exact one."""
    lo, hi = window(spec, clock.now, clock.skew, clock.tz)
    if clock.role in spec.backdate_roles:
        lo = None

    def day(value: date | None, time_of_day: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            value = value.astimezone(clock.tz).date()
        return value.isoformat() + (time_of_day if widget == "datetime" else "")

    return day(lo, "T00:00"), day(hi, "T23:59")


def _widget(spec: FieldSpec, lang: str, choices: Choices) -> tuple[str, list[Option]]:
    """The widget of a field and the options it offers."""
    if spec.name in choices.refs:
        return "ref", list(choices.refs[spec.name].labels.items())
    if spec.name in choices.overrides:
        options = list(choices.overrides[spec.name])
        return ("multiselect" if spec.type in LIST_TYPES else "select"), options
    if spec.type in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        return WIDGETS[spec.type], [(c.value, c.label.get(lang)) for c in spec.choices]
    if spec.type in (FieldType.USER, FieldType.USERS):
        if not choices.people:
            return WIDGETS[spec.type], list(choices.users)
        eligible = [p for p in choices.people if spec.eligible(p.role, p.department)]
        return WIDGETS[spec.type], [(p.username, p.label) for p in eligible]
    if spec.type is FieldType.DEPARTMENT:
        return WIDGETS[spec.type], list(choices.departments)
    if spec.type is FieldType.DATETIME and spec.accepts_date:
        return "date", []  # a due date: the end of that working day
    return WIDGETS[spec.type], []


def parse(specs: Iterable[FieldSpec], form: MultiDict[str, str], tz: ZoneInfo) -> dict[str, Any]:
    """Submitted strings as the engine's data: typed where they parse, as typed where not.

    An empty optional field is left out; an unticked checkbox is `false`; a `datetime-local`
    value is a time in the business time zone, handed on with its offset.
    """
    data: dict[str, Any] = {}
    for spec in specs:
        t = spec.type
        if t is FieldType.BOOLEAN:
            data[spec.name] = spec.name in form
            continue
        if t in LIST_TYPES:
            values = [v for v in form.getlist(spec.name) if v != ""]
            if values or spec.required:
                data[spec.name] = values
            continue
        text = form.get(spec.name, "")
        if t not in (FieldType.STRING, FieldType.TEXT):
            text = text.strip()
        if text == "" or (t in (FieldType.STRING, FieldType.TEXT) and not text.strip()):
            if spec.required and t in (FieldType.STRING, FieldType.TEXT) and text:
                data[spec.name] = text  # blank: the engine says "must not be blank"
            continue
        data[spec.name] = _typed(spec, text, tz)
    return data


def _typed(spec: FieldSpec, text: str, tz: ZoneInfo) -> Any:
    t = spec.type
    if t in (FieldType.INTEGER, FieldType.RATING):
        try:
            return int(text)
        except ValueError:
            return text
    if t is FieldType.NUMBER:
        try:
            return float(text)
        except ValueError:
            return text
    if t is FieldType.GEO:  # the check-in as the page's script wrote it
        try:
            return json.loads(text)
        except ValueError:
            return text  # the engine says it is not an object
    if t is FieldType.DATETIME:
        if spec.accepts_date and len(text) == 10:
            return text  # a bare date: the engine keeps it as the end of that working day
        return local_to_iso(text, tz)
    return text


def local_to_iso(text: str, tz: ZoneInfo) -> str:
    """`2026-11-10T10:00` (a datetime-local value) as an ISO time with the zone's offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return text
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.isoformat()


def to_local_input(value: Any, tz: ZoneInfo) -> str:
    """A stored time as a `datetime-local` value in the business time zone."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(tz)
        return str(value.strftime("%Y-%m-%dT%H:%M"))
    if isinstance(value, date):
        return str(value.isoformat())
    return "" if value is None else str(value)


def initial(
    specs: Iterable[FieldSpec], sources: Sequence[Mapping[str, Any]], tz: ZoneInfo
) -> MultiDict[str, str]:
    """Raw form values to start from: the first source naming each field, in form syntax.

    Fields that set an attribute (a new planned time) start empty: they ask for a change.
    """
    raw: MultiDict[str, str] = MultiDict()
    for spec in specs:
        if spec.sets or spec.type is FieldType.GEO:  # a check-in is taken anew, never prefilled
            continue
        for source in sources:
            value = source.get(spec.name)
            if value is None or value == "" or value == []:
                continue
            if spec.type in LIST_TYPES and isinstance(value, list):
                raw.setlist(spec.name, [str(v) for v in value])
            elif spec.type is FieldType.BOOLEAN:
                if value is True:
                    raw[spec.name] = "y"
            elif spec.type is FieldType.DATETIME and not (spec.accepts_date and len(value) == 10):
                raw[spec.name] = to_local_input(value, tz)
            else:
                raw[spec.name] = str(value)
            break
    return raw
