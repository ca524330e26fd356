"""The three kinds of workflow instance the service stores, and what each exposes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sqlalchemy as sa

from service.core.texts import Text, msg
from service.store.models import Issue, RectificationNotice, UTCDateTime, Visit


@dataclass(frozen=True, eq=False)
class Kind:
    workflow: str  # the definition's name
    path: str  # under /api/v1
    model: Any
    fields: tuple[str, ...]  # the workflow's own fields, as columns
    main_time: str  # what `from` and `to` filter on
    title: Text  # how one is called in messages (a msgid: its Chinese is in the catalog)
    # fields whose text may be generated: (field, column keeping its message key and params)
    texts: tuple[tuple[str, str], ...] = ()
    created: str = "created"  # the kind of the notification that tells of a new one

    @property
    def table(self) -> sa.Table:
        table: sa.Table = self.model.__table__
        return table

    @cached_property
    def time_columns(self) -> frozenset[str]:
        return frozenset(c.name for c in self.table.columns if isinstance(c.type, UTCDateTime))


VISIT = Kind(
    "visit",
    "visits",
    Visit,
    (
        "customer_id",
        "planned_at",
        "visitors",
        "topics",
        "place",
        "purpose",
        "checked_in",  # set by check-ins (usecases.checkins), never by a form
        "checkin_flags",
    ),
    "planned_at",
    msg("visit"),
    created="visit_planned",
)
ISSUE = Kind(
    "issue",
    "issues",
    Issue,
    (
        "visit_id",
        "customer_id",
        "title",
        "description",
        "category",
        "severity",
        "responsible_department",
        "responsible_person",
        "due_at",
    ),
    "due_at",
    msg("issue"),
    created="issue_raised",
)
RECTIFICATION = Kind(
    "rectification",
    "rectification-notices",
    RectificationNotice,
    ("department", "findings", "due_at", "related", "responsible_person"),
    "due_at",
    msg("rectification notice"),
    (("findings", "findings_message"),),
    "rectification_issued",
)

KINDS: dict[str, Kind] = {k.workflow: k for k in (VISIT, ISSUE, RECTIFICATION)}
