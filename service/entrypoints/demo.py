"""Demo data: departments, a user of every role, key customers, the year so far
(service/entrypoints/demo_history.py) and the present: visits and issues in several
states, a notice."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app

from service.core import runtime
from service.entrypoints.demo_history import arrived, clock_at, seed_history
from service.store.db import db
from service.store.kinds import ISSUE, RECTIFICATION, VISIT
from service.store.models import Customer, User
from service.usecases import handlers
from service.usecases.accounts import create_user, ensure_department
from workflows import Actor

DEPARTMENTS = {
    "marketing": "营销部 Marketing",
    "technical": "技术部 Technical",
    "after_sales": "售后服务部 After-sales",
    "management": "公司管理层 Management",
    "supervision": "走访监督小组 Supervision group",
    "it": "信息技术部 IT",
}
USERS = [
    ("mary", "marketing_staff", "marketing", "王丽 Mary Wang"),
    ("mike", "marketing_manager", "marketing", "李明 Mike Li"),
    ("tom", "technical", "technical", "张涛 Tom Zhang"),
    ("amy", "after_sales", "after_sales", "陈静 Amy Chen"),
    ("boss", "management", "management", "刘总 Director Liu"),
    ("sara", "supervision", "supervision", "赵敏 Sara Zhao"),
    ("crm", "integration", "it", "CRM integration"),
    ("admin", "admin", "it", "Administrator"),
]
CUSTOMERS = [
    ("华东精密制造有限公司", "core", ["major_revenue"], "制造业", "华东"),
    ("北方能源集团", "core", ["major_revenue", "industry_reputation"], "能源", "华北"),
    ("南方医疗科技", "important", ["industry_reputation"], "医疗健康", "华南"),
    ("西部物流股份", "important", ["long_term_partner"], "物流", "西南"),
    ("中原食品有限公司", "general", ["long_term_partner"], "食品", "华中"),
]
# each customer's headquarters, where its visits check in: city, latitude, longitude
HEADQUARTERS = {
    "华东": ("上海市浦东新区", 31.2304, 121.4737),
    "华北": ("北京市朝阳区", 39.9042, 116.4074),
    "华南": ("广州市天河区", 23.1291, 113.2644),
    "西南": ("成都市高新区", 30.5728, 104.0668),
    "华中": ("郑州市金水区", 34.7466, 113.6254),
}


def is_empty() -> bool:
    return db.session.execute(sa.select(sa.func.count()).select_from(User)).scalar() == 0


def seed(password: str = "visitflow") -> list[tuple[str, str, str]]:
    """Fill an empty database; return (username, role, password) of the demo users."""
    for code, name in DEPARTMENTS.items():
        ensure_department(code, name)
    db.session.commit()
    for username, role, dept, display in USERS:
        create_user(username, role, dept, password, display)
    for code, manager in (
        ("marketing", "mike"),
        ("technical", "tom"),
        ("after_sales", "amy"),
        ("management", "boss"),
        ("supervision", "sara"),
    ):
        department = ensure_department(code)
        department.manager = manager
    customers = [
        Customer(
            name=n,
            tier=t,
            criteria=c,
            industry=i,
            region=r,
            contacts=[{"name": "联系人", "title": "采购经理"}],
            sites=[_headquarters(n, r)],
        )
        for n, t, c, i, r in CUSTOMERS
    ]
    db.session.add_all(customers)
    db.session.commit()
    seed_history([(c.id, c.tier) for c in customers], current_app.config["POLICY"]["visit_quotas"])
    _seed_workflows([c.id for c in customers])
    return [(u, r, password) for u, r, _, _ in USERS]


def _headquarters(name: str, region: str) -> dict[str, Any]:
    address, latitude, longitude = HEADQUARTERS[region]
    return {
        "id": f"hq-{region}",
        "name": f"{name}总部",
        "address": address,
        "latitude": latitude,
        "longitude": longitude,
        "radius_m": 300,
    }


WORKING_HOURS = (time(9, 0), time(17, 30))  # Asia/Shanghai (the business calendar's zone)


def _working_slot(day: date, clock: time) -> datetime:
    """`clock` on `day`, or on the next working day if `day` is not one (business time)."""
    calendar = runtime.registry().calendar
    if not calendar.is_workday(day):
        day = calendar.next_workday(day)
    return datetime.combine(day, clock, calendar.tz)


MARY = handlers.Context(Actor("mary", "marketing_staff", "marketing"), "api", "demo")
MIKE = handlers.Context(Actor("mike", "marketing_manager", "marketing"), "api", "demo")
TOM = handlers.Context(Actor("tom", "technical", "technical"), "api", "demo")
SARA = handlers.Context(Actor("sara", "supervision", "supervision"), "api", "demo")
PREPARED = {
    "customer_background_reviewed": True,
    "time_place_confirmed": True,
    "materials": ["brochure", "product_manual"],
}


def _seed_workflows(customer_ids: list[int]) -> None:
    """The present: a visit done and recorded on the last working day, the others planned on
    the coming working days (one prepared), two issues (one assigned) and a notice."""
    now = runtime.now().replace(microsecond=0)
    calendar = runtime.registry().calendar
    today = now.astimezone(calendar.tz).date()
    # the first visit took place on the last working day (planned two working days before
    # that), the others are planned on the coming working days, mornings and afternoons
    visit_day = calendar.previous_workday(today)
    planned_on = calendar.previous_workday(calendar.previous_workday(visit_day))
    slots = [(datetime.combine(visit_day, time(10, 0), calendar.tz), planned_on)]
    day = today
    for i in range(1, len(customer_ids)):
        day = calendar.next_workday(day)
        slots.append((_working_slot(day, time(14, 30) if i % 2 else time(10, 0)), today))
    visits = _plan_visits(customer_ids, slots, now)
    first = visits[0]["id"]
    _walk_first_visit(first, planned_on, visit_day, slots[0][0], now)
    handlers.fire(VISIT, visits[1]["id"], {"trigger": "prepare", "data": PREPARED}, MARY)
    _raise_issues(first, customer_ids[2], today)
    handlers.create(
        RECTIFICATION,
        {
            "department": "marketing",
            "findings": "两次走访记录未在规定时间内提交。",
            "due_at": _working_slot(today + timedelta(days=7), time(17, 30)).isoformat(),
            "related": [{"workflow": "visit", "id": first}],
        },
        SARA,
    )


def _plan_visits(
    customer_ids: list[int], slots: list[tuple[datetime, date]], now: datetime
) -> list[dict[str, Any]]:
    """One visit per customer at its slot, each planned at 09:30 of its day of planning."""
    tz = runtime.registry().calendar.tz
    visits = []
    for i, (customer_id, (planned, created_on)) in enumerate(zip(customer_ids, slots, strict=True)):
        with clock_at(min(now, datetime.combine(created_on, time(9, 30), tz))):
            visits.append(
                handlers.create(
                    VISIT,
                    {
                        "customer_id": customer_id,
                        "planned_at": planned.isoformat(),
                        "visitors": ["mary", "tom"] if i % 2 == 0 else ["mary", "amy"],
                        "topics": ["business_cooperation", "needs_research"],
                        "place": "客户总部会议室",
                        "purpose": "年度走访：了解合作满意度与新需求",
                    },
                    MARY,
                )
            )
    return visits


def _walk_first_visit(
    visit_id: int, planned_on: date, visit_day: date, visited_at: datetime, now: datetime
) -> None:
    """Prepared, visited at its planned time (never after now, checked in at the customer's
    headquarters) and recorded, by tom."""
    tz = runtime.registry().calendar.tz
    record = {
        "visited_at": visited_at.isoformat(),
        "place": "客户总部会议室",
        "visitors": ["mary", "tom"],
        "customer_basics": "年产值增长 20%，计划扩建二期产线。",
        "visit_content": "交流了设备稳定性与交付周期。",
        "customer_issues": "二期产线需要更短的交付周期。",
    }
    steps = [
        (planned_on, time(15, 0), "prepare", PREPARED),
        (visit_day, visited_at.astimezone(tz).time(), "visit", arrived(visit_id, visited_at)),
        (visit_day, time(16, 30), "record", record),
    ]
    for day_of, at, trigger, data in steps:
        with clock_at(min(now, datetime.combine(day_of, at, tz))):
            handlers.fire(VISIT, visit_id, {"trigger": trigger, "data": data}, TOM)


def _raise_issues(visit_id: int, other_customer: int, today: date) -> None:
    """An issue the visit raised, assigned to tom; another of a customer, not yet assigned."""
    issue = handlers.create(
        ISSUE,
        {
            "visit_id": visit_id,
            "title": "二期产线交付周期",
            "description": "客户希望交付周期缩短到 8 周。",
            "category": "commercial",
            "severity": "high",
        },
        MARY,
    )
    handlers.create(
        ISSUE,
        {
            "customer_id": other_customer,
            "title": "售后响应慢",
            "description": "报修后 48 小时才到场。",
            "category": "after_sales",
            "severity": "medium",
        },
        MARY,
    )
    due = _working_slot(today + timedelta(days=14), time(17, 30)).date().isoformat()
    assignment = {"responsible_department": "technical", "responsible_person": "tom", "due_at": due}
    handlers.fire(ISSUE, issue["id"], {"trigger": "assign", "data": assignment}, MIKE)


@click.command("seed")
@click.option("--password", default="visitflow", show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing if there are users already.")
def seed_command(password: str, if_empty: bool) -> None:
    """Load demo data and print the demo users."""
    if if_empty and not is_empty():
        click.echo("database has data: demo data not loaded")
        return
    if not is_empty():
        raise click.ClickException("the database has users already: demo data is for an empty one")
    for username, role, pw in seed(password):
        click.echo(f"  {username:<8} {role:<18} password: {pw}")
