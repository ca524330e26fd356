"""The demo's year so far: the visits each customer's quota asked for in the months already
past, reported, and two issues solved and confirmed, all lived through the engine at their
own past times. Two customers fell behind (the supervision checks find them); what that past
told people is marked read and its mail as sent: a fresh install's inboxes hold the present.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from functools import partial
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from service.core import context, runtime
from service.store import repository as repo
from service.store.db import db
from service.store.kinds import ISSUE, VISIT, Kind
from service.store.models import Notification, OutboxMessage
from service.usecases import handlers
from workflows import Actor
from workflows.quotas import due_months

BEHIND = {1: 3, 3: 2}  # a customer's place in the demo's list: the past visits it missed
RECORDS = [  # (customer's situation, what was discussed, what they raised)
    ("产线运行稳定，计划明年扩产。", "回顾合作情况，介绍新一代控制器。", "希望提供现场培训。"),
    ("订单量同比增长约 15%。", "交流备件供应与交付周期。", "备件到货偏慢。"),
    ("新厂区进入调试阶段。", "了解调试进度，协调技术支持。", "调试期间需要驻场工程师。"),
    ("年度预算已下达。", "沟通明年合作计划与价格。", "希望简化对账流程。"),
]


def _context(username: str, role: str, department: str) -> handlers.Context:
    return handlers.Context(Actor(username, role, department), "api", "demo")


MARY = _context("mary", "marketing_staff", "marketing")
MIKE = _context("mike", "marketing_manager", "marketing")
TOM = _context("tom", "technical", "technical")
AMY = _context("amy", "after_sales", "after_sales")


Step = tuple[datetime, Callable[[], None]]  # what happens, and when


def seed_history(customers: Sequence[tuple[int, str]], quotas: dict[str, int]) -> None:
    """Past visits per customer (id, tier) for the quota months ended before this month (by
    `workflows.quotas`, the rule every target counts by), less the ones `BEHIND` says it
    missed, and two issues from them; every step done in the order of its time, so ids,
    histories and notifications read in time order. Then quiet what that past notified.
    Runs on a database with nothing else in it yet."""
    today = runtime.now().astimezone(runtime.registry().calendar.tz).date()
    steps: list[Step] = []
    visits: list[tuple[date, dict[str, int]]] = []
    for place, (customer_id, tier) in enumerate(customers):
        months = [m for m in due_months(quotas.get(tier, 0)) if m < today.month]
        for n, month in enumerate(months[: len(months) - BEHIND.get(place, 0)]):
            day = _workday_on_or_after(date(today.year, month, 6 + 3 * place))
            at = time(10, 0) if place % 2 == 0 else time(14, 30)
            made, visit_steps = _reported_visit(customer_id, day, at, RECORDS[(n + place) % 4])
            visits.append((day, made))
            steps += visit_steps
    # the issues from the latest visits whose issue was settled well before today (raised,
    # assigned, due two weeks later, solved three days late at worst, then confirmed)
    settled = sorted((v for v in visits if v[0] <= today - timedelta(days=35)), key=itemgetter(0))
    if len(settled) >= 2:
        steps += _solved_issue(settled[-2], TOM, "technical", "现场培训安排", 5, on_time=True)
        steps += _solved_issue(settled[-1], AMY, "after_sales", "备件到货偏慢", 4, on_time=False)
    for moment, step in sorted(steps, key=itemgetter(0)):
        with clock_at(moment):
            step()
    _quiet_the_past()


def _workday_on_or_after(day: date) -> date:
    calendar = runtime.registry().calendar
    return day if calendar.is_workday(day) else calendar.next_workday(day)


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, runtime.registry().calendar.tz)


def _fire(kind: Kind, made: dict[str, int], trigger: str, who: handlers.Context, data: Any) -> None:
    data = data() if callable(data) else data  # a check-in needs the visit's customer
    handlers.fire(kind, made["id"], {"trigger": trigger, "data": data}, who)


def arrived(visit_id: int, at: datetime) -> dict[str, Any]:
    """The visit step's data: a check-in at the customer's first site, 40 m off, at `at`."""
    customer_id = db.session.execute(
        sa.select(VISIT.table.c.customer_id).where(VISIT.table.c.id == visit_id)
    ).scalar_one()
    _tier, sites = repo.customer_sites(customer_id)
    site = sites[0]
    check_in = {
        "latitude": site["latitude"] + 40 / 111_195,
        "longitude": site["longitude"],
        "accuracy": 18.0,
        "device_time": at.isoformat(),
    }
    return {"check_in": check_in, "visited_at": at.isoformat()}


def _create(kind: Kind, made: dict[str, int], body: Callable[[], dict[str, Any]]) -> None:
    made["id"] = int(handlers.create(kind, body(), MARY)["id"])


def _reported_visit(
    customer_id: int, day: date, at: time, texts: tuple[str, str, str]
) -> tuple[dict[str, int], list[Step]]:
    """A visit planned a week ahead, prepared the working day before, visited and recorded on
    its day, reported on the next working day: its id (once created) and its steps."""
    calendar = runtime.registry().calendar
    planned = _at(day, at)
    created = _at(calendar.previous_workday(day - timedelta(days=5)), time(9, 30))
    body = {
        "customer_id": customer_id,
        "planned_at": planned.isoformat(),
        "visitors": ["mary", "tom"],
        "topics": ["business_cooperation", "needs_research"],
        "place": "客户总部会议室",
        "purpose": "例行走访：了解合作满意度与新需求",
    }
    basics, content, raised = texts
    made: dict[str, int] = {}

    def lazy_arrival() -> dict[str, Any]:
        return arrived(made["id"], planned)

    steps: list[Step] = [(created, partial(_create, VISIT, made, lambda: body))]
    for moment, trigger, who, data in [
        (_at(calendar.previous_workday(day), time(15, 0)), "prepare", TOM, {
            "customer_background_reviewed": True, "time_place_confirmed": True,
            "materials": ["brochure"],
        }),
        (planned, "visit", TOM, lazy_arrival),  # checked in on arrival
        (_at(day, time(17, 0)), "record", TOM, {
            "visited_at": planned.isoformat(), "place": "客户总部会议室",
            "visitors": ["mary", "tom"], "customer_basics": basics, "visit_content": content,
            "customer_issues": raised,
        }),
        (_at(calendar.next_workday(day), time(11, 0)), "report", MARY, {
            "customer_basics": basics, "content_summary": content,
            "issues_and_suggestions": raised, "analysis_and_conclusions": "合作稳定，需求明确。",
            "improvement_measures": "按客户需求安排后续技术交流。", "distribution": ["management"],
        }),
    ]:  # fmt: skip
        steps.append((moment, partial(_fire, VISIT, made, trigger, who, data)))
    return made, steps


def _solved_issue(
    visit: tuple[date, dict[str, int]],
    who: handlers.Context,
    department: str,
    title: str,
    score: int,
    on_time: bool,
) -> list[Step]:
    """An issue raised from a reported visit (its day, its id once created), assigned the
    next day with two weeks to solve it, solved within them or three days after, and
    confirmed by the customer."""
    calendar = runtime.registry().calendar
    visited, of_visit = visit
    raised_on = calendar.next_workday(visited)
    assigned_on = calendar.next_workday(raised_on)
    due = assigned_on + timedelta(days=14)
    solved_on = _workday_on_or_after(due + timedelta(days=-4 if on_time else 3))
    made: dict[str, int] = {}

    def body() -> dict[str, Any]:
        return {
            "visit_id": of_visit["id"], "title": title, "description": f"客户反映：{title}。",
            "category": "technical" if department == "technical" else "after_sales",
            "severity": "medium",
        }  # fmt: skip

    steps: list[Step] = [(_at(raised_on, time(14, 0)), partial(_create, ISSUE, made, body))]
    for day, clock, trigger, actor, data in [
        (assigned_on, time(10, 0), "assign", MIKE, {
            "responsible_department": department, "responsible_person": who.actor.username,
            "due_at": due.isoformat(),
        }),
        (solved_on, time(16, 0), "resolve", who, {
            "root_cause": "现场资源不足。", "solution": "已安排专人跟进并完成处理。",
            "customer_informed": True,
        }),
        (calendar.next_workday(solved_on), time(10, 0), "confirm", MARY, {
            "satisfaction": score, "comment": "客户认可处理结果。",
        }),
    ]:  # fmt: skip
        steps.append((_at(day, clock), partial(_fire, ISSUE, made, trigger, actor, data)))
    return steps


def _quiet_the_past() -> None:
    """What the past notified (everything so far: the history is seeded first): read, and
    its mail and messages as handed on at their time."""
    n, o = Notification.__table__, OutboxMessage.__table__
    db.session.execute(sa.update(n).values(read=True))
    db.session.execute(
        sa.update(o)
        .where(o.c.sent_at.is_(None))
        .values(sent_at=o.c.created_at, delivered_at=o.c.created_at)
    )
    db.session.commit()


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """The app's clock at `moment` for what is done inside: the demo's past, lived in order."""
    clock = context.current().clock
    saved = clock.source
    clock.set(lambda: moment)
    try:
        yield
    finally:
        clock.set(saved)
