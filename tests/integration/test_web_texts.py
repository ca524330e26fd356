"""The Chinese pages show no English: every page each role can reach, with data in every state.

A crawler signs in as each role, follows every link of the site from the inbox (one URL per
path and set of query names) and reads each page's visible text: the text between tags and
the attributes a user sees (placeholder, title, alt, aria-label, a button's value), without
scripts and styles. A word of Latin letters there must be on a short allow-list (the brand,
file formats, units) or be data the test itself typed (usernames, ids).
"""

from __future__ import annotations

import re
from collections import deque
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa

from service.usecases import supervision
from tests.integration.conftest import USERS, Clock, World, fire
from tests.integration.web import Browser

ALLOWED = {"VisitFlow", "English", "CSV", "Excel", "xlsx", "csv", "KPI", "ID"}
USERNAMES = {u for u, _, _ in USERS}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
VISIBLE_ATTRS = ("placeholder", "title", "alt", "aria-label")
SKIP = re.compile(r"^/(logout|web-static|api/)|[?&]lang=|\.(csv|xlsx|ics)(\?|$)")
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")
NAMES = {
    "mary": "王丽",
    "mike": "李明",
    "tom": "张涛",
    "ted": "赵德",
    "amy": "陈静",
    "boss": "刘总",
    "sara": "赵敏",
    "crm": "客户系统",
    "admin": "管理员",
}
DEPARTMENTS = {
    "marketing": "营销部",
    "technical": "技术部",
    "after_sales": "售后服务部",
    "management": "公司管理层",
    "supervision": "走访监督小组",
    "it": "信息技术部",
}


class VisibleText(HTMLParser):
    """The text a reader sees, and the page's links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in VOID:
            pass
        elif tag in ("script", "style", "template") or self._hidden:
            self._hidden += 1  # nested tags of a hidden one count too
        elif "mermaid" in (values.get("class") or "").split():
            self._hidden += 1  # a diagram's source, drawn as a picture
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        for name in VISIBLE_ATTRS:
            if values.get(name):
                self.texts.append(str(values[name]))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if self._hidden and tag not in VOID:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data)


def english_words(html: str) -> tuple[set[str], list[str]]:
    parser = VisibleText()
    parser.feed(html)
    found = set()
    for text in parser.texts:
        for word in WORD.findall(text):
            if word not in ALLOWED and word not in USERNAMES:
                found.add(word)
    return found, parser.links


def shape(url: str) -> tuple[str, tuple[str, ...]]:
    parts = urlsplit(url)
    return parts.path, tuple(sorted({k for k, _ in parse_qsl(parts.query)}))


def crawl(browser: Browser, start: str = "/", limit: int = 400) -> dict[str, set[str]]:
    """Every page reachable from `start` by links: its English words, by URL."""
    seen = {shape(start)}
    queue = deque([start])
    out: dict[str, set[str]] = {}
    while queue and len(out) < limit:
        url = queue.popleft()
        r = browser.get(url)
        assert r.status_code < 500, (url, r.status_code)
        if r.status_code in (301, 302, 303):
            continue
        if r.mimetype != "text/html":
            continue
        words, links = english_words(r.text)
        out[url] = words
        for link in links:
            link = link.split("#", 1)[0]
            if not link.startswith("/") or link.startswith("//") or SKIP.search(link):
                continue
            if shape(link) not in seen:
                seen.add(shape(link))
                queue.append(link)
    return out


# -- data like the demo's: a visit in every state, issues, notices, findings ---------------
def chinese_names(world: World) -> None:
    """Departments, people and customers named in Chinese, as a Chinese company names them."""
    from service.store.db import db
    from service.store.models import Customer, Department, User

    with world.app.app_context():
        for code, name in DEPARTMENTS.items():
            db.session.get(Department, code).name = name
        for username, name in NAMES.items():
            db.session.execute(
                sa.update(User).where(User.username == username).values(display_name=name)
            )
        for old, (name, industry, region) in {
            "Acme": ("华东精密制造", "制造业", "华东"),
            "Globex": ("北方能源集团", "能源", "华北"),
            "Initech": ("中原食品", "食品", "华中"),
        }.items():
            db.session.execute(
                sa.update(Customer)
                .where(Customer.name == old)
                .values(name=name, industry=industry, region=region)
            )
        db.session.commit()


def chinese_world(world: World, clock: Clock) -> dict[str, Any]:
    chinese_names(world)
    made: dict[str, Any] = {}
    steps = {
        "planned": [],
        "prepared": ["prepare"],
        "visited": ["prepare", "visit"],
        "recorded": ["prepare", "visit", "record"],
        "reported": ["prepare", "visit", "record", "report"],
        "cancelled": ["cancel"],
    }
    planned = {
        state: visit_zh(world, f"2026-11-{3 + day:02d}T10:00:00+08:00")
        for day, state in enumerate(steps)
    }
    clock.now = datetime(2026, 11, 9, 2, 0, tzinfo=UTC)  # each visit's time has passed
    for state, triggers in steps.items():
        made[state] = advance(world, planned[state], triggers)
    issue = issue_zh(world, made["recorded"]["id"])
    assigned = issue_zh(world, made["reported"]["id"])
    r = fire(world, "issues", assigned, "assign", "mike", assign_zh())
    assert r.status_code == 200, r.get_json()
    notice = world.post(
        "/api/v1/rectification-notices",
        "sara",
        {
            "department": "marketing",
            "findings": "走访记录未按时提交。",
            "due_at": "2026-12-20T18:00:00+08:00",
            "related": [{"workflow": "visit", "id": made["visited"]["id"]}],
        },
    )
    assert notice.status_code == 201, notice.get_json()
    made["issue"], made["assigned"], made["notice"] = issue, assigned, notice.get_json()
    reviews_meetings_evaluations(world, made)
    clock.advance(days=40)  # records late, the ledger deadline past: findings and notices
    world.app.config["POLICY"]["visit_quotas"] = {"core": 12, "important": 6, "general": 2}
    with world.app.app_context():
        from service.store.db import db
        from service.usecases import deadlines

        deadlines.fire_all_due()
        made["checks"] = supervision.run_checks()
        made["kinds"] = set(db.session.execute(sa.text("SELECT kind FROM findings")).scalars())
    return made


def reviews_meetings_evaluations(world: World, made: dict[str, Any]) -> None:
    """A tier review decided and one pending, a feedback meeting, an evaluation."""
    for customer, tier in (("Globex", "core"), ("Initech", "important")):
        r = world.post(
            "/api/v1/tier-reviews",
            "mary",
            {
                "year": 2026,
                "proposals": [
                    {
                        "customer_id": world.customers[customer],
                        "proposed_tier": tier,
                        "criteria": ["major_revenue"],
                        "reason": "合作加深",
                    }
                ],
            },
        )
        assert r.status_code == 201, r.get_json()
        made.setdefault("reviews", []).extend(r.get_json()["items"])
    decided = made["reviews"][0]["id"]
    r = world.post(
        f"/api/v1/tier-reviews/{decided}/decision",
        "boss",
        {"decision": "approved", "comment": "同意"},
    )
    assert r.status_code == 200, r.get_json()
    r = world.post(
        "/api/v1/feedback-meetings",
        "mary",
        {
            "held_at": "2026-11-09T15:00:00+08:00",
            "visit_id": made["reported"]["id"],
            "place": "三楼会议室",
            "attendees": ["mary", "mike", "tom"],
            "decisions": "由技术部跟进交付周期。",
        },
    )
    assert r.status_code == 201, r.get_json()
    r = world.post(
        "/api/v1/evaluations",
        "mike",
        {
            "period_start": "2026-07-01",
            "period_end": "2026-12-31",
            "summary": "核心客户按计划走访",
            "findings": "一般客户走访不足",
            "measures": "下季度补充走访",
        },
    )
    assert r.status_code == 201, r.get_json()


def visit_zh(world: World, planned_at: str) -> dict[str, Any]:
    r = world.post(
        "/api/v1/visits",
        "mary",
        {
            "customer_id": world.customers["Acme"],
            "planned_at": planned_at,
            "visitors": ["mary", "tom"],
            "topics": ["business_cooperation"],
            "place": "客户总部",
            "purpose": "年度走访",
        },
    )
    assert r.status_code == 201, r.get_json()
    body: dict[str, Any] = r.get_json()
    return body


DATA_ZH: dict[str, dict[str, Any]] = {
    "prepare": {"customer_background_reviewed": True, "time_place_confirmed": True},
    "record": {
        "place": "客户总部",
        "visitors": ["mary", "tom"],
        "customer_basics": "增长",
        "visit_content": "交流",
    },
    "report": {
        "customer_basics": "甲",
        "content_summary": "乙",
        "issues_and_suggestions": "丙",
        "analysis_and_conclusions": "丁",
        "improvement_measures": "戊",
    },
    "cancel": {"reason": "客户不便"},
}


def advance(world: World, visit: dict[str, Any], triggers: list[str]) -> dict[str, Any]:
    for trigger in triggers:
        data = dict(DATA_ZH.get(trigger, {}))
        if trigger in ("visit", "record"):
            data["visited_at"] = visit["planned_at"]
        user = "mary" if trigger in ("cancel", "report") else "tom"
        r = fire(world, "visits", visit, trigger, user, data)
        assert r.status_code == 200, (trigger, r.get_json())
        visit = r.get_json()
    return visit


def issue_zh(world: World, visit_id: int) -> dict[str, Any]:
    r = world.post(
        "/api/v1/issues",
        "mary",
        {
            "visit_id": visit_id,
            "title": "交付周期长",
            "description": "客户希望缩短交付周期。",
            "category": "commercial",
            "severity": "high",
        },
    )
    assert r.status_code == 201, r.get_json()
    body: dict[str, Any] = r.get_json()
    return body


def assign_zh() -> dict[str, Any]:
    return {
        "responsible_department": "technical",
        "responsible_person": "tom",
        "due_at": "2026-11-20",
    }


@pytest.fixture
def made(world: World, clock: Clock) -> dict[str, Any]:
    return chinese_world(world, clock)


@pytest.mark.parametrize("username", [u for u, role, _ in USERS if role != "integration"])
def test_no_english_on_any_chinese_page(world: World, made: dict[str, Any], username: str) -> None:
    assert made["kinds"] == {"plan_execution", "record_completeness", "issue_timeliness"}
    pages = crawl(Browser(world, username))
    assert len(pages) > 5
    if username == "sara":  # the findings and every notice among them
        assert "/supervision/findings" in pages
        assert sum(url.startswith("/notices/") for url in pages) >= made["checks"]["notices"]
    english = {url: sorted(words) for url, words in pages.items() if words}
    report = "\n".join(f"{url}: {' '.join(words)}" for url, words in english.items())
    assert not english, f"English on the Chinese pages of {username}:\n{report}"


# -- errors: the use cases' messages in the reader's language -------------------------------
def test_a_refused_reference_is_told_in_chinese_on_the_page(world: World) -> None:
    chinese_names(world)
    sara = Browser(world, "sara")
    sara.get("/notices/new")
    form = {
        "department": "technical",
        "findings": "记录迟交",
        "due_at": "2026-11-20",
        "related_visits": "999",
        "related_issues": "",
    }
    r = sara.post("/notices/new", form)
    assert r.status_code == 422
    assert "走访 #999 不存在或您无权查看" in r.text
    assert "no visit" not in r.text and "item 0" not in r.text
    words, _links = english_words(r.text)
    assert not words, words


def test_the_api_answers_in_english_unless_asked_for_chinese(world: World) -> None:
    body = {
        "department": "nowhere",
        "findings": "late",
        "due_at": "2026-11-20T18:00:00+08:00",
        "related": [{"workflow": "visit", "id": 999}],
    }
    english = world.post("/api/v1/rectification-notices", "sara", body).get_json()
    assert english["message"] == "invalid rectification notice fields"
    assert english["errors"] == {
        "department": ["no department nowhere"],
        "related": ["item 0: no visit 999"],
    }
    headers = {**world.auth("sara"), "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
    r = world.client.post("/api/v1/rectification-notices", json=body, headers=headers)
    chinese = r.get_json()
    assert r.status_code == 422
    assert chinese["message"] == "整改通知的填写有误"
    assert chinese["errors"] == {
        "department": ["部门“nowhere”不存在"],
        "related": ["走访 #999 不存在或您无权查看"],
    }


def test_a_missing_customer_is_named_in_chinese_on_the_issue_form(world: World) -> None:
    mary = Browser(world, "mary")
    mary.get("/issues/new")
    r = mary.post(
        "/issues/new",
        {
            "customer_id": "999",
            "title": "交付",
            "description": "慢",
            "category": "commercial",
            "severity": "high",
        },
    )
    assert r.status_code == 422
    assert "客户 #999 不存在" in r.text and "no customer" not in r.text


def test_people_are_named_as_readers_know_them(world: World, made: dict[str, Any]) -> None:
    from service.store.db import db
    from service.store.models import RectificationNotice

    with world.app.app_context():
        generated = db.session.execute(
            sa.select(RectificationNotice.id).where(RectificationNotice.origin.is_not(None))
        ).scalar()
    sara = Browser(world, "sara")
    page = sara.get(f"/notices/{generated}").text
    assert re.search(r'id="notice-created-by">系统<', page)
    page = sara.get(f"/issues/{made['issue']['id']}").text
    assert (
        '<dd id="issue-raised-by">王丽</dd>' in page
    )  # who raised it: mary's name, not her username
    assert (
        Browser(world, "sara", lang="en")
        .get(f"/notices/{generated}")
        .text.count('id="notice-created-by">System<')
    )


def test_a_generated_notice_reads_in_the_readers_language(
    world: World, made: dict[str, Any]
) -> None:
    from service.store.db import db
    from service.store.models import RectificationNotice

    with world.app.app_context():
        generated = db.session.execute(
            sa.select(RectificationNotice.id, RectificationNotice.findings_message).where(
                RectificationNotice.origin.like("overdue:%")
            )
        ).first()
    assert generated is not None and generated.findings_message["key"]
    zh = Browser(world, "tom").get(f"/notices/{generated.id}").text
    assert "跟踪台账问题逾期未解决" in zh and "Overdue ledger issue" not in zh
    en = Browser(world, "tom", lang="en").get(f"/notices/{generated.id}").text
    assert "Overdue ledger issue" in en and "跟踪台账问题逾期未解决" not in en
    api = world.get(f"/api/v1/rectification-notices/{generated.id}", "tom").get_json()
    assert api["findings"].startswith("Overdue ledger issue")
    headers = {**world.auth("tom"), "Accept-Language": "zh"}
    r = world.client.get(f"/api/v1/rectification-notices/{generated.id}", headers=headers)
    assert r.get_json()["findings"].startswith("跟踪台账问题逾期未解决")


def test_a_use_cases_refusal_is_told_in_chinese_on_the_error_page(world: World) -> None:
    tom = Browser(world, "tom")
    tom.get("/issues/new")
    form = {
        "customer_id": str(world.customers["Acme"]),
        "title": "交付",
        "description": "慢",
        "category": "commercial",
        "severity": "high",
    }
    r = tom.post("/issues/new", form)
    assert r.status_code == 403
    assert "技术和售后人员只能从自己参加的走访中登记问题" in r.text
    assert "technical and after-sales" not in r.text
    r = Browser(world, "tom", lang="en").post("/issues/new", form)
    assert "technical and after-sales staff raise issues from a visit they made" in r.text


def test_the_api_lists_findings_in_the_callers_language(world: World, made: dict[str, Any]) -> None:
    r = world.get("/api/v1/supervision/findings", "sara", query_string={"kind": "plan_execution"})
    details = [f["detail"] for f in r.get_json()["items"]]
    assert details and all("visits done by" in d for d in details), details
    headers = {**world.auth("sara"), "Accept-Language": "zh-CN"}
    r = world.client.get("/api/v1/supervision/findings?kind=plan_execution", headers=headers)
    details = [f["detail"] for f in r.get_json()["items"]]
    assert details and all("已完成走访" in d and "visits" not in d for d in details), details


def test_a_too_long_field_is_told_in_chinese(world: World) -> None:
    mary = Browser(world, "mary")
    mary.get("/issues/new")
    form = {
        "customer_id": str(world.customers["Acme"]),
        "title": "长" * 201,
        "description": "慢",
        "category": "commercial",
        "severity": "high",
    }
    r = mary.post("/issues/new", form)
    assert r.status_code == 422
    assert "长度不能超过 200。" in r.text and "Longer than" not in r.text
