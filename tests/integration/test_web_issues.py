"""The issues pages: the tracking ledger, its exports, raising and driving an issue."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.integration.conftest import World, advance, create_visit, fire
from tests.integration.test_api_support import create_issue
from tests.integration.web import Browser

ASSIGN = {
    "responsible_department": "technical",
    "responsible_person": "tom",
    "due_at": "2026-11-20",
}


def api_issue(world: World, issue_id: int) -> dict[str, Any]:
    data: dict[str, Any] = world.get(f"/api/v1/issues/{issue_id}", "mary").get_json()
    return data


def history(world: World, issue_id: int) -> list[dict[str, Any]]:
    r = world.get(f"/api/v1/issues/{issue_id}/history", "mary")
    items: list[dict[str, Any]] = r.get_json()["items"]
    return items


def ledger(world: World) -> dict[str, dict[str, Any]]:
    """Three issues: Acme assigned to technical, Globex raised, Initech assigned to after-sales."""
    acme = create_issue(world, customer_id=world.customers["Acme"], title="Slow exports")
    acme = advance(world, "issues", acme, ["assign"], "mary")
    globex = create_issue(
        world, customer_id=world.customers["Globex"], title="Login fails", severity="high"
    )
    initech = create_issue(
        world, customer_id=world.customers["Initech"], title="Late spare parts", category="other"
    )
    r = fire(
        world,
        "issues",
        initech,
        "assign",
        "mary",
        {
            "responsible_department": "after_sales",
            "responsible_person": "amy",
            "due_at": "2026-11-20",
        },
    )
    assert r.status_code == 200
    return {"acme": acme, "globex": globex, "initech": r.get_json()}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_issue_pages_render_in_both_languages(world: World, lang: str) -> None:
    issues = ledger(world)
    b = Browser(world, "mary", lang=lang)
    word = {"zh": "跟踪台账", "en": "Tracking ledger"}[lang]
    acme = issues["acme"]["id"]
    for path in [
        "/issues",
        "/issues?state=assigned&department=technical&severity=medium&overdue=false",
        "/issues/new",
        f"/issues/new?visit_id={create_visit(world)['id']}",
        f"/issues/{acme}",
        f"/issues/{issues['globex']['id']}/fire/assign",
    ]:
        r = b.get(path)
        assert r.status_code == 200, path
        assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in r.text
        assert 'id="nav-issues" href="/issues"' in r.text
    assert word in b.get("/issues").text
    page = b.get(f"/issues/{acme}").text
    assert "Slow exports" in page and 'id="history"' in page and 'id="deadline-resolution"' in page
    assert ("已分派" if lang == "zh" else "Assigned") in page


def test_ledger_shows_the_columns_and_filters(world: World) -> None:
    issues = ledger(world)
    b = Browser(world, "mary", lang="en")
    page = b.get("/issues").text
    for key in ("acme", "globex", "initech"):
        assert f'id="issue-{issues[key]["id"]}"' in page
    assert "Technical" in page and "tom" in page and "2026-11-20 18:00" in page

    def shown(query: str) -> set[int]:
        text = b.get(f"/issues?{query}").text
        return {i["id"] for i in issues.values() if f'id="issue-{i["id"]}"' in text}

    assert shown("state=raised") == {issues["globex"]["id"]}
    assert shown("department=after_sales") == {issues["initech"]["id"]}
    assert shown("responsible_person=tom") == {issues["acme"]["id"]}
    assert shown("severity=high") == {issues["globex"]["id"]}
    assert shown("category=other") == {issues["initech"]["id"]}
    assert shown(f"customer_id={world.customers['Acme']}") == {issues["acme"]["id"]}
    assert shown("overdue=true") == set()
    assert shown("overdue=false") == {i["id"] for i in issues.values()}


def test_ledger_shows_only_what_the_user_may_see(world: World) -> None:
    issues = ledger(world)
    text = Browser(world, "amy").get("/issues").text  # after-sales: its department's issue only
    assert f'id="issue-{issues["initech"]["id"]}"' in text
    assert f'id="issue-{issues["acme"]["id"]}"' not in text
    assert f'id="issue-{issues["globex"]["id"]}"' not in text


def test_csv_export_has_the_visible_filtered_rows_with_a_header(world: World) -> None:
    issues = ledger(world)
    r = Browser(world, "mary").get("/issues/export.csv?state=assigned")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.data.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads the Chinese
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["#", "标题", "客户"]
    assert sorted(int(row[0]) for row in rows[1:]) == sorted(
        [issues["acme"]["id"], issues["initech"]["id"]]
    )
    # amy sees only her department's issue
    r = Browser(world, "amy", lang="en").get("/issues/export.csv")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][1] == "Title"
    assert [int(row[0]) for row in rows[1:]] == [issues["initech"]["id"]]


def test_xlsx_export_has_the_visible_filtered_rows_with_a_header(world: World) -> None:
    issues = ledger(world)
    r = Browser(world, "mary", lang="en").client.get("/issues/export.xlsx?severity=high")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(r.data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("#", "Title")
    assert [row[0] for row in rows[1:]] == [issues["globex"]["id"]]
    assert rows[1][1] == "Login fails"


def test_issue_lifecycle_through_the_web_forms(world: World) -> None:
    visit = create_visit(world)
    tom = Browser(world, "tom")
    form = tom.get(f"/issues/new?visit_id={visit['id']}").text
    assert f'<option value="{visit["id"]}" selected>' in form
    r = tom.post(
        "/issues/new",
        {
            "visit_id": str(visit["id"]),
            "customer_id": str(world.customers["Acme"]),
            "title": "Slow exports",
            "description": "An hour per export",
            "category": "product",
            "severity": "medium",
        },
    )
    assert r.status_code == 302
    issue_id = int(r.headers["Location"].rsplit("/", 1)[1])
    mary = Browser(world, "mary")
    page = mary.get(f"/issues/{issue_id}").text
    assert f'href="/issues/{issue_id}/fire/assign"' in page
    r = mary.post(f"/issues/{issue_id}/fire/assign", {"version": "1", **ASSIGN, "plan": "fix"})
    assert r.status_code == 302
    r = tom.post(
        f"/issues/{issue_id}/fire/resolve",
        {"version": "2", "root_cause": "index", "solution": "added it", "customer_informed": "y"},
    )
    assert r.status_code == 302
    rating = mary.get(f"/issues/{issue_id}/fire/confirm").text
    assert 'type="radio" name="satisfaction"' in rating and 'value="5"' in rating
    r = mary.post(f"/issues/{issue_id}/fire/reopen", {"version": "3", "reason": "still slow"})
    assert r.status_code == 302
    assert api_issue(world, issue_id)["state"] == "assigned"
    r = tom.post(
        f"/issues/{issue_id}/fire/resolve",
        {"version": "4", "root_cause": "i", "solution": "s", "customer_informed": "y"},
    )
    assert r.status_code == 302
    r = mary.post(f"/issues/{issue_id}/fire/confirm", {"version": "5", "satisfaction": "5"})
    assert r.status_code == 302
    issue = api_issue(world, issue_id)
    assert issue["state"] == "customer_confirmed"
    assert issue["responsible_person"] == "tom"
    events = history(world, issue_id)
    assert [e["trigger"] for e in events] == [
        None,
        "assign",
        "resolve",
        "reopen",
        "resolve",
        "confirm",
    ]
    assert {e["source"] for e in events} == {"web"}
    final = mary.get(f"/issues/{issue_id}").text
    assert 'id="triggers"' not in final and 'data-source="web"' in final


def test_answer_on_the_spot_and_low_rating_needs_a_comment(world: World) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    mary = Browser(world, "mary", lang="en")
    r = mary.post(
        f"/issues/{issue['id']}/fire/answer_on_the_spot",
        {"version": "1", "answer": "explained", "satisfaction": "4"},
    )
    assert r.status_code == 302
    assert api_issue(world, issue["id"])["state"] == "customer_confirmed"
    other = advance(
        world,
        "issues",
        create_issue(world, customer_id=world.customers["Acme"]),
        ["assign", "resolve"],
        "mike",
    )
    r = mary.post(
        f"/issues/{other['id']}/fire/confirm",
        {"version": "3", "satisfaction": "1", "confirmed_with": "Li"},
    )
    assert r.status_code == 422 and "required when satisfaction is 2 or lower" in r.text
    assert 'value="Li"' in r.text and 'id="f-satisfaction-1" value="1" checked' in r.text


def test_raise_errors_appear_next_to_fields_and_keep_the_input(world: World) -> None:
    mary = Browser(world, "mary", lang="en")
    before = world.counts()
    r = mary.post(
        "/issues/new",
        {"customer_id": str(world.customers["Acme"]), "title": "Kept", "category": "product"},
    )
    assert r.status_code == 422
    assert 'id="f-description-error-1"' in r.text and 'value="Kept"' in r.text
    assert world.counts() == before


def test_a_refused_csrf_token_writes_nothing(world: World) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    mary = Browser(world, "mary")
    before = world.counts()
    for token in ("", "forged"):
        r = mary.post(f"/issues/{issue['id']}/fire/assign", {"version": "1", **ASSIGN}, token=token)
        assert r.status_code == 400
        r = mary.post("/issues/new", {"customer_id": "1", "title": "x"}, token=token)
        assert r.status_code == 400
    assert world.counts() == before


def test_a_forbidden_role_gets_403(world: World) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    tom = Browser(world, "tom")  # technical may not assign; sees it? raised by mary: no
    boss = Browser(world, "boss")  # management sees everything but may not assign or raise
    before = world.counts()
    r = boss.post(f"/issues/{issue['id']}/fire/assign", {"version": "1", **ASSIGN})
    assert r.status_code == 403 and 'data-status="403"' in r.text
    assert boss.get(f"/issues/{issue['id']}/fire/assign").status_code == 403
    assert boss.get("/issues/new").status_code == 403
    assert world.counts() == before
    assert tom.get(f"/issues/{issue['id']}").status_code == 404


def test_an_invisible_issue_is_404(world: World) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"], title="Secret")
    advance(world, "issues", issue, ["assign"], "mary")  # to technical
    amy = Browser(world, "amy")  # after-sales, did not raise it
    for path in (f"/issues/{issue['id']}", f"/issues/{issue['id']}/fire/resolve"):
        r = amy.get(path)
        assert r.status_code == 404 and "Secret" not in r.text
    before = world.counts()
    r = amy.post(f"/issues/{issue['id']}/fire/resolve", {"version": "2", "root_cause": "x"})
    assert r.status_code == 404
    assert world.counts() == before
    assert Browser(world, "ted").get(f"/issues/{issue['id']}").status_code == 200  # technical


def test_version_conflict_says_so_and_keeps_the_input(world: World) -> None:
    issue = advance(
        world,
        "issues",
        create_issue(world, customer_id=world.customers["Acme"]),
        ["assign", "resolve"],
        "mike",
    )
    mary = Browser(world, "mary", lang="en")
    assert 'name="version" value="3"' in mary.get(f"/issues/{issue['id']}/fire/reopen").text
    assert fire(world, "issues", issue, "reopen", "mike").status_code == 200
    assert fire(world, "issues", {"id": issue["id"]}, "resolve", "mike").status_code == 200
    before = world.counts()
    r = mary.post(f"/issues/{issue['id']}/fire/reopen", {"version": "3", "reason": "kept reason"})
    assert r.status_code == 409 and 'id="conflict"' in r.text
    assert "Someone else changed this meanwhile" in r.text
    assert ">kept reason</textarea>" in r.text and 'name="version" value="5"' in r.text
    assert world.counts() == before


def test_inbox_rows_for_issues_link_to_the_issue_page(world: World) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    text = Browser(world, "mary").get("/").text
    assert f'href="/issues/{issue["id"]}"' in text
