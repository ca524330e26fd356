"""The list filters of visits, issues and notices: one validated parser for the API and pages.

A bad value (`from=garbage`, `overdue=maybe`, `page=0`, `customer_id=abc`, an unknown state,
department or person, an unknown parameter) is an error naming the parameter, never ignored.
Messages are English gettext msgids: the API answers them as they are, pages translate them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from service.core import context
from service.core.statuses import DeadlineStatus
from service.store import repository as repo
from service.store.kinds import ISSUE, RECTIFICATION, VISIT, Kind
from service.store.models import Deadline, Department, User, VisitVisitor

NOT_A_NUMBER = "Not a whole number."
AT_LEAST_ONE = "Must be 1 or more."
NOT_YES_NO = "Not yes or no (true or false)."
NOT_A_MOMENT = "Not a date (2026-12-01) or a time with its offset (2026-12-01T09:00:00+08:00)."
UNKNOWN_STATE = "No such state."
UNKNOWN_CHOICE = "Not one of the choices."
UNKNOWN_DEPARTMENT = "No such department."
UNKNOWN_USER = "No such user."
UNKNOWN_FILTER = "Unknown filter."
FROM_AFTER_TO = "The start is after the end."
MESSAGES = (NOT_A_NUMBER, AT_LEAST_ONE, NOT_YES_NO, NOT_A_MOMENT, UNKNOWN_STATE, UNKNOWN_CHOICE,
            UNKNOWN_DEPARTMENT, UNKNOWN_USER, UNKNOWN_FILTER, FROM_AFTER_TO)  # fmt: skip


class Invalid(Exception):
    """Filters that cannot be used: messages per parameter."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__(", ".join(errors))
        self.errors = dict(errors)


class Moment(fields.String):
    """An aware date-time, or a date: the start of that business day (the end for `to`)."""

    default_error_messages = {"invalid": NOT_A_MOMENT}

    def __init__(self, end_of_day: bool = False, **kwargs: Any) -> None:
        super().__init__(metadata={"format": "date or date-time"}, **kwargs)
        self.end_of_day = end_of_day

    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: Any, data: Any, **kwargs: Any
    ) -> datetime:
        text = str(super()._deserialize(value, attr, data, **kwargs)).strip()
        try:
            if len(text) == 10:
                return self._day(date.fromisoformat(text))
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise self.make_error("invalid") from None
        if moment.tzinfo is None:
            raise self.make_error("invalid")
        return moment

    def _day(self, day: date) -> datetime:
        tz = context.registry().calendar.tz
        if self.end_of_day:
            return datetime.combine(day + timedelta(days=1), time.min, tz) - timedelta(
                microseconds=1
            )
        return datetime.combine(day, time.min, tz)


def _integer(**kwargs: Any) -> fields.Integer:
    return fields.Integer(
        strict=False,
        # above the largest id a column holds, a number names nothing (and overflows SQL)
        validate=[validate.Range(min=1, error=AT_LEAST_ONE), validate.Range(max=repo.ID_MAX)],
        error_messages={"invalid": NOT_A_NUMBER},
        **kwargs,
    )


def _known(values: Any, message: str) -> Any:
    """A validator: the value is in `values()` (looked up when a request is validated)."""

    def check(value: Any) -> None:
        if value not in values():
            raise ValidationError(message)

    return check


def _states(kind: Kind) -> set[str]:
    reg = context.registry()
    return {
        s for v in reg.versions(kind.workflow) for s in reg.get(kind.workflow, v).definition.states
    }


def _choices(kind: Kind, name: str) -> set[str]:
    spec = next(
        s for s in context.registry().get(kind.workflow).definition.create.fields if s.name == name
    )
    return {c.value for c in spec.choices}


def _column_values(column: Any) -> Any:
    return lambda: set(repo.connection().execute(sa.select(column)).scalars())


class ListArgs(Schema):
    """Paging and the filters every list has."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": UNKNOWN_FILTER}

    page = _integer(load_default=1)
    per_page = _integer(load_default=50)
    overdue = fields.Boolean(error_messages={"invalid": NOT_YES_NO})

    @validates_schema
    def _period(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError(FROM_AFTER_TO, "to")


@cache
def list_args(kind: Kind) -> type[Schema]:
    """The query parameters of `kind`'s list, validated against the definitions and data."""
    users, departments = User.__table__.c.username, Department.__table__.c.code
    spec: dict[str, Any] = {
        "state": fields.String(validate=_known(lambda: _states(kind), UNKNOWN_STATE)),
        "from": Moment(data_key="from", attribute="from_"),
        "to": Moment(end_of_day=True),
    }
    if kind in (VISIT, ISSUE):
        spec["customer_id"] = _integer()
    if kind is VISIT:
        spec["visitor"] = fields.String(validate=_known(_column_values(users), UNKNOWN_USER))
    if kind in (ISSUE, RECTIFICATION):
        spec["department"] = fields.String(
            validate=_known(_column_values(departments), UNKNOWN_DEPARTMENT)
        )
        spec["responsible_person"] = fields.String(
            validate=_known(_column_values(users), UNKNOWN_USER)
        )
    if kind is ISSUE:
        spec["visit_id"] = _integer()
        for name in ("severity", "category"):
            spec[name] = fields.String(
                validate=_known(lambda n=name: _choices(ISSUE, n), UNKNOWN_CHOICE)
            )
    return type(f"{kind.workflow.title()}ListArgs", (ListArgs,), spec)


def parse(kind: Kind, values: Any, ignore: Iterable[str] = ()) -> dict[str, Any]:
    """A page's query string as the list filters take it; blank values are absent.
    Raises Invalid with the messages per parameter."""
    skip = set(ignore)
    given = {k: v for k, v in values.items() if k not in skip and str(v).strip() != ""}
    try:
        loaded: dict[str, Any] = list_args(kind)().load(given)
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_": err.messages}
        raise Invalid({k: list(v) for k, v in messages.items()}) from None
    return loaded


def where(kind: Kind, args: Mapping[str, Any]) -> list[sa.ColumnElement[bool]]:
    """The SQL conditions of parsed filters (paging keys are not filters)."""
    t = kind.table
    out: list[sa.ColumnElement[bool]] = []
    for name in ("state", "customer_id", "visit_id", "severity", "category", "responsible_person"):
        if name in args and name in t.c:
            out.append(t.c[name] == args[name])
    if "department" in args:
        column = "responsible_department" if kind is ISSUE else "department"
        out.append(t.c[column] == args["department"])
    if "visitor" in args:
        vv = VisitVisitor.__table__
        out.append(sa.exists().where(vv.c.visit_id == t.c.id, vv.c.username == args["visitor"]))
    if "from_" in args:
        out.append(t.c[kind.main_time] >= args["from_"])
    if "to" in args:
        out.append(t.c[kind.main_time] <= args["to"])
    if "overdue" in args:
        out.append(_overdue(kind) if args["overdue"] else sa.not_(_overdue(kind)))
    return out


def _overdue(kind: Kind) -> sa.ColumnElement[bool]:
    t, dl = kind.table, Deadline.__table__
    past_due = sa.exists().where(
        dl.c.workflow == kind.workflow,
        dl.c.instance_id == t.c.id,
        dl.c.state == t.c.state,
        dl.c.status.in_((DeadlineStatus.OPEN, DeadlineStatus.FIRED)),
        dl.c.due_at <= context.now(),
    )
    return sa.or_(t.c.overdue, past_due)
