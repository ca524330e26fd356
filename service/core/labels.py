"""The labels of the service's closed sets of codes (tiers, criteria, kinds of finding).

The workflows' own codes (states, choices) are labelled in the definitions; these are the
service's. Each label is a `Text` (service/core/texts.py): pages and messages render it in the
reader's language, anything else sees the English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.core.texts import Text, msg, render

TIERS: Mapping[str, Text] = {
    "core": msg("Core"),
    "important": msg("Important"),
    "general": msg("General"),
}
CRITERIA: Mapping[str, Text] = {
    "major_revenue": msg("Major revenue"),
    "industry_reputation": msg("Industry reputation"),
    "long_term_partner": msg("Long-term partner"),
}
FINDING_KINDS: Mapping[str, Text] = {
    "plan_execution": msg("Visit plan behind schedule"),
    "record_completeness": msg("Visit record not submitted in time"),
    "issue_timeliness": msg("Issue not resolved by its deadline"),
}


def label(codes: Mapping[str, Text], code: Any) -> Text | str:
    """A code's label, to render later; an unknown code as it is."""
    return codes.get(code, "" if code is None else str(code))


def rendered(codes: Mapping[str, Text]) -> dict[str, str]:
    """Every code's label in the reader's language, in the set's order."""
    return {code: render(text) for code, text in codes.items()}
