"""Feedback meetings through the pages (CSRF on): the list, recording one with the visit's
raised issues assigned in it (the API's use case, all or nothing), a meeting's page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import World, create_visit, fire
from tests.integration.test_api_support import create_issue
from tests.integration.web import Browser

TABLES = ("feedback_meetings", "feedback_meeting_issues")


def counts(world: World) -> dict[str, int]:
    return {**world.counts(), **{t: world.count(t) for t in TABLES}}


def api_issue(world: World, issue_id: int) -> dict[str, Any]:
    body: dict[str, Any] = world.get(f"/api/v1/issues/{issue_id}", "mary").get_json()
    return body


def meeting_form(visit: dict[str, Any], *rows: dict[str, Any], **over: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "visit_id": str(visit["id"]),
        "held_at": "2026-11-12T15:00",
        "place": "Room 3",
        "attendees": ["mary", "tom"],
        "decisions": "Fix exports first",
        "issue": [],
    }
    for row in rows:
        issue_id = row.pop("issue_id")
        form["issue"].append(str(issue_id))
        for name, value in row.items():
            form[f"a{issue_id}-{name}"] = value
    form.update(over)
    return form


def row(issue: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {
        "issue_id": issue["id"],
        "version": str(issue["version"]),
        "responsible_department": "technical",
        "responsible_person": "tom",
        "due_at": "2026-11-20",
        **over,
    }


def empty_row(issue: dict[str, Any]) -> dict[str, Any]:
    return row(issue, responsible_department="", responsible_person="", due_at="")


@pytest.fixture
def visit(world: World) -> dict[str, Any]:
    return create_visit(world)  # visitors mary and tom


def api_meeting(world: World, visit: dict[str, Any], **over: Any) -> dict[str, Any]:
    body = {
        "held_at": "2026-11-12T15:00:00+08:00",
        "visit_id": visit["id"],
        "attendees": ["mary"],
        "decisions": "Noted",
        **over,
    }
    r = world.post("/api/v1/feedback-meetings", "mary", body)
    assert r.status_code == 201, r.get_json()
    created: dict[str, Any] = r.get_json()
    return created


# -- pages ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_meeting_pages_render_in_both_languages(
    world: World, visit: dict[str, Any], lang: str
) -> None:
    issue = create_issue(world, visit_id=visit["id"])
    meeting = api_meeting(world, visit, place="Room 3")
    mary = Browser(world, "mary", lang=lang)
    texts = {
        "zh": ("反馈会议", "记录反馈会议", "待分派的问题", "会议地点", "记录走访反馈会议"),
        "en": (
            "Feedback meetings",
            "Record a feedback meeting",
            "Issues to assign",
            "Meeting place",
            "Record the feedback meeting",
        ),
    }[lang]
    listed = mary.get("/meetings")
    form = mary.get(f"/meetings/new?visit_id={visit['id']}")
    page = mary.get(f"/meetings/{meeting['id']}")
    visit_page = mary.get(f"/visits/{visit['id']}")
    for r in (listed, form, page, visit_page):
        assert r.status_code == 200
    assert texts[0] in listed.text and texts[1] in listed.text
    assert 'id="nav-meetings"' in listed.text and f'id="meeting-{meeting["id"]}"' in listed.text
    assert texts[2] in form.text and f'id="assign-{issue["id"]}"' in form.text
    assert texts[3] in page.text and 'id="meeting-place">Room 3<' in page.text
    assert texts[4] in visit_page.text
    assert f'href="/meetings?visit_id={visit["id"]}"' in visit_page.text
    assert f'href="/meetings/new?visit_id={visit["id"]}"' in visit_page.text


def test_the_list_is_latest_first_and_filters_by_visit(world: World, visit: dict[str, Any]) -> None:
    other = create_visit(world, customer_id=world.customers["Globex"])
    old = api_meeting(world, visit, held_at="2026-11-03T10:00:00+08:00")
    new = api_meeting(world, visit, held_at="2026-11-05T10:00:00+08:00")
    elsewhere = api_meeting(world, other, held_at="2026-11-04T10:00:00+08:00")
    mary = Browser(world, "mary", lang="en")
    page = mary.get("/meetings").text
    order = [page.index(f'id="meeting-{m["id"]}"') for m in (new, elsewhere, old)]
    assert order == sorted(order)
    only = mary.get(f"/meetings?visit_id={other['id']}").text
    assert f'id="meeting-{elsewhere["id"]}"' in only and f'id="meeting-{new["id"]}"' not in only
    assert "2026-11-04 10:00" in only and "Globex" in only


def test_technical_staff_see_the_meetings_of_their_own_visits(
    world: World, visit: dict[str, Any]
) -> None:
    theirs = api_meeting(world, visit)
    hidden_visit = create_visit(world, visitors=["mary", "ted"])
    hidden = api_meeting(world, hidden_visit)
    tom = Browser(world, "tom", lang="en")
    page = tom.get("/meetings").text
    assert f'id="meeting-{theirs["id"]}"' in page and f'id="meeting-{hidden["id"]}"' not in page
    assert 'id="new-meeting"' not in page and 'id="nav-meetings"' in page
    assert tom.get(f"/meetings/{theirs['id']}").status_code == 200
    assert tom.get(f"/meetings/{hidden['id']}").status_code == 404
    assert 'id="record-meeting"' not in tom.get(f"/visits/{visit['id']}").text


# -- recording ------------------------------------------------------------------------------
def test_a_meeting_and_its_assignments_are_recorded_through_the_form(
    world: World, visit: dict[str, Any]
) -> None:
    first = create_issue(world, visit_id=visit["id"])
    later = create_issue(world, visit_id=visit["id"], title="Manual out of date")
    assigned = create_issue(world, visit_id=visit["id"], title="Already in the ledger")
    assert fire(world, "issues", assigned, "assign", "mary").status_code == 200
    mary = Browser(world, "mary", lang="en")
    form = mary.get(f"/meetings/new?visit_id={visit['id']}").text
    assert f'id="assign-{first["id"]}"' in form and f'id="assign-{later["id"]}"' in form
    assert f'id="assign-{assigned["id"]}"' not in form  # only raised issues are offered
    assert 'value="2026-11-02T09:00"' in form  # held now, by default
    assert '<option value="tom" selected>' in form  # the visitors attend, by default
    r = mary.post("/meetings/new", meeting_form(visit, row(first), empty_row(later)))
    assert r.status_code == 302, r.text
    meeting_id = int(r.headers["Location"].rsplit("/", 1)[1])
    meeting = world.get(f"/api/v1/feedback-meetings/{meeting_id}", "mary").get_json()
    assert (meeting["issue_ids"], meeting["attendees"], meeting["place"]) == (
        [first["id"]],
        ["mary", "tom"],
        "Room 3",
    )
    assert meeting["held_at"].startswith("2026-11-12T07:00")  # 15:00 in Asia/Shanghai
    issue = api_issue(world, first["id"])
    assert (issue["state"], issue["responsible_person"]) == ("assigned", "tom")
    history = world.get(f"/api/v1/issues/{first['id']}/history", "mary").get_json()["items"]
    assert (history[-1]["trigger"], history[-1]["source"]) == ("assign", "web")
    assert api_issue(world, later["id"])["state"] == "raised"
    page = mary.get(f"/meetings/{meeting_id}").text
    assert f'id="meeting-issue-{first["id"]}"' in page and "2026-11-20 18:00" in page


def test_a_refused_csrf_token_writes_nothing(world: World, visit: dict[str, Any]) -> None:
    issue = create_issue(world, visit_id=visit["id"])
    mary = Browser(world, "mary", lang="en")
    mary.get("/meetings/new")
    before = counts(world)
    for token in ("", "forged"):
        r = mary.post("/meetings/new", meeting_form(visit, row(issue)), token=token)
        assert r.status_code == 400
        assert "The form has expired" in r.text
    assert counts(world) == before


def test_only_marketing_records_meetings(world: World, visit: dict[str, Any]) -> None:
    issue = create_issue(world, visit_id=visit["id"])
    before = counts(world)
    for user in ("tom", "boss", "sara"):
        b = Browser(world, user, lang="en")
        r = b.get("/meetings/new")
        assert r.status_code == 403 and "Only marketing records" in r.text
        assert b.post("/meetings/new", meeting_form(visit, row(issue))).status_code == 403
    assert 'id="new-meeting"' not in Browser(world, "boss").get("/meetings").text
    assert counts(world) == before


def test_invalid_fields_are_shown_next_to_them_with_the_input_kept(
    world: World, visit: dict[str, Any]
) -> None:
    issue = create_issue(world, visit_id=visit["id"])
    mary = Browser(world, "mary", lang="en")
    mary.get("/meetings/new")
    before = counts(world)
    form = meeting_form(
        visit, row(issue), held_at="", attendees=[], decisions="", place="Kept place"
    )
    r = mary.post("/meetings/new", form)
    assert r.status_code == 422
    for name in ("held_at", "attendees", "decisions"):
        assert f'id="f-{name}-error-1"' in r.text, name
    assert "Missing data for required field." in r.text
    assert 'value="Kept place"' in r.text
    assert f'name="a{issue["id"]}-due_at" aria-describedby' in r.text
    assert 'value="2026-11-20"' in r.text  # the assignment row kept too
    # an assignment's own fields: errors on its row
    r = mary.post("/meetings/new", meeting_form(visit, row(issue, due_at="2026-10-01")))
    assert r.status_code == 422
    assert f'id="f-a{issue["id"]}-due_at-error-1"' in r.text
    assert ">Fix exports first</textarea>" in r.text
    r = mary.post("/meetings/new", meeting_form(visit, row(issue, responsible_person="")))
    assert r.status_code == 422
    assert f'id="f-a{issue["id"]}-responsible_person-error-1"' in r.text
    assert '<option value="technical" selected>' in r.text
    assert counts(world) == before
    assert api_issue(world, issue["id"])["state"] == "raised"


def test_an_issue_assigned_meanwhile_refuses_the_meeting(
    world: World, visit: dict[str, Any]
) -> None:
    first = create_issue(world, visit_id=visit["id"])
    taken = create_issue(world, visit_id=visit["id"], title="Taken")
    mary = Browser(world, "mary", lang="en")
    mary.get(f"/meetings/new?visit_id={visit['id']}")
    assert fire(world, "issues", taken, "assign", "mike").status_code == 200  # meanwhile
    before = counts(world)
    form = meeting_form(visit, row(first), row(taken), decisions="Kept decisions")
    r = mary.post("/meetings/new", form)
    assert r.status_code == 409
    assert f"Issue #{taken['id']} was changed by someone else meanwhile" in r.text
    assert ">Kept decisions</textarea>" in r.text
    assert f'id="assign-{taken["id"]}"' not in r.text  # no longer waiting to be assigned
    assert counts(world) == before
    assert api_issue(world, first["id"])["state"] == "raised"


def test_zh_errors_and_messages(world: World, visit: dict[str, Any]) -> None:
    issue = create_issue(world, visit_id=visit["id"])
    mary = Browser(world, "mary", lang="zh")
    mary.get("/meetings/new")
    r = mary.post("/meetings/new", meeting_form(visit, row(issue), decisions=""))
    assert r.status_code == 422 and "长度须在 1 到 20000 之间。" in r.text
    r = mary.post("/meetings/new", meeting_form(visit, row(issue)))
    assert r.status_code == 302
    page = mary.get(r.headers["Location"]).text
    assert "走访反馈会议" in page and "列入台账的问题：1 个" in page
