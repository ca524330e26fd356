"""VisitFlow's workflow engine: definitions as data, shared machines, business calendar."""

from __future__ import annotations

from workflows.access import Actor, ActorKind
from workflows.calendar import BusinessCalendar, Duration
from workflows.engine import Instance, InstanceLike, Outcome, Workflow
from workflows.errors import (
    DefinitionError,
    InvalidData,
    InvalidTransition,
    MigrationError,
    NotPermitted,
    Problem,
    UnknownTrigger,
    UnknownWorkflow,
    VersionConflict,
    WorkflowError,
)
from workflows.registry import MigrationPlan, Registry, plan_migration

__all__ = [
    "Actor",
    "ActorKind",
    "BusinessCalendar",
    "DefinitionError",
    "Duration",
    "Instance",
    "InstanceLike",
    "InvalidData",
    "InvalidTransition",
    "MigrationError",
    "MigrationPlan",
    "NotPermitted",
    "Outcome",
    "Problem",
    "Registry",
    "UnknownTrigger",
    "UnknownWorkflow",
    "VersionConflict",
    "Workflow",
    "WorkflowError",
    "plan_migration",
]
