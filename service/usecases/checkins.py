"""Check-ins (`geo` fields): where the visitor was, against the customer's sites, by policy.

The engine checks a check-in's shape and stamps its time; here it is measured: the distance
to the nearest site of the instance's customer, and flags for what makes it doubtful:

- `outside_radius`: farther from every site than its radius; the tier's policy
  (`check_in_outside_radius`) either records it flagged (`warn`, the default) or refuses
  the step (`refuse`: 422 naming the distance);
- `poor_accuracy`: the device's accuracy is worse than `check_in_max_accuracy_m`;
- `clock_skew`: the device's clock differs from the server's by more than
  `check_in_max_clock_skew_seconds`;
- `no_site`: the customer has no site to measure against (never refused).

The check-in is stored as given plus `server_time`, `distance_m`, `site`, `within` and
`flags`; an instance with the `checked_in` and `checkin_flags` columns (visits) keeps them
there too, for the ledger and the compliance report.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from service.core import context
from service.core.texts import msg
from workflows import InvalidData
from workflows.spec import FieldSpec, FieldType

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
FLAGS = ("outside_radius", "poor_accuracy", "clock_skew", "no_site")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def nearest(
    check_in: Mapping[str, Any], sites: Sequence[Mapping[str, Any]]
) -> tuple[Mapping[str, Any], float] | None:
    """The site nearest to the check-in and its distance, None without sites."""
    measured = [
        (
            site,
            distance_m(
                check_in["latitude"], check_in["longitude"], site["latitude"], site["longitude"]
            ),
        )
        for site in sites
    ]
    return min(measured, key=lambda pair: pair[1]) if measured else None


def measure(
    check_in: Mapping[str, Any], sites: Sequence[Mapping[str, Any]], policy: Mapping[str, Any]
) -> dict[str, Any]:
    """The check-in with its distance, nearest site and flags."""
    flags: list[str] = []
    out = dict(check_in)
    found = nearest(check_in, sites)
    if found is None:
        flags.append("no_site")
        out.update(distance_m=None, site=None, within=None)
    else:
        site, distance = found
        within = distance <= float(site.get("radius_m") or 0)
        out.update(distance_m=round(distance), site=site.get("name"), within=within)
        if not within:
            flags.append("outside_radius")
    if check_in["accuracy"] > float(policy["check_in_max_accuracy_m"]):
        flags.append("poor_accuracy")
    skew = abs(_seconds(check_in["server_time"]) - _seconds(check_in["device_time"]))
    if skew > float(policy["check_in_max_clock_skew_seconds"]):
        flags.append("clock_skew")
    out["flags"] = flags
    return out


def _seconds(value: datetime | str) -> float:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.timestamp()


def geo_fields(fields: Iterable[FieldSpec]) -> tuple[FieldSpec, ...]:
    return tuple(f for f in fields if f.type is FieldType.GEO)


def check(
    fields: Iterable[FieldSpec],
    values: Mapping[str, Any],
    tier: str | None,
    sites: Sequence[Mapping[str, Any]],
    earlier_flags: Sequence[str] = (),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The measured check-ins of a form's values (to store in place of what was given) and
    the instance columns they set; `InvalidData` for a check-in the tier's policy refuses."""
    measured: dict[str, Any] = {}
    flags = list(earlier_flags)
    for spec in geo_fields(fields):
        given = values.get(spec.name)
        if not given:
            continue
        policy = context.current().policy
        result = measure(given, sites, policy)
        rule = policy["check_in_outside_radius"].get(tier or "", "warn")
        if "outside_radius" in result["flags"] and rule == "refuse":
            raise InvalidData(
                {
                    spec.name: [
                        msg(
                            "%(distance)s m from the nearest site (%(site)s): check in there",
                            distance=result["distance_m"],
                            site=result["site"],
                        )
                    ]
                }
            )
        measured[spec.name] = result
        flags.extend(f for f in result["flags"] if f not in flags)
    columns = {"checked_in": True, "checkin_flags": flags} if measured else {}
    return measured, columns
