"""Official holidays loaded from the State Council's notice: API, CLI, and the plan's calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from service.core import runtime
from tests.integration.conftest import World

NOTICES = Path(__file__).resolve().parents[1] / "support" / "notices"
API = "/api/v1/official-holidays"
NOTICE_2027 = (
    "国务院办公厅关于2027年部分节假日安排的通知\n"
    "一、元旦：1月1日（周五）至3日（周日）放假，共3天。\n"
    "二、国庆节：9月30日（周四）至10月8日（周五）放假调休，共9天。"
    "9月26日（周日）、10月9日（周六）上班。\n"
)


def test_a_2027_plan_without_the_notice_uses_the_builtin_calendar_and_says_so(
    world: World, clock: object
) -> None:
    clock.now = datetime(2026, 12, 3, 1, tzinfo=UTC)  # type: ignore[attr-defined]
    body = world.post("/api/v1/plans", "mike", {"year": 2027}).get_json()
    assert (
        body["calendar"]["source"] == "builtin"
        and "no official holiday list" in (body["calendar"]["message"])
    )
    names = {h["name"]: h["estimated"] for h in body["calendar"]["holidays"]}
    assert names["国庆节"] is False and names["春节"] is True
    days = {v["planned_at"][:10] for v in body["visits"]}
    assert days and not {d for d in days if "2027-10-01" <= d <= "2027-10-07"}


def test_the_rest_of_2026_from_today_is_spread_and_reports_what_does_not_fit(
    world: World, clock: object
) -> None:
    clock.now = datetime(2026, 12, 3, 1, tzinfo=UTC)  # type: ignore[attr-defined]
    body = world.post("/api/v1/plans", "mike", {"year": 2026}).get_json()
    assert body["from"] == "2026-12-04"
    acme = [v for v in body["visits"] if v["customer_id"] == world.customers["Acme"]]
    assert len(acme) == 2  # 20 working days left, 10 apart
    [short] = [s for s in body["shortfalls"] if s["customer_id"] == world.customers["Acme"]]
    assert (short["wanted"], short["planned"], short["not_placed"]) == (12, 2, 10)
    assert "working days apart" in short["reasons"][0]["message"]


def test_an_admin_loads_the_notice_and_every_working_day_computation_follows(
    world: World,
) -> None:
    dry = world.post(API, "admin", {"text": NOTICE_2027, "dry_run": True})
    assert dry.status_code == 200, dry.get_json()
    assert dry.get_json()["replaces"] == "builtin" and world.count("official_calendar_years") == 0
    r = world.post(API, "admin", {"text": NOTICE_2027})
    assert r.status_code == 200 and r.get_json()["workdays"] == ["2027-09-26", "2027-10-09"]
    assert [i["year"] for i in world.get(API, "mary").get_json()["items"]] == [2027]
    plan = world.post("/api/v1/plans", "mike", {"year": 2027}).get_json()
    assert plan["calendar"]["source"] == "official" and plan["calendar"]["loaded"]
    with world.app.test_request_context():
        world.app.preprocess_request()
        calendar = runtime.registry().calendar
        assert calendar.is_workday(date(2027, 10, 9)) and not calendar.is_workday(date(2027, 9, 30))


def test_the_real_2026_notice_loads_through_the_api(world: World) -> None:
    text = (NOTICES / "2026.txt").read_text(encoding="utf-8")
    r = world.post(API, "admin", {"text": text})
    assert r.status_code == 200 and r.get_json()["replaces"] == "official"
    assert len(r.get_json()["holidays"]) == 7


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "关于2027年部分节假日安排的通知\n请周知。"}, "text"),
        ({"text": NOTICE_2027.replace("共9天", "共8天")}, "text"),
        ({"text": NOTICE_2027, "year": 2028}, "text"),
        ({"text": NOTICE_2027, "year": "2027"}, "year"),
        ({"text": NOTICE_2027, "extra": 1}, "extra"),
    ],
)
def test_bad_notices_are_422_naming_the_field_and_store_nothing(
    world: World, body: dict[str, object], field: str
) -> None:
    r = world.post(API, "admin", body)
    assert r.status_code == 422 and field in r.get_json()["errors"], r.get_json()
    assert world.count("official_calendar_years") == 0


@pytest.mark.parametrize("user", ["mike", "mary", "boss"])
def test_only_an_admin_may_load_the_official_holidays(world: World, user: str) -> None:
    r = world.post(API, user, {"text": NOTICE_2027})
    assert r.status_code == 403 and world.count("official_calendar_years") == 0


def test_the_cli_loads_a_notice_file(world: World, tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    path.write_text(NOTICE_2027, encoding="utf-8")
    runner = world.app.test_cli_runner()
    bad = tmp_path / "bad.txt"
    bad.write_text("关于2027年部分节假日安排的通知", encoding="utf-8")
    refused = runner.invoke(args=["calendar", "load", str(bad)])
    assert refused.exit_code != 0 and "no holiday found" in refused.output
    assert world.count("official_calendar_years") == 0
    done = runner.invoke(args=["calendar", "load", str(path)])
    assert done.exit_code == 0, done.output
    assert "loaded 2027: 2 holidays, 2 make-up working days" in done.output
    shown = runner.invoke(args=["calendar", "show", "2027"])
    assert "2027: official (loaded)" in shown.output
