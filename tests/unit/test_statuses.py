"""The status enums hold exactly the codes their columns store, and serialise as plain strings."""

from __future__ import annotations

import json

from service.core.statuses import DeadlineStatus, DeliveryStatus
from service.store.models import Deadline, Delivery


def test_deadline_statuses_are_the_documented_set() -> None:
    assert {s.value for s in DeadlineStatus} == {"open", "closed", "fired"}


def test_delivery_statuses_are_the_documented_set() -> None:
    assert {s.value for s in DeliveryStatus} == {"pending", "sending", "delivered", "failed"}


def test_column_defaults_are_members() -> None:
    assert DeadlineStatus(Deadline.__table__.c.status.default.arg) is DeadlineStatus.OPEN
    assert DeliveryStatus(Delivery.__table__.c.status.default.arg) is DeliveryStatus.PENDING


def test_members_serialise_as_their_plain_strings() -> None:
    assert json.dumps({"status": DeadlineStatus.FIRED}) == '{"status": "fired"}'
    assert str(DeliveryStatus.DELIVERED) == "delivered"
