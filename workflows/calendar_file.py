"""A company calendar file (YAML): its keys checked and turned into calendar settings."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

_FILE_KEYS = ("timezone", "end_of_day", "official", "holidays", "workdays")


def settings_from_yaml(data: object, source: str) -> dict[str, Any]:
    """The `BusinessCalendar` keyword arguments a calendar file's parsed YAML gives."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{source}: a calendar file must be a mapping, got {data!r}")
    unknown = sorted(str(key) for key in data if key not in _FILE_KEYS)
    if unknown:
        raise ValueError(
            f"{source}: unknown key(s) {', '.join(unknown)}; expected {', '.join(_FILE_KEYS)}"
        )
    settings: dict[str, Any] = {}
    if data.get("timezone") is not None:
        name = data["timezone"]
        if not isinstance(name, str):
            raise ValueError(f"{source}: timezone must be a name such as Asia/Shanghai")
        try:
            settings["tz"] = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{source}: unknown timezone {name!r}") from None
    if data.get("end_of_day") is not None:
        settings["end_of_day"] = _parse_clock(data["end_of_day"], source)
    if data.get("official") is not None:
        if not isinstance(data["official"], bool):
            raise ValueError(f"{source}: official must be true or false")
        settings["official"] = data["official"]
    for key, name in (("holidays", "extra_holidays"), ("workdays", "extra_workdays")):
        values = data.get(key)
        if values is None:
            continue
        if not isinstance(values, list):
            raise ValueError(f"{source}: {key} must be a list of dates")
        settings[name] = frozenset(_parse_date(value, key, source) for value in values)
    return settings


def _parse_clock(value: object, source: str) -> time:
    if isinstance(value, str):
        try:
            clock = time.fromisoformat(value.strip())
        except ValueError:
            clock = None
        if clock is not None and clock.tzinfo is None:
            return clock
    raise ValueError(f"{source}: end_of_day must be a time such as 18:00, got {value!r}")


def _parse_date(value: object, key: str, source: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{source}: {key} must hold dates such as 2026-03-02, got {value!r}")


class CalendarLoader(yaml.SafeLoader):
    """A SafeLoader that keeps clock times such as 18:00 as text, not YAML 1.1 base-60 ints."""


def _construct_int(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    scalar = cast(yaml.ScalarNode, node)
    text = loader.construct_scalar(scalar)
    if isinstance(text, str) and ":" in text:
        return text
    return loader.construct_yaml_int(scalar)


CalendarLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
