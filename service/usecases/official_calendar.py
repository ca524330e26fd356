"""China's official holidays loaded from the State Council's notice, shared by every process.

An admin pastes (or the CLI reads) the notice's text; `workflows.notice.parse_notice` reads
its holidays and make-up working days, and `save` stores the year in
`official_calendar_years`. Every process's business calendar follows that table: `sync`
(before requests, at most once every `CALENDAR_SYNC_SECONDS`; before each job and each
command that needs it; at once after a save here) compares the stored fingerprints with the
ones the calendar holds, one small query, and reloads the years only when they changed.
Deadlines, supervision and the annual plan all read that one calendar.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, request

from service.core import context, roles
from service.core.errors import Forbidden, InvalidRequest
from service.core.texts import msg
from service.store import repository as repo
from service.store.db import db
from service.store.models import OfficialCalendarYear
from workflows.calendar import BusinessCalendar, YearSource
from workflows.holidays import OfficialYear
from workflows.notice import NoticeError, Problem, parse_notice

log = logging.getLogger(__name__)
MAX_TEXT = 20_000
table = OfficialCalendarYear.__table__

MESSAGES = {  # what the plan says of its year's calendar (the pages translate them)
    YearSource.OFFICIAL: "the official holidays of %(year)s",
    YearSource.BUILTIN: (
        "no official holiday list for %(year)s yet: the fixed holidays (元旦, 劳动节, 国庆节)"
        " and estimated lunar ones are days off, make-up working days are unknown; an"
        " administrator can load the State Council's notice"
    ),
    YearSource.WEEKDAYS: "the company calendar: Monday to Friday are working days",
}


class NoticeRefused(InvalidRequest):
    """A notice that gives no holiday or disagrees with itself: 422 naming each problem."""

    def __init__(self, problems: list[Problem]) -> None:
        texts = [msg(p.message, **p.params) for p in problems]  # English here, read translated
        super().__init__("the notice cannot be loaded", {"text": texts})
        self.problems = problems


def init_app(app: Flask) -> None:
    @app.before_request
    def follow_the_database() -> None:
        if request.endpoint != "static":
            sync(app.config["CALENDAR_SYNC_SECONDS"])


def sync(at_most_every: float = 0.0) -> None:
    """Bring this process's calendar to the official years in the database (app context).
    With `at_most_every` seconds, only if this process last looked longer ago than that:
    requests look once a second (`CALENDAR_SYNC_SECONDS`), not each on its own."""
    state = context.current().state.setdefault("official_calendar_sync", {"at": None})
    now = time.monotonic()
    if at_most_every and state["at"] is not None and now - state["at"] < at_most_every:
        return
    state["at"] = now
    calendar = context.registry().calendar
    try:
        with db.engine.connect() as conn:
            stamps = conn.execute(sa.select(table.c.year, table.c.digest).order_by("year"))
            stamp = ",".join(f"{r.year}:{r.digest}" for r in stamps)
            if stamp == calendar.official_stamp:
                return
            rows = conn.execute(sa.select(table.c.days)).all()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):  # not migrated yet
        log.debug("no official_calendar_years table yet", exc_info=True)
        return
    calendar.load_official([OfficialYear.from_dict(r.days) for r in rows], stamp)


def digest(year: OfficialYear) -> str:
    text = json.dumps(year.as_dict(), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def read(text: object, year: object = None) -> OfficialYear:
    """The notice's year, or `NoticeRefused` / `InvalidRequest` (422) saying why not."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest("the notice cannot be loaded", {"text": ["Must not be blank."]})
    if len(text) > MAX_TEXT:
        raise InvalidRequest(
            "the notice cannot be loaded",
            {"text": [msg("Longer than maximum length %(max)s.", max=MAX_TEXT)]},
        )
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise InvalidRequest("the notice cannot be loaded", {"year": ["Not a valid integer."]})
    if year is not None and not 2000 <= year <= 2100:
        raise InvalidRequest(
            "the notice cannot be loaded",
            {"year": ["Must be greater than or equal to 2000 and less than or equal to 2100."]},
        )
    try:
        return parse_notice(text, year)
    except NoticeError as err:
        raise NoticeRefused(err.problems) from None


def load(
    text: object, username: str, role: str, year: object = None, dry_run: bool = False
) -> dict[str, Any]:
    """Read a notice and, unless a dry run, store its year (replacing one loaded before) and
    follow it here at once (the other processes at their next request or job)."""
    if role not in roles.LOADERS:
        raise Forbidden("only an administrator may load the official holidays")
    parsed = read(text, year)
    out = {"dry_run": dry_run, **describe(parsed)}
    if dry_run:
        return out
    assert isinstance(text, str)
    now = context.now()
    row = {
        "year": parsed.year,
        "days": parsed.as_dict(),
        "notice": text,
        "digest": digest(parsed),
        "loaded_by": username,
        "loaded_at": now,
    }
    with repo.writing() as conn:
        conn.execute(sa.delete(table).where(table.c.year == parsed.year))
        conn.execute(sa.insert(table).values(**row))
    sync()
    return {**out, "loaded_by": username, "loaded_at": now.isoformat()}


def describe(year: OfficialYear) -> dict[str, Any]:
    """What a notice gives and what loading it changes: the source it replaces, and each day
    whose status differs from the calendar followed now (`changes`)."""
    return {**year.as_dict(), "replaces": status(year.year)["source"], "changes": changes(year)}


def changes(year: OfficialYear) -> list[dict[str, Any]]:
    """The days (of the year and any its holidays reach into) worked now and off by the notice,
    or the other way: `date`, `worked_now`, `worked`, the holiday's `name` for a day off and
    `make_up` for a make-up working day.
    The company's own days off and working days (the calendar file) win over both."""
    calendar = context.registry().calendar
    off, worked = year.holiday_dates(), frozenset(year.workdays)
    day = min([date(year.year, 1, 1), *off, *worked])
    last = max([date(year.year, 12, 31), *off, *worked])
    out = []
    while day <= last:
        now, then = calendar.is_workday(day), _worked(calendar, year.year, day, off, worked)
        if now != then:
            out.append(
                {
                    "date": day.isoformat(),
                    "worked_now": now,
                    "worked": then,
                    "name": off.get(day),
                    "make_up": day in worked,
                }
            )
        day += timedelta(days=1)
    return out


def _worked(
    calendar: BusinessCalendar, year: int, day: date, off: dict[date, str], worked: frozenset[date]
) -> bool:
    """Whether `day` would be worked once the notice is loaded (as `is_workday` decides)."""
    if day in calendar.extra_holidays or day in calendar.extra_workdays or not calendar.official:
        return calendar.is_workday(day)
    if day in worked or day in off:
        return day in worked
    return day.weekday() < 5 if day.year == year else calendar.is_workday(day)


def loaded() -> list[dict[str, Any]]:
    """The years loaded, newest first, with who loaded them and when."""
    with repo.reading() as conn:
        rows = conn.execute(sa.select(table).order_by(table.c.year.desc())).all()
    return [
        {
            **r.days,
            "loaded_by": r.loaded_by,
            "loaded_at": r.loaded_at.isoformat(),
        }
        for r in rows
    ]


def status(year: int) -> dict[str, Any]:
    """Where `year`'s days off come from, for the plan: `source` official | builtin |
    weekdays, a message, and the holidays the calendar knows by name (built-in: with the
    estimated ones marked; none listed for the package's years)."""
    calendar = context.registry().calendar
    source = calendar.year_source(year)
    return {
        "year": year,
        "source": source.value,
        "loaded": year in calendar.loaded_years,
        "message": MESSAGES[source] % {"year": year},
        "holidays": [span.as_dict() for span in calendar.holidays_of(year)],
    }
