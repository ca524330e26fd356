"""The official holidays page (`/holidays`): an admin loads a year's State Council notice.

The same use case as `flask calendar load` and `POST /api/v1/official-holidays`
(`service.usecases.official_calendar.load`): "Preview" is its dry run (what the notice gives and the
days it changes, nothing stored), "Save" posts the same text again and stores it; every
process's calendar follows the table at its next request (`official_calendar.sync`). The
text is pasted or read from an uploaded .txt file (UTF-8 or GB18030, as saved from the
State Council's site). Only the roles that may load it (admins) see the page.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_date
from werkzeug.datastructures import MultiDict

from service.core import roles
from service.core.errors import InvalidRequest
from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import _, bp, error_page, person, translated
from service.entrypoints.web.messages import N_
from service.usecases import official_calendar

NOTICE_MESSAGES = (  # workflows/notice.py's problems, for the catalog (a unit test checks)
    N_("the year is not in the text: paste the title (关于20XX年部分节假日安排的通知)"),
    N_("the notice is for %(said)s, not %(year)s"),
    N_("no holiday found: paste the notice's items, such as 一、元旦：1月1日放假1天。"),
    N_("%(name)s: %(count)s days announced but the dates give %(total)s"),
    N_("%(name)s: no day off found"),
    N_("%(name)s: the range ends on %(end)s, before it starts (%(start)s)"),
    N_("%(name)s: a date without its month"),
    N_("%(name)s: %(month)s月%(day)s日 is not a date"),
    N_("%(name)s: %(date)s is not a 周%(weekday)s"),
    N_("%(date)s is off for both %(first)s and %(second)s"),
    N_("%(name)s: %(date)s is both a day off and a working day"),
    N_("%(name)s: %(date)s is a weekday, worked anyway: a make-up working day is a weekend day"),
    N_("%(name)s: %(start)s to %(end)s is not a holiday of %(year)s"),
)
_YEAR = re.compile(r"[0-9]{4}")
ENCODINGS = ("utf-8-sig", "gb18030")


@bp.context_processor
def holiday_globals() -> dict[str, Any]:
    return {"holiday_loaders": roles.LOADERS}


def weekday(day: str) -> str:
    """A date with its weekday in the page's language: 2027-10-09（周六） / 2027-10-09 (Sat)."""
    return _(
        "%(date)s (%(weekday)s)", date=day, weekday=format_date(date.fromisoformat(day), "EEE")
    )


def uploaded_text() -> str | None:
    """The uploaded file's text, `None` without a file; `ValueError` if it is not text."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None
    data: bytes = upload.read()  # at most MAX_CONTENT_LENGTH, as the whole body
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(_("The file is not a text file (UTF-8 or GB18030)."))


def stored_years() -> list[dict[str, Any]]:
    return [{**item, "loaded_by": person(item["loaded_by"])} for item in official_calendar.loaded()]


def _render(
    raw: MultiDict[str, str],
    errors: dict[str, list[str]],
    preview: dict[str, Any] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    now = official_calendar.status(preview["year"]) if preview else None
    return render_template(
        "web/holidays.html",
        raw=raw,
        errors=errors,
        preview=preview,
        now=now,
        before={h["name"]: h for h in (now["holidays"] if now else [])},
        stored=stored_years(),
        weekday=weekday,
        max_text=official_calendar.MAX_TEXT,
    ), status


def _year(raw: MultiDict[str, str]) -> object:
    value = (raw.get("year") or "").strip()
    return int(value) if _YEAR.fullmatch(value) else (value or None)


@bp.route("/holidays", methods=["GET", "POST"])
@login_required
def holidays() -> Any:
    actor = web_actor()
    if actor.role not in roles.LOADERS:
        return error_page(403, _("Only an administrator loads the official holidays."))
    if request.method == "GET":
        return _render(MultiDict(), {})
    raw = MultiDict(request.form)  # a body over MAX_CONTENT_LENGTH: 413 (views.http_refused)
    try:
        text = uploaded_text()
    except ValueError as err:
        return _render(MultiDict(request.form), {"file": [str(err)]}, None, 422)
    text = (raw.get("text", "") if text is None else text).replace("\r\n", "\n")
    raw["text"] = text
    save = raw.get("action") == "save"
    try:
        result = official_calendar.load(text, actor.username, actor.role, _year(raw), not save)
    except InvalidRequest as err:
        return _render(raw, translated(err.errors), None, 422)
    if not save:
        return _render(raw, {}, result)
    flash(
        _(
            "The official holidays of %(year)s are saved: plans and deadlines follow them now.",
            year=result["year"],
        ),
        "success",
    )
    return redirect(url_for("web.holidays"))
