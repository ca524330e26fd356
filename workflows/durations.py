"""Durations of a definition's deadlines: working days, wall-clock hours or calendar days."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class DurationUnit(StrEnum):
    """The unit of a `Duration`: working days, wall-clock hours or calendar days."""

    WORKING_DAYS = "working_days"
    HOURS = "hours"
    DAYS = "days"


_UNIT_NAMES = ", ".join(unit.value for unit in DurationUnit)


@dataclass(frozen=True, slots=True)
class Duration:
    """An amount of time in one unit; a negative amount is an offset backwards."""

    amount: int
    unit: DurationUnit

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise ValueError(f"duration amount must be an integer, got {self.amount!r}")
        if not isinstance(self.unit, DurationUnit):
            raise ValueError(f"duration unit must be a DurationUnit, got {self.unit!r}")

    @classmethod
    def parse(cls, spec: Mapping[str, object]) -> Duration:
        """Parse a definition's spec such as ``{"working_days": 2}`` or ``{"hours": -4}``."""
        if not isinstance(spec, Mapping):
            raise ValueError(
                f"a duration must be a mapping such as {{working_days: 2}}, got {spec!r}"
            )
        if len(spec) != 1:
            raise ValueError(
                f"a duration must have exactly one of {_UNIT_NAMES}, got {dict(spec)!r}"
            )
        ((key, amount),) = spec.items()
        try:
            unit = DurationUnit(key)
        except ValueError:
            raise ValueError(
                f"unknown duration unit {key!r}: expected one of {_UNIT_NAMES}"
            ) from None
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ValueError(
                f"duration {key} must be an integer, got {amount!r} ({type(amount).__name__})"
            )
        return cls(amount, unit)

    def negated(self) -> Duration:
        """The same amount backwards, as for a reminder before a due time."""
        return Duration(-self.amount, self.unit)
