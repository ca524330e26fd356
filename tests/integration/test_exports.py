"""Every download (KPI figures, tracking ledger, compliance workbook) in Chinese and English:
human column titles, codes as their labels, people by name, local times, numbers as numbers
(docs/exports.md); an unknown `lang` is refused with 422 and no file."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from service.store.db import db
from service.store.models import User
from tests.integration.conftest import World
from tests.integration.test_kpi import PERIOD, fixture  # noqa: F401 - the KPI fixture
from tests.integration.test_web_compliance import _fixture as compliance_fixture
from tests.integration.test_web_issues import ledger
from tests.integration.web import Browser

DATES = "from=2026-01-01&to=2027-01-01"
KPI_HEADER = {
    "zh": ["板块", "分组", "指标", "数值"],
    "en": ["Section", "Group", "Measure", "Value"],
}
TIER = {
    "zh": ("按客户等级的走访计划完成率", "核心客户"),
    "en": ("Visit plan completion by customer tier", "Core"),
}
PERSON = {"zh": "按人员的走访计划完成率", "en": "Visit plan completion by person"}
RATE = {"zh": "完成率", "en": "Rate"}
LEDGER_HEADER = {
    "zh": ["#", "标题", "客户", "问题类别", "重要程度", "状态", "责任部门", "责任人", "期限",
           "已逾期"],
    "en": ["#", "Title", "Customer", "Category", "Severity", "State", "Responsible department",
           "Responsible person", "Deadline", "Overdue"],
}  # fmt: skip
COMPLIANCE_HEADER = {
    "zh": ("对象", "#", "名称", "例外", "时间", "状态"),
    "en": ("Object", "#", "Name", "Exception", "Time", "Status"),
}
FILE_TITLES = {"zh": {"kpi": "考核指标", "issues": "跟踪台账", "compliance": "合规报告"}}


def _named(world: World, username: str, name: str) -> None:
    with world.app.app_context():
        db.session.query(User).filter_by(username=username).update({"display_name": name})
        db.session.commit()


def _csv(r: Any) -> list[list[str]]:
    assert r.status_code == 200, r.data[:500]
    assert r.mimetype == "text/csv" and r.data.startswith(b"\xef\xbb\xbf")  # Excel's BOM
    return list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))


def _sheet(r: Any, name: str | None = None) -> Worksheet:
    assert r.status_code == 200, r.data[:500]
    assert r.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(r.data))
    sheet = book[name] if name else book.worksheets[0]
    assert isinstance(sheet, Worksheet)
    return sheet


def _header(sheet: Worksheet, row: int) -> list[Any]:
    cells = list(sheet.iter_rows(min_row=row, max_row=row))[0]
    assert all(c.font.b for c in cells if c.value is not None), "the header is bold"
    assert sheet.freeze_panes == f"A{row + 1}", "the header stays in view"
    return [c.value for c in cells if c.value is not None]


def _filename(r: Any, lang: str, kind: str, ascii_name: str) -> None:
    header = r.headers["Content-Disposition"]
    assert header.startswith(f'attachment; filename="{ascii_name}')
    if lang == "zh":
        localized = unquote(header.split("filename*=UTF-8''")[1])
        assert localized.startswith(FILE_TITLES["zh"][kind] + "-")
    else:
        assert "filename*" not in header


def _refused(r: Any) -> None:
    assert r.status_code == 422
    assert "Content-Disposition" not in r.headers
    assert not r.mimetype.startswith(("text/csv", "application/vnd"))


# -- the KPI figures ---------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_api_kpi_csv_has_human_headers_and_labels(fixture: World, lang: str) -> None:  # noqa: F811
    _named(fixture, "mary", "王小丽")
    r = fixture.get(f"/api/v1/kpi/export.csv?{PERIOD}&lang={lang}", "sara")
    rows = _csv(r)
    assert rows[0] == KPI_HEADER[lang]
    section, core = TIER[lang]
    assert [section, core, RATE[lang], "0.1667"] in rows  # a rate: a plain number
    assert [PERSON[lang], "王小丽", RATE[lang], "0.6667"] in rows  # mary by her name
    assert not any("_" in cell for row in rows for cell in row[:3]), "no snake_case key"
    _filename(r, lang, "kpi", "kpi-2026-01-01-2027-01-01.csv")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_api_kpi_workbook_keeps_numbers_and_formats_rates(fixture: World, lang: str) -> None:  # noqa: F811
    r = fixture.get(f"/api/v1/kpi/export.xlsx?{PERIOD}&lang={lang}", "mike")
    sheet = _sheet(r)
    assert sheet.title == {"zh": "考核指标", "en": "KPI figures"}[lang]
    assert _header(sheet, 2) == KPI_HEADER[lang]
    period = list(sheet.iter_rows(min_row=1, max_row=1))[0]
    assert period[1].is_date and period[1].value == datetime(2026, 1, 1, 8, 0)  # local
    cells = {(r[0].value, r[1].value, r[2].value): r[3] for r in sheet.iter_rows(min_row=3)}
    section, core = TIER[lang]
    rate = cells[section, core, RATE[lang]]
    assert rate.value == 0.1667 and rate.number_format == "0.0%"
    done = cells[section, core, {"zh": "已完成", "en": "Done"}[lang]]
    assert done.value == 2 and done.data_type == "n"
    assert sheet.column_dimensions["A"].width >= 20
    _filename(r, lang, "kpi", "kpi-2026-01-01-2027-01-01.xlsx")


def test_the_api_exports_follow_accept_language_without_lang(fixture: World) -> None:  # noqa: F811
    path = f"/api/v1/kpi/export.csv?{PERIOD}"
    assert _csv(fixture.get(path, "sara"))[0] == KPI_HEADER["en"]
    chinese = {**fixture.auth("sara"), "Accept-Language": "zh-CN,zh;q=0.9"}
    assert _csv(fixture.client.get(path, headers=chinese))[0] == KPI_HEADER["zh"]
    en = fixture.client.get(f"{path}&lang=en", headers=chinese)
    assert _csv(en)[0] == KPI_HEADER["en"]  # `lang` wins


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
@pytest.mark.parametrize("lang", ["fr", "ZH", ""])
def test_an_unknown_language_is_refused_by_the_api(world: World, extension: str, lang: str) -> None:
    r = world.get(f"/api/v1/kpi/export.{extension}?{PERIOD}&lang={lang}", "sara")
    _refused(r)
    body = r.get_json()
    assert body["code"] == "invalid_request" and list(body["errors"]) == ["lang"]
    assert "lang" in body["message"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_dashboard_downloads_in_the_page_language(fixture: World, lang: str) -> None:  # noqa: F811
    b = Browser(fixture, "boss", lang=lang)
    rows = _csv(b.get(f"/dashboard/export.csv?{DATES}"))
    assert rows[0] == KPI_HEADER[lang]
    assert TIER[lang][1] in {row[1] for row in rows}
    sheet = _sheet(b.client.get(f"/dashboard/export.xlsx?{DATES}"))
    assert _header(sheet, 2) == KPI_HEADER[lang]
    assert sheet["C1"].value == {"zh": "至（不含）", "en": "To (excluded)"}[lang]


# -- the tracking ledger -----------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_ledger_csv_has_human_headers_labels_and_names(world: World, lang: str) -> None:
    issues = ledger(world)
    _named(world, "tom", "唐工")
    r = Browser(world, "mary", lang=lang).get("/issues/export.csv")
    rows = _csv(r)
    assert rows[0] == LEDGER_HEADER[lang]
    acme = next(row for row in rows if row[0] == str(issues["acme"]["id"]))
    state, severity = {"zh": ("已分派", "中"), "en": ("Assigned", "Medium")}[lang]
    assert acme[3:8] == [acme[3], severity, state, "Technical", "唐工"]
    assert acme[8] == "2026-11-20 18:00"  # the end of that working day, Shanghai time
    assert acme[9] == {"zh": "否", "en": "No"}[lang]
    assert r.headers["Content-Disposition"].startswith('attachment; filename="issues-')


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_ledger_workbook_keeps_ids_numbers_and_deadlines_dates(world: World, lang: str) -> None:
    issues = ledger(world)
    r = Browser(world, "mary", lang=lang).client.get("/issues/export.xlsx")
    sheet = _sheet(r)
    assert sheet.title == {"zh": "跟踪台账", "en": "Tracking ledger"}[lang]
    assert _header(sheet, 1) == LEDGER_HEADER[lang]
    acme = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == issues["acme"]["id"])
    assert acme[0].data_type == "n"
    assert acme[5].value == {"zh": "已分派", "en": "Assigned"}[lang]
    assert acme[8].is_date and acme[8].value == datetime(2026, 11, 20, 18, 0)
    assert acme[8].number_format == "yyyy-mm-dd hh:mm"
    _filename(r, lang, "issues", "issues-20261102-0900.xlsx")


def test_ledger_text_is_quoted_and_never_run_as_a_formula(world: World) -> None:
    from tests.integration.test_api_support import create_issue

    title = '=HYPERLINK("http://x"), "quoted"\nline'
    create_issue(world, customer_id=world.customers["Acme"], title=title)
    b = Browser(world, "mary", lang="en")
    rows = _csv(b.get("/issues/export.csv"))
    assert rows[1][1] == "'" + title  # one cell, kept as text
    sheet = _sheet(b.client.get("/issues/export.xlsx"))
    assert sheet["B2"].data_type == "s" and sheet["B2"].value.startswith("=HYPERLINK")


# -- the compliance workbook -------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_compliance_workbook_in_the_page_language(world: World, lang: str) -> None:
    ids = compliance_fixture(world)
    r = Browser(world, "sara", lang=lang).client.get(f"/compliance.xlsx?{DATES}")
    sheet = _sheet(r, "4(三)")
    assert sheet["A1"].value.startswith("4(三) ") and sheet["A1"].font.b
    assert _header(sheet, 4) == list(COMPLIANCE_HEADER[lang])
    assert sheet["B3"].value == 3 and sheet["B3"].data_type == "n"  # cases: a number
    row = list(sheet.iter_rows(min_row=5, max_row=5))[0]
    assert row[0].value == {"zh": "走访", "en": "Visit"}[lang] and row[1].value == ids["late"]
    assert row[3].value == {"zh": "超过记录提交期限", "en": "Record deadline passed"}[lang]
    assert row[4].is_date and row[4].value == datetime(2026, 5, 10, 10, 0)  # 02:00 UTC
    _filename(r, lang, "compliance", "compliance-2026-01-01-2027-01-01.xlsx")


# -- a bad language on the pages ---------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        f"/dashboard/export.csv?{DATES}&lang=fr",
        f"/dashboard/export.xlsx?{DATES}&lang=fr",
        "/issues/export.csv?lang=fr",
        "/issues/export.xlsx?lang=",
        f"/compliance.xlsx?{DATES}&lang=english",
    ],
)
def test_an_unknown_language_is_refused_on_the_pages(world: World, path: str) -> None:
    r = Browser(world, "sara").get(path)
    _refused(r)
    assert "参数 lang 只能是 zh 或 en。" in r.text  # the page's language: Chinese
