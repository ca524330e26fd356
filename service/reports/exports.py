"""CSV and Excel downloads with human column titles in the reader's language (docs/exports.md).

A `Sheet` is a title, its `Column`s (a title and a kind) and its rows; titles and text
cells may be `Text`s (service/core/texts.py), rendered in the export's language. Kinds:
`text`, `integer`, `number`, `rate` (a fraction: 0.5 is 50 %), `datetime` (shown in the
business time zone as `YYYY-MM-DD HH:MM`) and `date`. A `Value` gives one cell its own kind
(a column of figures that mixes counts and rates).

- CSV: UTF-8 with a byte order mark (Excel then reads the Chinese), the header first, the
  numbers as plain numbers (rates as fractions), the times as local text;
- Excel: a sheet per `Sheet`, written row by row (write-only: memory stays flat); the rows
  above the header (`preamble`: a title, the period) first, the header bold and frozen,
  numbers as numbers, rates with a percentage format, times as date cells, columns as wide
  as their content.

A text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) stays text:
a text cell in Excel, with a `'` before it in CSV.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any, NamedTuple
from urllib.parse import quote
from zoneinfo import ZoneInfo

from service.core import context
from service.core.texts import LANGUAGES, Text, render

FORMATS = {"integer": "0", "rate": "0.0%", "datetime": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd"}
WIDTHS = {"datetime": 17, "date": 11, "rate": 8}  # a time's width, whatever its title
FORMULA = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_A_LANGUAGE = "Must be zh or en."


@dataclass(frozen=True)
class Column:
    """A column's title, its kind, and its least width (what a streamed sheet, whose rows
    are not measured, gives its texts)."""

    title: Text | str
    kind: str = "text"
    width: int = 0


class Value(NamedTuple):
    """A cell with a kind of its own (a rate among counts)."""

    value: Any
    kind: str


@dataclass
class Sheet:
    title: Text | str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    preamble: Sequence[Sequence[Any]] = field(default_factory=list)


def language(asked: str | None, default: str) -> str:
    """`asked` (a checked `?lang=`) or the entry point's language."""
    return asked if asked in LANGUAGES else default


# -- cells -----------------------------------------------------------------------------
def _zone() -> ZoneInfo:
    return ZoneInfo(context.config()["TIMEZONE"])


def local(value: Any) -> datetime | None:
    """A stored time (aware, or naive UTC as SQLite gives it; or ISO text) in the business
    time zone, without its offset (what a spreadsheet's date cell holds)."""
    if isinstance(value, str) and value:
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(_zone()).replace(tzinfo=None)


def _day(value: Any) -> date | None:
    """A date as it is; a time (or ISO text of one) as its local day."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        return date.fromisoformat(value)
    moment = local(value)
    return moment.date() if moment is not None else None


def cell(value: Any, kind: str, lang: str) -> Any:
    """What a cell holds: a number, a local time, a date or a text (rendered in `lang`)."""
    if isinstance(value, Value):
        return cell(value.value, value.kind, lang)
    if value is None:
        return None
    if kind == "datetime":
        return local(value)
    if kind == "date":
        return _day(value)
    if kind in ("integer", "number", "rate") and isinstance(value, int | float | Decimal):
        return value
    return render(value, lang)


def _kind(value: Any, kind: str) -> str:
    return value.kind if isinstance(value, Value) else kind


def shown(value: Any) -> str:
    """A cell as text: times as `YYYY-MM-DD HH:MM`, numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# -- CSV -------------------------------------------------------------------------------
def csv_bytes(sheet: Sheet, lang: str) -> bytes:
    """The header and the rows as CSV (no preamble: the header is the first line)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(render(c.title, lang) for c in sheet.columns)
    for row in sheet.rows:
        writer.writerow(
            _guarded(cell(v, c.kind, lang)) for v, c in zip(row, sheet.columns, strict=True)
        )
    return out.getvalue().encode("utf-8-sig")


def _guarded(value: Any) -> str:
    """A CSV cell; a text a spreadsheet would run as a formula is quoted with `'`."""
    text = shown(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA) else text


# -- Excel -----------------------------------------------------------------------------
def sheet_name(title: str) -> str:
    """A sheet's name as Excel takes it: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "Sheet"


def width(text: str) -> int:
    """A text's width in Excel's character units: wide (CJK) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _widths(sheet: Sheet, lang: str, rows: list[Sequence[Any]] | None) -> list[int]:
    """Each column as wide as its title, its cells (when `rows` are given) and the
    preamble's figures and times (its texts, a title, may run over the next cells)."""
    out = []
    for n, column in enumerate(sheet.columns):
        found = [width(render(column.title, lang)), WIDTHS.get(column.kind, 6), column.width]
        for line in sheet.preamble:
            kind = _preamble_kind(line[n]) if n < len(line) else "text"
            if kind != "text":
                found.append(width(shown(cell(line[n], kind, lang))))
        for row in rows or []:
            found.append(width(shown(cell(row[n], _kind(row[n], column.kind), lang))))
        out.append(min(max(found) + 2, 60))
    return out


def _write(book: Any, sheet: Sheet, lang: str) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = book.create_sheet(sheet_name(render(sheet.title, lang)))
    rows = sheet.rows if isinstance(sheet.rows, list) else None  # a stream: titles' widths
    for n, w in enumerate(_widths(sheet, lang, rows), start=1):
        ws.column_dimensions[get_column_letter(n)].width = w
    ws.freeze_panes = f"A{len(sheet.preamble) + 2}"
    bold = Font(bold=True)

    def make(value: Any, kind: str, strong: bool = False) -> Any:
        c = WriteOnlyCell(ws, cell(value, kind, lang))
        if c.data_type == "f":  # a text that looks like a formula stays text
            c.data_type = "s"
        if kind in FORMATS and c.value is not None:
            c.number_format = FORMATS[kind]
        if strong:
            c.font = bold
        return c

    for n, line in enumerate(sheet.preamble):
        ws.append([make(v, _preamble_kind(v), strong=n == 0) for v in line])
    ws.append([make(c.title, "text", strong=True) for c in sheet.columns])
    for row in sheet.rows:
        ws.append([make(v, _kind(v, c.kind)) for v, c in zip(row, sheet.columns, strict=True)])


def _preamble_kind(value: Any) -> str:
    if isinstance(value, Value):
        return value.kind
    if isinstance(value, date):
        return "date"
    return "integer" if isinstance(value, int) else "text"


def xlsx_file(sheets: Iterable[Sheet], lang: str) -> tuple[IO[bytes], int]:
    """The sheets as a workbook in a temporary file (at its start) and its size. Each sheet's
    rows are consumed as it is written, so they may stream from an open connection."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for sheet in sheets:
        _write(book, sheet, lang)
    out = tempfile.TemporaryFile()
    book.save(out)
    size = out.tell()
    out.seek(0)
    return out, size


def xlsx_bytes(sheets: Iterable[Sheet], lang: str) -> bytes:
    file, _ = xlsx_file(sheets, lang)
    with file:
        return file.read()


def content(sheet: Sheet, lang: str, extension: str) -> tuple[bytes, str]:
    """The sheet as a `csv` or `xlsx` file, and its media type."""
    if extension == "csv":
        return csv_bytes(sheet, lang), "text/csv"
    return xlsx_bytes([sheet], lang), XLSX


def chunks(file: IO[bytes], size: int = 1 << 16) -> Iterator[bytes]:
    """The file's bytes, then the file closed: when sent to the end, or when the server
    closes the response early (a generator, so that closing it closes the file)."""
    with file:
        while block := file.read(size):
            yield block


# -- the download ----------------------------------------------------------------------
def disposition(name: str, localized: str) -> str:
    """`attachment` with the ASCII `name`, and the localized name (RFC 6266 `filename*`)
    when it is not ASCII."""
    header = f'attachment; filename="{name}"'
    if not localized.isascii():
        header += f"; filename*=UTF-8''{quote(localized, safe='')}"
    return header


def headers(name: str, localized: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {
        "Content-Disposition": disposition(name, localized),
        "Cache-Control": "no-store",
        **(extra or {}),
    }
