"""The export writers on their own: cells by kind, CSV quoting and formulas, Excel's sheet
names and widths, the download's file names (service/reports/exports.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from service.core import context
from service.core.context import AppContext
from service.reports import exports
from service.reports.exports import Column, Sheet, Value
from workflows import Registry


@pytest.fixture(autouse=True)
def bound(registry: Registry) -> Iterator[AppContext]:
    """The exports read the business time zone from the current context; no Flask app."""
    with context.bound(AppContext(registry, config={"TIMEZONE": "Asia/Shanghai"})) as bound:
        yield bound


def test_cells_keep_numbers_and_show_times_in_the_business_time_zone() -> None:
    utc = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert exports.cell(utc, "datetime", "en") == datetime(2026, 11, 20, 18, 0)
    assert exports.cell(datetime(2026, 11, 20, 10, 0), "datetime", "en") == datetime(
        2026, 11, 20, 18, 0
    )  # naive: UTC, as SQLite gives it
    assert exports.cell("2026-11-20T23:30:00+00:00", "date", "en") == date(2026, 11, 21)
    assert exports.cell(Value(0.5, "rate"), "text", "en") == 0.5
    assert exports.cell(Decimal("12.50"), "number", "en") == Decimal("12.50")
    assert exports.cell(None, "integer", "en") is None


def test_csv_quotes_and_never_lets_a_text_run_as_a_formula() -> None:
    sheet = Sheet("T", [Column("Title"), Column("N", "integer")], [['=1+1, "a"\nb', -3]])
    data = exports.csv_bytes(sheet, "en")
    assert data.startswith(b"\xef\xbb\xbf") and data.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["Title", "N"], ['\'=1+1, "a"\nb', "-3"]]  # a negative number stays one


def test_a_workbook_has_a_bold_frozen_header_and_typed_cells() -> None:
    rows = [["=SUM(A1)", Value(0.25, "rate"), datetime(2026, 1, 1, tzinfo=UTC)]]
    columns = [Column("名称"), Column("Value", "number"), Column("At", "datetime")]
    sheet = Sheet("Sheet: [1]?", columns, rows, preamble=[["Title"], ["From", 3]])
    book = load_workbook(io.BytesIO(exports.xlsx_bytes([sheet], "en")))
    ws = book.worksheets[0]
    assert ws.title == "Sheet   1"  # Excel's forbidden characters replaced
    assert ws.freeze_panes == "A4" and ws["A3"].font.b and ws["A1"].font.b
    assert ws["A4"].data_type == "s" and ws["A4"].value == "=SUM(A1)"
    assert ws["B4"].value == 0.25 and ws["B4"].number_format == "0.0%"
    assert ws["C4"].is_date and ws["C4"].value == datetime(2026, 1, 1, 8, 0)
    assert ws["B2"].value == 3 and ws["B2"].data_type == "n"
    assert ws.column_dimensions["C"].width >= 17


def test_widths_count_wide_characters_twice() -> None:
    assert exports.width("跟踪台账") == 8 and exports.width("Ledger") == 6
    assert len(exports.sheet_name("x" * 40)) == 31


def test_a_localized_file_name_is_given_as_rfc_6266_filename_star() -> None:
    assert exports.disposition("kpi.csv", "kpi.csv") == 'attachment; filename="kpi.csv"'
    header = exports.disposition("issues-1.csv", "跟踪台账-1.csv")
    assert header == (
        'attachment; filename="issues-1.csv"; '
        "filename*=UTF-8''%E8%B7%9F%E8%B8%AA%E5%8F%B0%E8%B4%A6-1.csv"
    )
