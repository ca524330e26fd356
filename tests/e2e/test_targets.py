"""Visit targets in Chromium (zh): the dashboard's and the customer pages' figures are whole
visits due at month-ends, "—" where a tier owes nothing in the period, and a customer is
behind only against the visits already due. The clock is 2026-11-02 10:00 in Shanghai."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service.core import runtime
from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import PHONE, Person

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai
# name, tier, the months of 2026 with a reported visit (the 10th, 10:00 Shanghai)
CUSTOMERS = [
    ("北方能源集团", "important", [2, 4, 6, 8, 10]),
    ("南方机械", "general", [5]),
    ("西部化工", "general", []),
]
CORE_MONTHS = list(range(1, 10))  # the seed's core customer: January to September


@pytest.fixture(scope="module")
def demo_year(live_server: LiveServer) -> Iterator[dict[str, int]]:
    """A year of visits as the demo might have them, with the clock set to NOW."""
    from service.store.db import db
    from service.store.models import Customer
    from tests.integration.test_kpi import _visit

    app = live_server.app
    ids: dict[str, int] = {}
    with app.app_context():
        core = db.session.query(Customer).filter_by(tier="core").one()
        ids[core.name] = core.id
        rows = [(core.id, CORE_MONTHS)]
        for name, tier, months in CUSTOMERS:
            customer = Customer(name=name, tier=tier, criteria=["major_revenue"])
            db.session.add(customer)
            db.session.flush()
            ids[name] = customer.id
            rows.append((customer.id, months))
        for customer_id, months in rows:
            for month in months:
                _visit(customer_id, f"2026-{month:02d}-10T02:00:00", "reported", ["mary"])
        db.session.commit()
    runtime.set_clock(app, lambda: NOW)
    yield ids
    runtime.set_clock(app, lambda: datetime.now(UTC))


def _cells(person: Person, tier: str) -> list[str]:
    cells: list[str] = person.page.locator(f"#tier-{tier} td").all_inner_texts()
    return cells


def test_the_dashboard_shows_whole_targets_and_no_rate_where_none_is_due(
    chromium: Any, live_server: LiveServer, demo_year: dict[str, int]
) -> None:
    mike = Person(chromium, live_server, "mike")
    try:
        # March: the core customer's third visit is due at March's end and was made; the
        # important customer (6 a year: February, April...) and the two general ones (June,
        # December) owe none in March: 0 and "—", not 0 % or 100 %
        mike.go("/dashboard?from=2026-03-01&to=2026-04-01")
        assert _cells(mike, "core")[1:] == ["1", "1", "1", "100.0%"]
        assert _cells(mike, "important")[1:] == ["1", "0", "0", "—"]
        assert _cells(mike, "general")[1:] == ["2", "0", "0", "—"]
        intro = mike.page.locator("#plan-tier p.muted").inner_text()
        assert (
            "每次走访在所属月份月末到期" in intro and "应完成 1 次，已完成 1 次（100.0%）" in intro
        )
        mike.shot(Path("/tmp/targets-dashboard-march.png"))
        # the default half-year, July to December: core 6, important 3 (August, October,
        # December), general 1 each (December); done: core July-September, important
        # August and October
        mike.go("/dashboard")
        assert _cells(mike, "core")[1:] == ["1", "6", "3", "50.0%"]
        assert _cells(mike, "important")[1:] == ["1", "3", "2", "66.7%"]
        assert _cells(mike, "general")[1:] == ["2", "2", "0", "0.0%"]
        intro = mike.page.locator("#plan-tier p.muted").inner_text()
        assert "应完成 11 次，已完成 5 次（45.5%）" in intro
        assert "." not in "".join(_cells(mike, t)[2] for t in ("core", "important", "general"))
        mike.shot(Path("/tmp/targets-dashboard.png"))
    finally:
        mike.close()


def test_customers_are_behind_only_against_the_visits_already_due(
    chromium: Any, live_server: LiveServer, demo_year: dict[str, int]
) -> None:
    mary = Person(chromium, live_server, "mary")
    try:
        # by 2 November January to October have ended: core 10, important 5, general 1 due
        mary.go("/customers")
        expected = {
            "华东电网 East Grid": ("9/12", "截至今天应完成 10 次", True),
            "北方能源集团": ("5/6", "截至今天应完成 5 次", False),
            "南方机械": ("1/2", "截至今天应完成 1 次", False),
            "西部化工": ("0/2", "截至今天应完成 1 次", True),
        }
        for name, (quota, due, behind) in expected.items():
            row = mary.page.locator(f"#customer-{demo_year[name]}")
            assert row.locator(".quota").inner_text() == quota, name
            assert row.locator(".due").inner_text() == due, name
            assert (row.get_attribute("class") == "behind") is behind, name
        mary.shot(Path("/tmp/targets-customers.png"))
        mary.go(f"/customers/{demo_year['华东电网 East Grid']}")
        assert mary.page.inner_text("#customer-quota") == "9/12 (2026)"
        assert mary.page.inner_text("#customer-due") == "截至 2026-11-02 应完成 10 次"
        assert mary.page.locator("#customer-behind").count() == 1
        mary.shot(Path("/tmp/targets-customer.png"))
    finally:
        mary.close()
    phone = Person(chromium, live_server, "mary", viewport=PHONE, is_mobile=True)
    try:
        phone.go(f"/customers/{demo_year['北方能源集团']}")
        assert phone.page.inner_text("#customer-due") == "截至 2026-11-02 应完成 5 次"
        assert phone.page.locator("#customer-behind").count() == 0
        phone.shot(Path("/tmp/targets-customer-phone.png"))
    finally:
        phone.close()
