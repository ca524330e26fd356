"""The compliance report in Chromium: a notice not yet due sits under 进行中 (in progress),
not among the exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import Person


@pytest.fixture
def notice_due_next_week(live_server: LiveServer) -> Iterator[int]:
    from service.store.db import db
    from service.store.models import RectificationNotice

    with live_server.app.app_context():
        notice = RectificationNotice(
            definition_version=1,
            state="rectified",
            data={},
            created_by="sara",
            department="technical",
            findings="f",
            due_at=datetime.now(UTC) + timedelta(days=7),
        )
        db.session.add(notice)
        db.session.commit()
        yield int(notice.id)


def test_a_notice_not_yet_due_is_in_progress(
    chromium: Any, live_server: LiveServer, notice_due_next_week: int
) -> None:
    boss = Person(chromium, live_server, "mike")  # the e2e seed has no boss: a KPI reader
    try:
        boss.go("/compliance")
        assert boss.page.inner_text("h1") == "合规报告"
        clause = boss.page.locator("#clause-7")
        row = clause.locator(f'tr[data-object="rectification-{notice_due_next_week}"]')
        assert row.count() == 1
        assert row.get_attribute("class") == "in-progress-case"
        assert "进行中" in clause.locator(".in-progress h3").inner_text()
        assert "例外：0" in clause.locator(".clause-count").inner_text()
        boss.shot(Path("/tmp/compliance-report.png"))
    finally:
        boss.close()
