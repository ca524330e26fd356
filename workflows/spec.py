"""Frozen, validated workflow definitions: the spec, apart from any instance."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from workflows.durations import Duration

ROLES: frozenset[str] = frozenset(
    {
        "marketing_staff",
        "marketing_manager",
        "technical",
        "after_sales",
        "management",
        "supervision",
        "integration",
        "admin",
    }
)


class FieldType(StrEnum):
    """The types a form field may declare."""

    STRING = "string"
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    USER = "user"
    USERS = "users"
    DEPARTMENT = "department"
    RATING = "rating"
    GEO = "geo"  # a check-in: {latitude, longitude, accuracy, device_time}


class TimeBound(StrEnum):
    """What a date or datetime field may not pass (`not_after: now`, `not_before: now`)."""

    NOW = "now"  # the caller's clock; for a date, today in the business time zone


@dataclass(frozen=True, slots=True)
class Label:
    """A text in Simplified Chinese and in English."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang.startswith("en") else self.zh


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: Label


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a form: what a transition (or the creation) asks for."""

    name: str
    type: FieldType
    label: Label
    required: bool = False
    help: Label | None = None
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    sets: str | None = None  # the instance attribute this field's value is copied onto
    accepts_date: bool = False  # a datetime that may be given as a bare date (a due date)
    not_before: TimeBound | None = None  # a planned time: not in the past
    not_after: TimeBound | None = None  # an actual time: not in the future
    backdate_roles: frozenset[str] = frozenset()  # roles whose past value passes, marked back-dated
    # who a user/users field may name: people of these roles, of these departments (empty: any)
    roles: frozenset[str] = frozenset()
    departments: tuple[str, ...] = ()
    # a geo field: the datetime field of the same form that takes the server's clock when a
    # check-in is given (the actual visit time is then the check-in's, never typed)
    stamps: str | None = None

    def eligible(self, role: str, department: str | None) -> bool:
        """Whether a person of `role` in `department` may be named in this field."""
        if self.roles and role not in self.roles:
            return False
        return not self.departments or department in self.departments

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.choices)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a notification goes to, as the definition names them.

    `kind` is one of visitors, raiser, responsible_person, department_manager,
    department, role, field; `ref` is an attribute name or a literal code (department,
    department_manager), a role, or the user/users attribute naming the people (field).
    """

    kind: str
    ref: str | None = None

    def __str__(self) -> str:
        return self.kind if self.ref is None else f"{self.kind}:{self.ref}"


@dataclass(frozen=True, slots=True)
class RectificationPolicy:
    department: str  # attribute name holding a department code, or "dept:CODE"
    findings: Label


@dataclass(frozen=True, slots=True)
class ExpirySpec:
    mark_overdue: bool = True
    notify: tuple[Recipient, ...] = ()
    rectification: RectificationPolicy | None = None
    escalate_to: tuple[Recipient, ...] = ()


@dataclass(frozen=True, slots=True)
class DeadlineSpec:
    """The deadline that runs while an instance is in a state."""

    kind: str
    label: Label
    after: Duration | None = None  # counted from entering the state
    at_field: str | None = None  # or a date/datetime attribute of the instance
    offset: Duration | None = None  # added to at_field
    remind_before: Duration | None = None
    on_expiry: ExpirySpec = field(default_factory=ExpirySpec)


@dataclass(frozen=True, slots=True)
class StateSpec:
    name: str
    label: Label
    final: bool = False
    deadline: DeadlineSpec | None = None


@dataclass(frozen=True, slots=True)
class TransitionSpec:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    label: Label
    roles: frozenset[str]
    participation: tuple[str, ...] = ()
    exempt_roles: frozenset[str] = frozenset()
    guards: tuple[str, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    notify: tuple[Recipient, ...] = ()  # who is told when it fires (never the actor)
    internal: bool = False  # stays in its state: the state's deadline runs on, unrestarted


@dataclass(frozen=True, slots=True)
class CreateSpec:
    roles: frozenset[str]
    fields: tuple[FieldSpec, ...] = ()
    notify: tuple[Recipient, ...] = ()  # who is told of a new instance (never its creator)


@dataclass(frozen=True, slots=True)
class MigrationSpec:
    """How instances of an earlier version map onto this one."""

    from_version: int
    states: dict[str, str]


@dataclass(frozen=True)
class Definition:
    """One version of one workflow, loaded once and never changed."""

    name: str
    version: int
    label: Label
    initial: str
    states: dict[str, StateSpec]
    transitions: tuple[TransitionSpec, ...]
    create: CreateSpec
    source: str = "<memory>"
    description: Label | None = None
    migrations: tuple[MigrationSpec, ...] = ()
    # named sets of states the service counts by, e.g. took_place: visited, recorded, reported
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.version)

    @property
    def triggers(self) -> tuple[str, ...]:
        """Every trigger name, in the order first declared."""
        return tuple(dict.fromkeys(t.trigger for t in self.transitions))

    def transitions_from(self, state: str) -> tuple[TransitionSpec, ...]:
        return tuple(t for t in self.transitions if state in t.sources)

    def transition(self, trigger: str, state: str) -> TransitionSpec | None:
        for t in self.transitions:
            if t.trigger == trigger and state in t.sources:
                return t
        return None

    def group(self, name: str) -> tuple[str, ...]:
        """The states of the group `name` (the definition's `groups:`), in declared order."""
        try:
            return self.groups[name]
        except KeyError:
            raise KeyError(
                f"{self.name} version {self.version} declares no state group {name!r}"
            ) from None

    def transitions_named(self, trigger: str) -> tuple[TransitionSpec, ...]:
        return tuple(t for t in self.transitions if t.trigger == trigger)
