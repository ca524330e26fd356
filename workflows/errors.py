"""One hierarchy of workflow errors, each carrying what a caller needs to explain it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class WorkflowError(Exception):
    """Base of every error the engine raises."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a definition file, located by file, line and key path."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path}: {self.message}"


class DefinitionError(WorkflowError):
    """A definition (or folder of them) is broken; every problem is listed at once."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UnknownWorkflow(WorkflowError):
    """No definition with that name (and version) is loaded."""


class UnknownTrigger(WorkflowError):
    """The trigger is not defined anywhere in the workflow."""

    def __init__(self, workflow: str, trigger: str) -> None:
        self.workflow = workflow
        self.trigger = trigger
        super().__init__(f"workflow '{workflow}' has no trigger '{trigger}'")


class VersionConflict(WorkflowError):
    """The caller saw an older version of the instance than the current one."""

    def __init__(self, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"instance is at version {actual}, not {expected}")


class InvalidTransition(WorkflowError):
    """The trigger exists but cannot fire from the instance's current state."""

    def __init__(
        self, instance_id: object, trigger: str, state: str, allowed: Sequence[str]
    ) -> None:
        self.instance_id = instance_id
        self.trigger = trigger
        self.state = state
        self.allowed = list(allowed)
        super().__init__(
            f"'{trigger}' cannot fire from state '{state}'"
            f" (allowed: {', '.join(self.allowed) or 'none'})"
        )


class NotPermitted(WorkflowError):
    """The actor's role, grants or participation does not allow the action."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidData(WorkflowError):
    """The submitted form data is invalid; `errors` maps each field to its messages."""

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors = {name: list(messages) for name, messages in errors.items()}
        fields = ", ".join(sorted(self.errors))
        super().__init__(f"invalid data: {fields}")


class MigrationError(WorkflowError):
    """A migration between two versions of a definition is not possible as declared."""
