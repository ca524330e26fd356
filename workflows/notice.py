"""The State Council's yearly holiday notice (国务院办公厅关于20XX年部分节假日安排的通知), parsed.

A notice lists its holidays as numbered items, such as
"二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。
2月14日（周六）、2月28日（周六）上班。": days off (one day or a range, which may cross a
month or, with its year written, a year), the number of days, and the weekend days worked
instead (调休). `parse_notice` reads them and refuses, with every problem named, a text that
gives no holiday or whose dates disagree with themselves (a weekday that is not that date's,
a count of days that is not the range's, a day both off and worked, a worked day that is no
weekend).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from workflows.holidays import HolidaySpan, OfficialYear

__all__ = ["NoticeError", "Problem", "parse_notice"]

_YEAR = re.compile(r"(?:关于|现将)\s*(\d{4})\s*年")
_ITEM = re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.]\s*([^:：\n]{1,20}?)\s*:", re.MULTILINE)
_DATE = re.compile(
    r"(?:(?P<y>\d{4})年)?(?:(?P<m>\d{1,2})月)?(?P<d>\d{1,2})日(?:\((?P<note>[^)]*)\))?"
)
_COUNT = re.compile(r"(?:共|放假)\s*(\d{1,2})\s*天")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY = re.compile(r"(?:周|星期)([一二三四五六日天])")


NO_YEAR = "the year is not in the text: paste the title (关于20XX年部分节假日安排的通知)"


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong, as an English message template and its values (to translate)."""

    message: str
    params: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % dict(self.params)


class NoticeError(ValueError):
    """The notice gives no holiday, or dates that disagree; `problems` says each."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class _Reading:
    year: int
    problems: list[Problem] = field(default_factory=list)
    spans: list[HolidaySpan] = field(default_factory=list)
    workdays: dict[date, str] = field(default_factory=dict)

    def problem(self, message: str, **params: object) -> None:
        self.problems.append(Problem(message, params))


def notice_year(text: str) -> int | None:
    """The year the notice is for, from its title or first sentence."""
    match = _YEAR.search(_normal(text))
    return int(match.group(1)) if match else None


def parse_notice(text: str, year: int | None = None) -> OfficialYear:
    """The holidays and make-up working days of a notice's text; `NoticeError` if it gives
    none or disagrees with itself. `year` is needed when the text does not say it (its
    title "关于2026年部分节假日安排的通知" does), and must match when it does."""
    text = _normal(text)
    said = notice_year(text)
    if said is not None and year is not None and said != year:
        raise NoticeError(
            [Problem("the notice is for %(said)s, not %(year)s", {"said": said, "year": year})]
        )
    year = said or year
    if year is None:
        raise NoticeError([Problem(NO_YEAR)])
    reading = _Reading(year)
    items = list(_ITEM.finditer(text))
    for index, match in enumerate(items):
        end = items[index + 1].start() if index + 1 < len(items) else len(text)
        _read_item(reading, match.group(1).strip(), text[match.end() : end])
    if not reading.spans and not reading.problems:
        reading.problem(
            "no holiday found: paste the notice's items, such as 一、元旦：1月1日放假1天。"
        )
    _check_together(reading)
    if reading.problems:
        raise NoticeError(reading.problems)
    spans = tuple(sorted(reading.spans, key=lambda s: s.start))
    return OfficialYear(year, spans, tuple(sorted(reading.workdays)))


def _normal(text: str) -> str:
    """Full-width digits, brackets and colons as ASCII; the notice's own text otherwise."""
    return unicodedata.normalize("NFKC", text).replace("\u3000", " ")


def _read_item(reading: _Reading, name: str, body: str) -> None:
    found = False
    for sentence in re.split(r"[。;；\n]", body):
        off, _, rest = sentence.partition("放假") if "放假" in sentence else ("", "", sentence)
        if "上班" in rest:
            reading.workdays.update(
                (day, name) for day, _ in _tokens(reading, name, rest.split("上班")[0])
            )
        if not off.strip():
            continue
        spans = _spans(reading, name, off)
        found = found or bool(spans)
        reading.spans.extend(spans)
        count = _COUNT.search(sentence)
        total = sum(s.length for s in spans)
        if count and spans and int(count.group(1)) != total:
            reading.problem(
                "%(name)s: %(count)s days announced but the dates give %(total)s",
                name=name,
                count=int(count.group(1)),
                total=total,
            )
    if not found:
        reading.problem("%(name)s: no day off found", name=name)


def _spans(reading: _Reading, name: str, part: str) -> list[HolidaySpan]:
    days = list(_tokens(reading, name, part))
    spans: list[HolidaySpan] = []
    index = 0
    while index < len(days):
        start, gap_after = days[index]
        if gap_after == "至" and index + 1 < len(days):
            end = days[index + 1][0]
            if end < start:
                reading.problem(
                    "%(name)s: the range ends on %(end)s, before it starts (%(start)s)",
                    name=name,
                    end=end.isoformat(),
                    start=start.isoformat(),
                )
            else:
                spans.append(HolidaySpan(name, start, end))
            index += 2
        else:
            spans.append(HolidaySpan(name, start, start))
            index += 1
    return spans


def _tokens(reading: _Reading, name: str, part: str) -> list[tuple[date, str]]:
    """Each date in `part` with the text between it and the next one ("至" for a range)."""
    out: list[tuple[date, str]] = []
    matches = list(_DATE.finditer(part))
    year, month = reading.year, None
    for index, match in enumerate(matches):
        if match.group("y"):
            year = int(match.group("y"))
        if match.group("m"):
            month = int(match.group("m"))
        if month is None:
            reading.problem("%(name)s: a date without its month", name=name)
            continue
        try:
            day = date(year, month, int(match.group("d")))
        except ValueError:
            reading.problem(
                "%(name)s: %(month)s月%(day)s日 is not a date",
                name=name,
                month=month,
                day=match.group("d"),
            )
            continue
        _check_weekday(reading, name, day, match.group("note") or "")
        nxt = matches[index + 1].start() if index + 1 < len(matches) else len(part)
        out.append((day, part[match.end() : nxt].strip()))
    return out


def _check_weekday(reading: _Reading, name: str, day: date, note: str) -> None:
    said = _WEEKDAY.search(note)
    if said and _WEEKDAYS[said.group(1)] != day.weekday():
        reading.problem(
            "%(name)s: %(date)s is not a 周%(weekday)s",
            name=name,
            date=day.isoformat(),
            weekday=said.group(1),
        )


def _check_together(reading: _Reading) -> None:
    off: dict[date, str] = {}
    for span in reading.spans:
        for day in span.days():
            if day in off:
                reading.problem(
                    "%(date)s is off for both %(first)s and %(second)s",
                    date=day.isoformat(),
                    first=off[day],
                    second=span.name,
                )
            off[day] = span.name
        if abs(span.start.year - reading.year) > 1 or span.length > 15:
            reading.problem(
                "%(name)s: %(start)s to %(end)s is not a holiday of %(year)s",
                name=span.name,
                start=span.start.isoformat(),
                end=span.end.isoformat(),
                year=reading.year,
            )
    for day, name in sorted(reading.workdays.items()):
        if day in off:
            reading.problem(
                "%(name)s: %(date)s is both a day off and a working day",
                name=name,
                date=day.isoformat(),
            )
        elif day.weekday() < 5:
            reading.problem(
                "%(name)s: %(date)s is a weekday, worked anyway: a make-up working day is a"
                " weekend day",
                name=name,
                date=day.isoformat(),
            )
