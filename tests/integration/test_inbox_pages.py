"""The inbox against its plain definition, over every page: every actionable instance the
caller may see, soonest running deadline first, then the rest by workflow and id.

Random instances of every workflow in every state, with running deadlines (open or fired,
sometimes two in the current state), closed ones and ones of another state; each user, each
page size, every page."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from service.core import runtime
from service.store import visibility
from service.store.db import db
from service.store.kinds import KINDS
from service.store.models import Deadline, Issue, RectificationNotice, User, Visit, VisitVisitor
from service.usecases import inbox
from service.usecases.accounts import actor_for_user
from tests.integration.conftest import World

BASE = datetime(2026, 11, 10, tzinfo=UTC)
PEOPLE = ["mary", "mike", "tom", "ted", "amy"]


def _states(workflow: str) -> list[str]:
    return list(runtime.registry().get(workflow).definition.states)


def _populate(world: World, seed: int, two_running: bool) -> None:
    rnd = random.Random(seed)
    acme = world.customers["Acme"]
    made: list[tuple[str, int, str]] = []
    with world.app.app_context():
        for _ in range(40):
            visitors = rnd.sample(PEOPLE, rnd.randint(1, 3))
            visit = Visit(
                definition_version=1,
                state=rnd.choice(_states("visit")),
                data={},
                created_by="mary",
                customer_id=acme,
                planned_at=BASE + timedelta(days=rnd.randint(1, 30)),
                visitors=visitors,
                topics=[],
            )
            db.session.add(visit)
            db.session.flush()
            db.session.add_all(VisitVisitor(visit_id=visit.id, username=u) for u in visitors)
            made.append(("visit", visit.id, visit.state))
        for _ in range(40):
            issue = Issue(
                definition_version=1,
                state=rnd.choice(_states("issue")),
                data={},
                created_by=rnd.choice(PEOPLE),
                customer_id=acme,
                title="t",
                description="d",
                category="quality",
                severity="minor",
                responsible_department=rnd.choice(["technical", "after_sales", "marketing", None]),
                responsible_person=rnd.choice([*PEOPLE, None]),
            )
            db.session.add(issue)
            db.session.flush()
            made.append(("issue", issue.id, issue.state))
        for state in _states("rectification"):
            for _ in range(5):
                notice = RectificationNotice(
                    definition_version=1,
                    state=state,
                    data={},
                    created_by="sara",
                    department=rnd.choice(["technical", "marketing", "after_sales"]),
                    findings="f",
                    due_at=BASE + timedelta(days=rnd.randint(1, 30)),
                    related=[],
                )
                db.session.add(notice)
                db.session.flush()
                made.append(("rectification", notice.id, state))
        for workflow, instance_id, state in made:
            for _ in range(rnd.choice([0, 1, 1, 2] if two_running else [0, 1, 1])):
                db.session.add(_deadline(rnd, workflow, instance_id, state, ["open", "fired"]))
            for _ in range(rnd.randint(0, 2)):  # closed ones, and ones of another state
                other = rnd.choice(_states(workflow))
                statuses = ["open", "closed"] if two_running or other != state else ["closed"]
                db.session.add(_deadline(rnd, workflow, instance_id, other, statuses))
        db.session.commit()


def _deadline(
    rnd: random.Random, workflow: str, instance_id: int, state: str, statuses: list[str]
) -> Deadline:
    return Deadline(
        workflow=workflow,
        instance_id=instance_id,
        kind="k",
        state=state,
        version=1,
        due_at=BASE + timedelta(hours=rnd.randint(0, 2000)),
        status=rnd.choice(statuses),
    )


def _by_definition(actor: Any) -> list[tuple[str, int]]:
    dl = Deadline.__table__
    conn = db.session.connection()
    rows = []
    for kind in KINDS.values():
        t = kind.table
        per_state = inbox.actionable_states(kind, runtime.registry().get(kind.workflow), actor)
        if not per_state:
            continue
        vis = visibility.clause(kind, actor)
        where = [sa.or_(*(c for _, c in per_state)), *([] if vis is None else [vis])]
        soonest = (
            sa.select(sa.func.min(dl.c.due_at))
            .where(
                dl.c.workflow == kind.workflow,
                dl.c.instance_id == t.c.id,
                dl.c.state == t.c.state,
                dl.c.status.in_(("open", "fired")),
            )
            .scalar_subquery()
        )
        for instance_id, due in conn.execute(sa.select(t.c.id, soonest).where(*where)):
            if isinstance(due, str):  # SQLite's text, unprocessed in a scalar subquery
                due = datetime.fromisoformat(due)
            if due is not None and due.tzinfo is None:
                due = due.replace(tzinfo=UTC)
            rows.append((due is None, due or BASE, kind.workflow, instance_id))
    rows.sort()
    return [(workflow, instance_id) for _, _, workflow, instance_id in rows]


@pytest.mark.parametrize("two_running", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_page_is_the_definitions(world: World, seed: int, two_running: bool) -> None:
    _populate(world, seed, two_running)
    for user in ("mary", "mike", "tom", "ted", "amy", "boss", "sara"):
        with world.app.test_request_context():
            row = db.session.execute(sa.select(User).where(User.username == user)).scalar_one()
            expected = _by_definition(actor_for_user(row))
        assert expected or user == "boss"
        for per_page in (1, 3, 7, 50):
            got: list[tuple[str, int]] = []
            page = 1
            while True:
                r = world.get(f"/api/v1/inbox?page={page}&per_page={per_page}", user)
                assert r.status_code == 200, r.get_json()
                body = r.get_json()
                assert body["total"] == len(expected), (user, per_page)
                if not body["items"]:
                    break
                got += [(item["workflow"], item["id"]) for item in body["items"]]
                page += 1
            assert got == expected, (user, per_page)
