"""The KPI figures (`kpi.figures`) as a download: one figure a row, every title, group and
measure in the reader's language, tiers by their labels, departments and people by name.

The API (`/api/v1/kpi/export.*`) and the dashboard (`/dashboard/export.*`) give the same
sheet; `GET /api/v1/kpi` stays the machine-readable form, with its keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.core import labels
from service.core.texts import Text, msg, render
from service.reports import exports
from service.reports.exports import Column, Sheet, Value
from service.store.models import Department, User

TITLE = msg("KPI figures")
COLUMNS = (
    Column(msg("Section")),
    Column(msg("Group")),
    Column(msg("Measure")),
    Column(msg("Value"), "number"),
)
SECTIONS: Mapping[str, Text] = {
    "plan_completion": msg("Visit plan completion"),
    "tier": msg("Visit plan completion by customer tier"),
    "department": msg("Visit plan completion by department"),
    "person": msg("Visit plan completion by person"),
    "issues": msg("Issue resolution"),
    "satisfaction": msg("Customer satisfaction (1-5)"),
    "cooperation": msg("Cooperation growth and loyalty"),
}
MEASURES: Mapping[str, Text] = {
    "customers": msg("Customers"),
    "required": msg("Required"),
    "planned": msg("Planned"),
    "done": msg("Done"),
    "rate": msg("Rate"),
    "raised": msg("Raised"),
    "resolved": msg("Resolved"),
    "resolution_rate": msg("Resolution rate"),
    "resolved_with_deadline": msg("Resolved with a deadline"),
    "on_time": msg("Resolved on time"),
    "on_time_rate": msg("On-time rate"),
    "confirmations": msg("Confirmations"),
    "confirmation_average": msg("Average rating of the confirmations"),
    "surveys": msg("Surveys"),
    "survey_average": msg("Average rating of the surveys"),
    "average": msg("Average rating"),
    "visits_compared": msg("Visits compared"),
    "volume_before": msg("In the visit's volume period"),
    "volume_after": msg("In the next volume period"),
    "growth": msg("Growth"),
    "new_projects": msg("New projects"),
    "new_areas": msg("New areas"),
    "volumes_with_new_business": msg("Volume periods with new business"),
}
RATES = frozenset({"rate", "resolution_rate", "on_time_rate"})
ALL = msg("All")


class Names:
    """Departments and people as the pages name them: a department's name, a person's
    display name (the code or username where there is none)."""

    def __init__(self, conn: Connection) -> None:
        d, u = Department.__table__, User.__table__
        self.departments = {
            r.code: r.name or r.code for r in conn.execute(sa.select(d.c.code, d.c.name))
        }
        self.people = {
            r.username: r.display_name or r.username
            for r in conn.execute(sa.select(u.c.username, u.c.display_name))
        }


def _value(key: str, value: Any) -> Value:
    kind = "rate" if key in RATES else "integer" if isinstance(value, int) else "number"
    return Value(value, kind)


def _measures(section: Text, group: Any, figures: Mapping[str, Any], skip: str = "") -> list[Any]:
    return [
        [section, group, MEASURES.get(key, key), _value(key, value)]
        for key, value in figures.items()
        if key != skip and not isinstance(value, list | dict)
    ]


def _by_tier(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = list(labels.TIERS)
    return sorted(groups, key=lambda g: order.index(g["tier"]) if g["tier"] in order else 99)


def rows(result: Mapping[str, Any], names: Names) -> list[list[Any]]:
    """(section, group, measure, value) rows: the plan overall, by tier, department and
    person, then the issues, satisfaction and cooperation."""
    plan = result["plan_completion"]
    out = _measures(SECTIONS["plan_completion"], ALL, plan)
    for g in _by_tier(plan["by_tier"]):
        out += _measures(SECTIONS["tier"], labels.label(labels.TIERS, g["tier"]), g, "tier")
    for g in plan["by_department"]:
        name = names.departments.get(g["department"], g["department"])
        out += _measures(SECTIONS["department"], name, g, "department")
    for g in plan["by_person"]:
        out += _measures(
            SECTIONS["person"], names.people.get(g["person"], g["person"]), g, "person"
        )
    for section in ("issues", "satisfaction", "cooperation"):
        out += _measures(SECTIONS[section], ALL, result[section])
    return out


def sheet(result: Mapping[str, Any], names: Names) -> Sheet:
    period = [
        msg("From"),
        Value(result["from"], "datetime"),
        msg("To (excluded)"),
        Value(result["to"], "datetime"),
    ]
    return Sheet(TITLE, COLUMNS, rows(result, names), preamble=[period])


def filenames(result: Mapping[str, Any], lang: str, extension: str) -> tuple[str, str]:
    """The file's ASCII name and its name in `lang`: the period's dates in both."""
    dates = "-".join(shown_date(result[k]) for k in ("from", "to"))
    return f"kpi-{dates}.{extension}", f"{render(TITLE, lang)}-{dates}.{extension}"


def shown_date(value: Any) -> str:
    return exports.shown(exports.cell(value, "date", "en"))
