"""The closed sets of status codes stored in columns, each defined once as a `StrEnum`."""

from __future__ import annotations

from enum import StrEnum


class DeadlineStatus(StrEnum):
    """`deadlines.status`: open until its state is left (closed) or it runs out (fired)."""

    OPEN = "open"
    CLOSED = "closed"
    FIRED = "fired"


class DeliveryStatus(StrEnum):
    """`deliveries.status`: a webhook delivery's way from queued to delivered or given up."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"
