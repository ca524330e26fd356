"""Each user's visits as an iCalendar feed, to subscribe to from a phone or Outlook.

Calendar apps cannot send a bearer token, so the feed's URL carries a token of its own: the
username signed with SECRET_KEY (itsdangerous). Anyone with the URL sees that user's visits,
as with any calendar subscription link; changing SECRET_KEY revokes every link.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from icalendar import Calendar, Event
from itsdangerous import BadSignature, URLSafeSerializer

from service.core import context
from service.store import repository as repo
from service.store.models import Customer, User, Visit, VisitVisitor

SALT = "visitflow.calendar-feed"
PAST = timedelta(days=90)
AHEAD = timedelta(days=400)
VISIT_LENGTH = timedelta(hours=2)  # a visit's planned time has no end: show two hours


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(context.config()["SECRET_KEY"], salt=SALT)


def token_for(username: str) -> str:
    return str(_serializer().dumps(username))


def username_for(token: str) -> str | None:
    """The active user a feed token names, or None."""
    try:
        username = _serializer().loads(token)
    except BadSignature:
        return None
    users = User.__table__
    found = (
        repo.connection()
        .execute(sa.select(users.c.username).where(users.c.username == username, users.c.active))
        .scalar()
    )
    return str(found) if found else None


def feed(username: str, base_url: str) -> bytes:
    """The user's visits (as a visitor) from 90 days back to a year ahead."""
    now = context.now()
    v, vv, c = Visit.__table__, VisitVisitor.__table__, Customer.__table__
    rows = (
        repo.connection()
        .execute(
            sa.select(
                v.c.id,
                v.c.planned_at,
                v.c.place,
                v.c.purpose,
                v.c.state,
                v.c.version,
                v.c.updated_at,
                c.c.name,
            )
            .join(vv, vv.c.visit_id == v.c.id)
            .join(c, c.c.id == v.c.customer_id)
            .where(vv.c.username == username, v.c.planned_at.between(now - PAST, now + AHEAD))
            .order_by(v.c.planned_at)
        )
        .all()
    )
    calendar = Calendar()
    calendar.add("prodid", "-//VisitFlow//key-customer visits//ZH")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"VisitFlow {username}")
    for row in rows:
        calendar.add_component(_event(row, base_url, now))
    data: bytes = calendar.to_ical()
    return data


def _event(row: Any, base_url: str, now: datetime) -> Event:
    event = Event()
    event.add("uid", f"visit-{row.id}@visitflow")
    event.add("dtstamp", now)
    event.add("last-modified", row.updated_at)
    event.add("sequence", row.version)  # calendars replace the event when it changes
    event.add("dtstart", row.planned_at)
    event.add("dtend", row.planned_at + VISIT_LENGTH)
    event.add("summary", f"走访 {row.name} / Visit")
    if row.place:
        event.add("location", row.place)
    url = f"{base_url.rstrip('/')}/visits/{row.id}"
    event.add("description", "\n".join(filter(None, [row.purpose, f"{row.state}", url])))
    event.add("url", url)
    event.add("status", "CANCELLED" if row.state == "cancelled" else "CONFIRMED")
    return event
