"""Notification texts: stored as a kind and parameters, rendered in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# {placeholders} are the notification's parameters; a `{x}` whose parameter is a label
# ({"zh", "en"}) is replaced by the label in the reader's language.
TEMPLATES: dict[str, dict[str, str]] = {
    "created": {
        "zh": "{workflow} #{id} 已创建（{actor}）",
        "en": "{workflow} #{id} created by {actor}",
    },
    "visit_planned": {
        "zh": "{workflow} #{id} 已计划（{actor}）",
        "en": "{workflow} #{id} planned by {actor}",
    },
    "issue_raised": {
        "zh": "{workflow} #{id} 已提出（{actor}）",
        "en": "{workflow} #{id} raised by {actor}",
    },
    "rectification_issued": {
        "zh": "{workflow} #{id} 已下达（{actor}）",
        "en": "{workflow} #{id} issued by {actor}",
    },
    "transition": {
        "zh": "{workflow} #{id}：{actor} 已{label}",
        "en": "{workflow} #{id}: {label} by {actor}",
    },
    "reminder": {
        "zh": "{workflow} #{id}：{label}即将到期（{due}）",
        "en": "{workflow} #{id}: {label} due soon ({due})",
    },
    "overdue": {
        "zh": "{workflow} #{id}：{label}已逾期（{due}）",
        "en": "{workflow} #{id}: {label} overdue ({due})",
    },
    "escalated": {
        "zh": "{workflow} #{id}：{label}逾期升级（{due}）",
        "en": "{workflow} #{id}: {label} escalated, overdue ({due})",
    },
    "webhook_disabled": {
        "zh": "Webhook 订阅 #{subscription} 连续 {failures} 次投递到 {url} 失败，已停用"
        "（最后一次：{error}）。可通过 POST /api/v1/subscriptions/{subscription}/enable 重新启用。",
        "en": "Webhook subscription #{subscription} disabled after {failures} consecutive failed"
        " deliveries to {url} (last: {error}). Enable it again with"
        " POST /api/v1/subscriptions/{subscription}/enable.",
    },
}
SYSTEM = {"zh": "系统", "en": "the system"}


def render(kind: str, params: Mapping[str, Any] | None, message: str, lang: str) -> str:
    """The text of one notification in `lang`; a row stored before texts had parameters
    (or of a kind without a template) shows its stored message."""
    template = TEMPLATES.get(kind, {}).get(lang)
    if params is None or template is None:
        return message
    values = {k: _text(v, lang) for k, v in params.items()}
    if values.get("actor") in ("system", ""):
        values["actor"] = SYSTEM[lang]
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError):
        return message


def _text(value: Any, lang: str) -> Any:
    if isinstance(value, Mapping) and lang in value:
        return value[lang]
    return value
