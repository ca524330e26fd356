"""The downloads in Chromium, in Chinese: the dashboard's CSV and Excel, the tracking
ledger's, the compliance workbook. Each file is saved as the browser names it
(/tmp/exports-*) and read back: human titles, labels not codes, people by name."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import Person

KPI_HEADER = ["板块", "分组", "指标", "数值"]
LEDGER_HEADER = ["#", "标题", "客户", "问题类别", "重要程度", "状态", "责任部门", "责任人"]
LEDGER_HEADER += ["期限", "已逾期"]
COMPLIANCE_HEADER = ("对象", "#", "名称", "例外", "时间", "状态")


@pytest.fixture(scope="module")
def records(live_server: LiveServer) -> Iterator[dict[str, int]]:
    """A visit mary reported yesterday and an issue assigned to tom, due in a week."""
    from service.store.db import db
    from service.store.models import Customer, Issue, Visit, VisitVisitor

    now = datetime.now(UTC)
    with live_server.app.app_context():
        customer = db.session.query(Customer).one()
        visit = Visit(
            definition_version=1,
            state="reported",
            data={},
            created_by="mary",
            customer_id=customer.id,
            planned_at=now - timedelta(days=1),
            visitors=["mary"],
            topics=[],
        )
        db.session.add(visit)
        db.session.flush()
        db.session.add(VisitVisitor(visit_id=visit.id, username="mary"))
        issue = Issue(
            definition_version=1,
            state="assigned",
            data={},
            created_by="mary",
            customer_id=customer.id,
            title='报价单导出乱码, "急"',
            description="d",
            category="product",
            severity="high",
            responsible_department="technical",
            responsible_person="tom",
            due_at=now + timedelta(days=7),
        )
        db.session.add(issue)
        db.session.commit()
        yield {"visit": int(visit.id), "issue": int(issue.id)}


def _download(person: Person, selector: str) -> tuple[str, bytes]:
    with person.page.expect_download() as info:
        person.page.click(selector)
    download = info.value
    target = Path("/tmp") / f"exports-{download.suggested_filename}"
    download.save_as(str(target))
    return download.suggested_filename, target.read_bytes()


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_downloads_read_in_chinese(
    chromium: Any, live_server: LiveServer, records: dict[str, int]
) -> None:
    mike = Person(chromium, live_server, "mike")  # a KPI reader, Chinese pages
    try:
        mike.go("/dashboard")
        name, data = _download(mike, "#export-csv")
        assert name.startswith("考核指标-") and name.endswith(".csv")
        rows = _csv(data)
        assert rows[0] == KPI_HEADER
        assert ["按人员的走访计划完成率", "Mary 王", "已完成", "1"] in rows
        assert "核心客户" in {row[1] for row in rows}
        name, data = _download(mike, "#export-xlsx")
        sheet = load_workbook(io.BytesIO(data))["考核指标"]
        assert [c.value for c in sheet[2]] == KPI_HEADER
        mike.shot(Path("/tmp/exports-dashboard.png"))

        mike.go("/issues")
        name, data = _download(mike, "#export-csv")
        assert name.startswith("跟踪台账-")
        rows = _csv(data)
        assert rows[0] == LEDGER_HEADER
        issue = next(row for row in rows if row[0] == str(records["issue"]))
        assert issue[1] == '报价单导出乱码, "急"'
        assert issue[3:8] == ["产品", "高", "已分派", "技术部", "Tom 张"]
        name, data = _download(mike, "#export-xlsx")
        sheet = load_workbook(io.BytesIO(data))["跟踪台账"]
        assert [c.value for c in sheet[1]] == LEDGER_HEADER
        assert sheet["A2"].value == records["issue"] and sheet["I2"].is_date
        mike.shot(Path("/tmp/exports-ledger.png"))

        mike.go("/compliance")
        name, data = _download(mike, "#compliance-xlsx")
        assert name.startswith("合规报告-") and name.endswith(".xlsx")
        book = load_workbook(io.BytesIO(data))
        sheet = book["5(一)3"]
        assert tuple(c.value for c in sheet[4] if c.value is not None) == COMPLIANCE_HEADER
        assert sheet["A5"].value == "问题" and sheet["F5"].value == "进行中"
    finally:
        mike.close()
