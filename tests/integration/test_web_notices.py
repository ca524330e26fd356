"""Rectification notices and supervision findings through the pages (CSRF on)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.conftest import World, advance, create_visit, fire
from tests.integration.test_api_support import create_notice
from tests.integration.web import Browser

NOTICES = "/api/v1/rectification-notices"


def api_notice(world: World, notice_id: int) -> dict[str, Any]:
    r = world.get(f"{NOTICES}/{notice_id}", "sara")
    assert r.status_code == 200
    body: dict[str, Any] = r.get_json()
    return body


def new_notice_form(**over: Any) -> dict[str, Any]:
    form = {
        "department": "technical",
        "findings": "Visit records of November submitted late",
        "due_at": "2026-11-20",
        "related_visits": "",
        "related_issues": "",
    }
    form.update(over)
    return form


def add_finding(world: World, **over: Any) -> int:
    from service.store.db import db
    from service.store.models import Finding

    values: dict[str, Any] = {
        "key": "record_completeness:visit:1:v3",
        "kind": "record_completeness",
        "workflow": "visit",
        "object_id": 1,
        "department": "marketing",
        "detail": "visit #1 visited 2026-11-02 and not recorded within 2 working days",
    }
    values.update(over)
    with world.app.app_context():
        finding = Finding(**values)
        db.session.add(finding)
        db.session.commit()
        return int(finding.id)


def finding_notice(world: World, finding_id: int) -> int | None:
    with world.app.app_context():
        from service.store.db import db

        value = db.session.execute(
            sa.text("SELECT notice_id FROM findings WHERE id = :id"), {"id": finding_id}
        ).scalar()
        return None if value is None else int(value)


# -- pages ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_notice_pages_render_in_both_languages(world: World, lang: str) -> None:
    visit = create_visit(world)
    notice = create_notice(world, related=[{"workflow": "visit", "id": visit["id"]}])
    add_finding(world, object_id=visit["id"])
    sara = Browser(world, "sara", lang=lang)
    texts = {
        "zh": ("整改通知", "已下达", "监督检查发现", "下达整改通知"),
        "en": ("Rectification notice", "Issued", "Supervision findings", "Issue a notice"),
    }[lang]
    pages = ["/notices", f"/notices/{notice['id']}", "/notices/new", "/supervision/findings"]
    bodies = {}
    for path in pages:
        r = sara.get(path)
        assert r.status_code == 200, (path, r.status_code)
        bodies[path] = r.text
    assert texts[0] in bodies["/notices"] and texts[1] in bodies["/notices"]
    assert texts[2] in bodies["/supervision/findings"]
    assert texts[3] in bodies["/notices"]
    page = bodies[f"/notices/{notice['id']}"]
    assert 'id="notice-state" data-state="issued"' in page
    assert f'href="/visits/{visit["id"]}"' in page  # the related visit, linked
    assert 'id="deadline-acknowledgement"' in page
    assert 'id="nav-notices"' in bodies["/notices"] and 'href="/notices"' in bodies["/notices"]


def test_notices_list_shows_department_excerpt_due_state_and_filters(world: World) -> None:
    first = create_notice(world, findings="x" * 200)
    second = create_notice(world, department="marketing", findings="Plan behind")
    boss = Browser(world, "boss", lang="en")
    page = boss.get("/notices").text
    assert f'id="notice-{first["id"]}"' in page and f'id="notice-{second["id"]}"' in page
    assert "x" * 79 + "…" in page and "x" * 81 not in page
    assert "2026-11-20 18:00" in page and "Issued" in page
    only = boss.get("/notices?department=marketing").text
    assert f'id="notice-{second["id"]}"' in only and f'id="notice-{first["id"]}"' not in only
    assert 'id="notices-empty"' in boss.get("/notices?state=verified").text
    assert 'id="notices-empty"' in boss.get("/notices?overdue=true").text


# -- issuing --------------------------------------------------------------------------------
def test_supervision_issues_a_notice_through_the_form(world: World) -> None:
    visit = create_visit(world)
    sara = Browser(world, "sara")
    sara.get("/notices/new")
    r = sara.post("/notices/new", new_notice_form(related_visits=f"#{visit['id']}"))
    assert r.status_code == 302, r.text
    notice_id = int(r.headers["Location"].rsplit("/", 1)[1])
    notice = api_notice(world, notice_id)
    assert (notice["state"], notice["department"], notice["created_by"]) == (
        "issued",
        "technical",
        "sara",
    )
    assert notice["related"] == [{"workflow": "visit", "id": visit["id"]}]
    assert notice["due_at"].startswith("2026-11-20")  # a date: the end of that working day
    r = world.get(f"{NOTICES}/{notice_id}/history", "sara")
    assert r.get_json()["items"][0]["source"] == "web"


def test_issuing_errors_appear_next_to_fields_and_keep_the_input(world: World) -> None:
    sara = Browser(world, "sara", lang="en")
    sara.get("/notices/new")
    before = world.counts()
    r = sara.post(
        "/notices/new",
        new_notice_form(findings="Kept findings", related_issues="abc"),
    )
    assert r.status_code == 422
    assert 'id="field-related_issues"' in r.text and "Not an id: abc" in r.text
    assert ">Kept findings</textarea>" in r.text and 'value="abc"' in r.text
    r = sara.post("/notices/new", new_notice_form(due_at="next week"))
    assert r.status_code == 422 and 'id="f-due_at-error-1"' in r.text
    r = sara.post("/notices/new", new_notice_form(related_visits="999"))
    assert r.status_code == 422
    assert "no visit 999" in r.text and 'value="999"' in r.text
    assert world.counts() == before


def test_issue_a_notice_from_a_finding(world: World) -> None:
    visit = create_visit(world)
    finding_id = add_finding(world, object_id=visit["id"])
    sara = Browser(world, "sara", lang="en")
    page = sara.get("/supervision/findings").text
    assert f'id="finding-{finding_id}-issue"' in page
    form = sara.get(f"/notices/new?finding={finding_id}").text
    assert f'name="finding" value="{finding_id}"' in form
    assert f'value="{visit["id"]}"' in form and "not recorded within" in form
    r = sara.post(
        "/notices/new",
        new_notice_form(
            department="marketing",
            findings="Visit record not submitted in time",
            related_visits=str(visit["id"]),
            finding=str(finding_id),
        ),
    )
    assert r.status_code == 302, r.text
    notice_id = int(r.headers["Location"].rsplit("/", 1)[1])
    assert finding_notice(world, finding_id) == notice_id
    page = sara.get("/supervision/findings").text
    assert f'id="finding-{finding_id}-notice" href="/notices/{notice_id}"' in page
    assert f'id="finding-{finding_id}-issue"' not in page
    # a second time leads to the notice, never to a second one
    r = sara.get(f"/notices/new?finding={finding_id}")
    assert (r.status_code, r.headers["Location"]) == (302, f"/notices/{notice_id}")
    before = world.counts()
    r = sara.post("/notices/new", new_notice_form(finding=str(finding_id)))
    assert r.status_code == 302 and world.counts() == before


# -- the steps ------------------------------------------------------------------------------
def test_notice_lifecycle_through_the_pages(world: World) -> None:
    notice = create_notice(world)
    path = f"/notices/{notice['id']}"
    tom = Browser(world, "tom")  # technical: the addressed department
    inbox = tom.get("/").text
    assert f'id="inbox-rectification-{notice["id"]}"' in inbox and f'href="{path}"' in inbox
    page = tom.get(path).text
    assert 'id="fire-acknowledge"' in page
    form = tom.get(f"{path}/fire/acknowledge").text
    assert 'name="plan"' in form and 'name="responsible_person"' in form
    r = tom.post(
        f"{path}/fire/acknowledge",
        {"version": "1", "plan": "Record within the day", "responsible_person": "ted"},
    )
    assert (r.status_code, r.headers["Location"]) == (302, path)
    state = api_notice(world, notice["id"])
    assert (state["state"], state["responsible_person"]) == ("acknowledged", "ted")
    r = tom.post(f"{path}/fire/rectify", {"version": "2", "report": "Done", "completed_at": ""})
    assert r.status_code == 302
    assert api_notice(world, notice["id"])["state"] == "rectified"

    sara = Browser(world, "sara")
    page = sara.get(path).text
    assert 'id="fire-verify"' in page and 'id="fire-return"' in page
    r = sara.post(f"{path}/fire/return", {"version": "3", "reason": "Two records still missing"})
    assert r.status_code == 302
    assert api_notice(world, notice["id"])["state"] == "acknowledged"
    r = tom.post(f"{path}/fire/rectify", {"version": "4", "report": "All recorded"})
    assert r.status_code == 302
    r = sara.post(f"{path}/fire/verify", {"version": "5", "opinion": "Good"})
    assert r.status_code == 302
    page = sara.get(path).text
    assert 'data-state="verified"' in page and 'id="triggers"' not in page
    assert "Two records still missing" in page and "All recorded" in page
    history = [
        e["source"]
        for e in world.get(f"{NOTICES}/{notice['id']}/history", "sara").get_json()["items"]
    ]
    assert history[1:] == ["web"] * 5


def test_forbidden_roles_get_403_and_nothing_is_written(world: World) -> None:
    notice = create_notice(world)  # to technical
    mary, tom = Browser(world, "mary"), Browser(world, "tom")
    before = world.counts()
    assert mary.get("/notices/new").status_code == 403  # only supervision issues notices
    assert mary.post("/notices/new", new_notice_form()).status_code == 403
    # marketing sees the notice but is not the addressed department
    assert mary.get(f"/notices/{notice['id']}/fire/acknowledge").status_code == 403
    r = mary.post(f"/notices/{notice['id']}/fire/acknowledge", {"version": "1", "plan": "x"})
    assert r.status_code == 403
    # the department may not verify its own work
    advance(world, "rectification-notices", notice, ["acknowledge", "rectify"], "tom")
    r = tom.post(f"/notices/{notice['id']}/fire/verify", {"version": "3", "opinion": "ok"})
    assert r.status_code == 403
    assert tom.get("/supervision/findings").status_code == 403
    assert Browser(world, "amy").get("/supervision/findings").status_code == 403
    assert Browser(world, "mike").get("/supervision/findings").status_code == 200
    assert world.counts()["transition_events"] == before["transition_events"] + 2


def test_a_notice_of_another_department_is_404(world: World) -> None:
    notice = create_notice(world, findings="Secret finding")  # to technical
    amy = Browser(world, "amy")  # after-sales: sees her department's notices only
    before = world.counts()
    r = amy.get(f"/notices/{notice['id']}")
    assert r.status_code == 404 and "Secret finding" not in r.text
    r = amy.post(f"/notices/{notice['id']}/fire/acknowledge", {"version": "1", "plan": "x"})
    assert r.status_code == 404
    assert f'id="notice-{notice["id"]}"' not in amy.get("/notices").text
    assert f'id="notice-{notice["id"]}"' in Browser(world, "tom").get("/notices").text
    assert world.counts() == before


def test_a_refused_csrf_token_writes_nothing(world: World) -> None:
    notice = create_notice(world)
    finding_id = add_finding(world)
    sara, tom = Browser(world, "sara"), Browser(world, "tom")
    before = world.counts()
    for token in ("", "forged-token"):
        assert sara.post("/notices/new", new_notice_form(), token=token).status_code == 400
        r = sara.post("/notices/new", new_notice_form(finding=str(finding_id)), token=token)
        assert r.status_code == 400
        r = tom.post(
            f"/notices/{notice['id']}/fire/acknowledge", {"version": "1", "plan": "x"}, token=token
        )
        assert r.status_code == 400
    assert world.counts() == before and finding_notice(world, finding_id) is None


def test_version_conflict_says_so_and_keeps_the_input(world: World) -> None:
    notice = create_notice(world)
    advance(world, "rectification-notices", notice, ["acknowledge", "rectify"], "tom")
    sara = Browser(world, "sara", lang="en")
    form = sara.get(f"/notices/{notice['id']}/fire/return").text
    assert 'name="version" value="3"' in form
    # meanwhile another supervisor sends it back and the department rectifies again
    assert fire(world, "rectification-notices", notice, "return", "sara").status_code == 200
    notice["version"] = 4
    assert fire(world, "rectification-notices", notice, "rectify", "tom").status_code == 200
    before = world.counts()
    r = sara.post(f"/notices/{notice['id']}/fire/return", {"version": "3", "reason": "Kept words"})
    assert r.status_code == 409
    assert world.counts() == before
    assert 'id="conflict"' in r.text and ">Kept words</textarea>" in r.text
    assert 'name="version" value="5"' in r.text
    r = sara.post(f"/notices/{notice['id']}/fire/return", {"version": "5", "reason": "Kept words"})
    assert r.status_code == 302
    assert api_notice(world, notice["id"])["state"] == "acknowledged"
