"""Shared fixtures for the engine tests: the repository's definitions, people, a clock, and a
`Flow` helper that creates instances and advances them with valid form data."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from workflows import Actor, Instance, Outcome, Registry, Workflow

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"

# A Monday that is an ordinary working day in 2026.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)

# -- people ----------------------------------------------------------------------------------
# The default visit has `mia` and `tina` as visitors; the default issue is assigned to the
# technical department with `tom` as responsible person; the default notice is addressed to
# the technical department.
MIA = Actor("mia", "marketing_staff", "marketing")  # a visitor
SAM = Actor("sam", "marketing_staff", "marketing")  # not a visitor
MAX = Actor("max", "marketing_manager", "marketing")  # not a visitor
TINA = Actor("tina", "technical", "technical")  # a visitor
TOM = Actor("tom", "technical", "technical")  # not a visitor; the issue's responsible person
AMY = Actor("amy", "after_sales", "after_sales")  # not a visitor
MEG = Actor("meg", "management", "management")
SUE = Actor("sue", "supervision", "management")
ADA = Actor("ada", "admin", "it")
SYSTEM = Actor.system()

ACTORS: dict[str, Actor] = {
    "marketing_staff": MIA,
    "marketing_staff_outsider": SAM,
    "marketing_manager": MAX,
    "technical_visitor": TINA,
    "technical": TOM,
    "after_sales": AMY,
    "management": MEG,
    "supervision": SUE,
    "admin": ADA,
    "system": SYSTEM,
}

# Who performs each step of the happy paths (workflow, trigger) -> actor.
DEFAULT_ACTOR: dict[tuple[str, str], Actor] = {
    ("visit", "create"): MIA,
    ("visit", "prepare"): TINA,
    ("visit", "visit"): TINA,
    ("visit", "record"): TINA,
    ("visit", "rework"): MAX,
    ("visit", "report"): MIA,
    ("visit", "cancel"): MIA,
    ("visit", "reschedule"): MIA,
    ("issue", "create"): MIA,
    ("issue", "assign"): MIA,
    ("issue", "resolve"): TOM,
    ("issue", "confirm"): MIA,
    ("issue", "reopen"): MIA,
    ("issue", "answer_on_the_spot"): MIA,
    ("rectification", "create"): SUE,
    ("rectification", "acknowledge"): TOM,
    ("rectification", "rectify"): TOM,
    ("rectification", "verify"): SUE,
    ("rectification", "return"): SUE,
}

# The triggers that take a fresh instance to each state.
PATHS: dict[str, dict[str, tuple[str, ...]]] = {
    "visit": {
        "planned": (),
        "prepared": ("prepare",),
        "visited": ("prepare", "visit"),
        "recorded": ("prepare", "visit", "record"),
        "reported": ("prepare", "visit", "record", "report"),
        "cancelled": ("cancel",),
    },
    "issue": {
        "raised": (),
        "assigned": ("assign",),
        "resolved": ("assign", "resolve"),
        "customer_confirmed": ("assign", "resolve", "confirm"),
    },
    "rectification": {
        "issued": (),
        "acknowledged": ("acknowledge",),
        "rectified": ("acknowledge", "rectify"),
        "verified": ("acknowledge", "rectify", "verify"),
    },
}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def valid_data(workflow: str, trigger: str, now: datetime) -> dict[str, Any]:
    """JSON-like form data that passes validation and guards when fired at `now`."""
    later = now + timedelta(days=3)
    due_date = (now + timedelta(days=10)).date().isoformat()
    forms: dict[tuple[str, str], dict[str, Any]] = {
        ("visit", "create"): {
            "customer_id": 7,
            "planned_at": iso(later),
            "visitors": ["mia", "tina"],
            "topics": ["customer_basics", "needs_research"],
            "place": "Customer HQ, Shanghai",
            "purpose": "Review the year's cooperation.",
        },
        ("visit", "prepare"): {
            "customer_background_reviewed": True,
            "needs_and_history_reviewed": True,
            "materials": ["brochure", "product_manual"],
            "tools": ["notebook"],
            "time_place_confirmed": True,
            "contact_person": "Mr Li",
            "notes": "Bring the new catalogue.",
        },
        ("visit", "visit"): {"visited_at": iso(now), "site_tour_or_demo": True},
        ("visit", "record"): {
            "visited_at": iso(now),
            "place": "Customer HQ, Shanghai",
            "visitors": ["mia", "tina"],
            "customer_basics": "A core customer in the automotive industry.",
            "visit_content": "Discussed the delivery schedule and next year's volume.",
            "customer_issues": "Late deliveries in Q1.",
            "customer_suggestions": "A monthly status call.",
        },
        ("visit", "rework"): {"reason": "The customer's issues are missing."},
        ("visit", "report"): {
            "customer_basics": "A core customer in the automotive industry.",
            "content_summary": "Delivery schedule and volume.",
            "issues_and_suggestions": "Late deliveries; monthly status call.",
            "analysis_and_conclusions": "Satisfied overall; logistics needs work.",
            "improvement_measures": "Weekly logistics review.",
            "distribution": ["management", "technical"],
            "feedback_meeting_at": iso(later),
        },
        ("visit", "cancel"): {"reason": "The customer asked to postpone indefinitely."},
        ("visit", "reschedule"): {
            "planned_at": iso(now + timedelta(days=7)),
            "reason": "The customer's manager is travelling.",
        },
        ("issue", "create"): {
            "visit_id": 3,
            "customer_id": 7,
            "title": "Late deliveries",
            "description": "Three deliveries in Q1 arrived a week late.",
            "category": "after_sales",
            "severity": "high",
        },
        ("issue", "assign"): {
            "responsible_department": "technical",
            "responsible_person": "tom",
            "due_at": due_date,
            "plan": "Review the logistics provider.",
        },
        ("issue", "resolve"): {
            "root_cause": "The carrier changed its routes.",
            "solution": "A second carrier was contracted.",
            "customer_informed": True,
        },
        ("issue", "confirm"): {"satisfaction": 4, "comment": "Fine now.", "confirmed_with": "Li"},
        ("issue", "reopen"): {"reason": "Still late in April.", "satisfaction": 2},
        ("issue", "answer_on_the_spot"): {"answer": "The delay was a one-off customs hold."},
        ("rectification", "create"): {
            "department": "technical",
            "findings": "Two visit records were submitted late.",
            "due_at": iso(now + timedelta(days=14)),
        },
        ("rectification", "acknowledge"): {
            "plan": "Remind visitors weekly.",
            "responsible_person": "tom",
        },
        ("rectification", "rectify"): {"report": "Weekly reminders are in place."},
        ("rectification", "verify"): {"opinion": "Done."},
        ("rectification", "return"): {"reason": "No evidence of the reminders."},
    }
    return dict(forms[(workflow, trigger)])


def apply(instance: Instance, outcome: Outcome) -> Instance:
    """What the service does with an outcome: a new instance with its state, version, attrs."""
    return Instance(
        instance.id, outcome.state, outcome.version, {**instance.attrs, **outcome.attributes}
    )


class Flow:
    """Creates and advances instances with valid data and the usual actors."""

    def __init__(self, registry: Registry, now: datetime) -> None:
        self.registry = registry
        self.now = now
        self._ids = itertools.count(1)
        self._workflow_of: dict[Any, str] = {}

    apply = staticmethod(apply)

    def workflow(self, name: str) -> Workflow:
        return self.registry.get(name)

    def actor_for(self, workflow: str, trigger: str) -> Actor:
        """Who performs `trigger` on the happy path."""
        return DEFAULT_ACTOR[(workflow, trigger)]

    def data(self, workflow: str, trigger: str, **changes: Any) -> dict[str, Any]:
        """Valid data for `trigger`, with `changes` applied (a value of `...` drops a field)."""
        data = valid_data(workflow, trigger, self.now)
        for name, value in changes.items():
            if value is ...:
                data.pop(name, None)
            else:
                data[name] = value
        return data

    def create(
        self,
        workflow: str,
        actor: Actor | None = None,
        data: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> Instance:
        wf = self.workflow(workflow)
        outcome = wf.create(
            actor or DEFAULT_ACTOR[(workflow, "create")],
            self.data(workflow, "create") if data is None else data,
            now or self.now,
        )
        instance = Instance(next(self._ids), outcome.state, outcome.version, outcome.attributes)
        self._workflow_of[instance.id] = workflow
        return instance

    def fire(
        self,
        instance: Instance,
        trigger: str,
        actor: Actor | None = None,
        data: Mapping[str, Any] | None = None,
        now: datetime | None = None,
        workflow: str | None = None,
    ) -> Outcome:
        name = workflow or self._name_of(instance)
        return self.workflow(name).fire(
            instance,
            trigger,
            actor or DEFAULT_ACTOR[(name, trigger)],
            self.data(name, trigger) if data is None else data,
            now or self.now,
        )

    def advance(
        self,
        instance: Instance,
        trigger: str,
        actor: Actor | None = None,
        data: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> Instance:
        return apply(instance, self.fire(instance, trigger, actor, data, now))

    def at(self, workflow: str, state: str, **create_changes: Any) -> Instance:
        """A fresh instance driven along the happy path to `state`."""
        data = self.data(workflow, "create", **create_changes)
        instance = self.create(workflow, data=data)
        for trigger in PATHS[workflow][state]:
            instance = self.advance(instance, trigger)
        assert instance.state == state
        return instance

    def _name_of(self, instance: Instance) -> str:
        if instance.id in self._workflow_of:
            return self._workflow_of[instance.id]
        raise LookupError(f"instance {instance.id!r} was not made by this Flow: name its workflow")


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.from_dir(DEFINITIONS)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def flow(registry: Registry, now: datetime) -> Flow:
    return Flow(registry, now)


@pytest.fixture
def actors() -> dict[str, Actor]:
    """Every test actor by a descriptive key (see ACTORS)."""
    return ACTORS


@pytest.fixture
def visit_wf(registry: Registry) -> Workflow:
    return registry.get("visit")


@pytest.fixture
def issue_wf(registry: Registry) -> Workflow:
    return registry.get("issue")


@pytest.fixture
def rectification_wf(registry: Registry) -> Workflow:
    return registry.get("rectification")


@pytest.fixture
def marketing_staff() -> Actor:
    return MIA


@pytest.fixture
def marketing_staff_outsider() -> Actor:
    return SAM


@pytest.fixture
def marketing_manager() -> Actor:
    return MAX


@pytest.fixture
def technical_visitor() -> Actor:
    return TINA


@pytest.fixture
def technical() -> Actor:
    return TOM


@pytest.fixture
def after_sales() -> Actor:
    return AMY


@pytest.fixture
def management() -> Actor:
    return MEG


@pytest.fixture
def supervision() -> Actor:
    return SUE


@pytest.fixture
def admin() -> Actor:
    return ADA


@pytest.fixture
def system() -> Actor:
    return SYSTEM
