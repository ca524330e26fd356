"""Tables: reference data, the three workflows' instances, and their audit, deadlines, outbox."""

from __future__ import annotations

from service.store.models.customers import Customer, CustomerTierHistory, TierReview
from service.store.models.evaluation import (
    CooperationVolume,
    CustomerSurvey,
    Evaluation,
    FeedbackMeeting,
    FeedbackMeetingIssue,
)
from service.store.models.instances import (
    Deadline,
    InstanceMixin,
    Issue,
    NoticeItem,
    RectificationNotice,
    TransitionEvent,
    Visit,
    VisitVisitor,
)
from service.store.models.kpi import KpiDirty, KpiTally
from service.store.models.outbox import Notification, OutboxMessage
from service.store.models.people import ApiToken, Department, User
from service.store.models.requests import ClientRequest
from service.store.models.supervision import Finding, OfficialCalendarYear
from service.store.models.types import JSON, UTCDateTime, utcnow
from service.store.models.webhooks import (
    Delivery,
    DeliveryAttempt,
    Integration,
    Subscription,
    WebhookEvent,
)

__all__ = [
    "ApiToken",
    "ClientRequest",
    "CooperationVolume",
    "Customer",
    "CustomerSurvey",
    "CustomerTierHistory",
    "Deadline",
    "Delivery",
    "DeliveryAttempt",
    "Department",
    "Evaluation",
    "FeedbackMeeting",
    "FeedbackMeetingIssue",
    "Finding",
    "InstanceMixin",
    "Integration",
    "Issue",
    "JSON",
    "KpiDirty",
    "KpiTally",
    "NoticeItem",
    "Notification",
    "OfficialCalendarYear",
    "OutboxMessage",
    "RectificationNotice",
    "Subscription",
    "TierReview",
    "TransitionEvent",
    "UTCDateTime",
    "User",
    "Visit",
    "VisitVisitor",
    "WebhookEvent",
    "utcnow",
]
