"""Declared time bounds of date and datetime fields: no actual time in the future, no planned
time in the past (unless the actor's role may back-date, and then the field is marked so)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from workflows.errors import InvalidData
from workflows.forms import Form
from workflows.spec import FieldSpec, FieldType, TimeBound

BACKDATED = "_backdated"  # the data key listing the back-dated fields (never a field name)

IN_THE_FUTURE = "must not be in the future"
AFTER_TODAY = "must not be after today"
IN_THE_PAST = "must not be in the past"
BEFORE_TODAY = "must not be before today"


class Window(NamedTuple):
    """The earliest and latest values a field accepts now; None where it is open."""

    earliest: datetime | date | None
    latest: datetime | date | None


class TimeCheck(NamedTuple):
    errors: dict[str, list[str]]
    backdated: tuple[str, ...]  # fields whose past value passed because the role may back-date


def bounded(specs: Iterable[FieldSpec]) -> tuple[FieldSpec, ...]:
    return tuple(f for f in specs if f.not_before is not None or f.not_after is not None)


def window(spec: FieldSpec, now: datetime, skew: timedelta, tz: ZoneInfo) -> Window:
    """The bounds of `spec` at `now`, widened by the clock-skew allowance `skew`.

    For a date-only field "now" is today in `tz`; a bare date given to a datetime field
    (`accepts_date`) is compared with the day of the moment, in `tz` too.
    """
    return Window(
        _moment(spec.not_before, now - skew, tz, spec),
        _moment(spec.not_after, now + skew, tz, spec),
    )


def _moment(
    bound: TimeBound | None, at: datetime, tz: ZoneInfo, spec: FieldSpec
) -> datetime | date | None:
    if bound is None:
        return None
    # TimeBound.NOW is the only bound so far: `at` is now, already moved by the allowance.
    return at if spec.type is FieldType.DATETIME else at.astimezone(tz).date()


def check(
    specs: Iterable[FieldSpec],
    values: Mapping[str, Any],
    role: str,
    now: datetime,
    skew: timedelta,
    tz: ZoneInfo,
) -> TimeCheck:
    """The bounds' errors per field for `values`, and the fields back-dated by `role`."""
    errors: dict[str, list[str]] = {}
    backdated: list[str] = []
    for spec in specs:
        value = values.get(spec.name)
        if not isinstance(value, date):
            continue
        lo, hi = window(spec, now, skew, tz)
        is_date = not isinstance(value, datetime)
        if hi is not None and _after(value, hi, tz):
            errors[spec.name] = [AFTER_TODAY if is_date else IN_THE_FUTURE]
        elif lo is not None and _after(lo, value, tz):
            if role in spec.backdate_roles:
                backdated.append(spec.name)
            else:
                errors[spec.name] = [BEFORE_TODAY if is_date else IN_THE_PAST]
    return TimeCheck(errors, tuple(backdated))


def _after(a: datetime | date, b: datetime | date, tz: ZoneInfo) -> bool:
    """`a > b`, comparing a date with a datetime as dates in `tz`."""
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a > b
    return _day(a, tz) > _day(b, tz)


def _day(value: datetime | date, tz: ZoneInfo) -> date:
    return value.astimezone(tz).date() if isinstance(value, datetime) else value


def load_bounded(
    form: Form,
    specs: tuple[FieldSpec, ...],
    role: str,
    data: Mapping[str, Any] | None,
    now: datetime,
    skew: timedelta,
    tz: ZoneInfo,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """`form`'s values checked against the bounds of `specs` (its bounded fields) at `now`,
    and the fields back-dated by `role`; `InvalidData` naming each field out of bounds.

    A check-in (a geo field given a value) stamps its `stamps` field with `now`, whatever
    the form gave it, and itself with `server_time`: the time of a visit checked in is the
    server's, not the device's or the visitor's."""
    data = stamped(form, data, now)
    values = form.load(data)
    for spec in form.fields:
        if spec.type is FieldType.GEO and values.get(spec.name):
            values[spec.name] = {**values[spec.name], "server_time": now}
    if not specs:
        return values, ()
    errors, backdated = check(specs, values, role, now, skew, tz)
    if errors:
        raise InvalidData(errors)
    return values, backdated


def stamped(form: Form, data: Mapping[str, Any] | None, now: datetime) -> Any:
    """`data` with each checked-in geo field's `stamps` field set to `now`."""
    if not isinstance(data, Mapping):
        return data
    stamps = {
        f.stamps: now.isoformat()
        for f in form.fields
        if f.type is FieldType.GEO and f.stamps and data.get(f.name) is not None
    }
    return {**data, **stamps} if stamps else data


def marked(json_data: dict[str, Any], backdated: tuple[str, ...]) -> dict[str, Any]:
    """The data as stored, listing the fields whose past value the actor's role back-dated."""
    return {**json_data, BACKDATED: list(backdated)} if backdated else json_data
