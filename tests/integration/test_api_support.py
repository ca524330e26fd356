"""Helpers shared by the `test_api_*` modules; this module holds no tests of its own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.integration.conftest import World


# -- assertions ----------------------------------------------------------------------------
def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The contract's error body `{"code", "status", "message", "errors"}`, with this status."""
    body = response.get_json()
    assert response.status_code == status, body
    assert response.mimetype == "application/json"
    assert isinstance(body, dict) and set(body) == {"code", "status", "message", "errors"}, body
    assert (body["code"], body["status"]) == (code, status), body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    return body


def instant(value: str) -> datetime:
    """An ISO 8601 time with an offset, as a UTC instant (to compare times, not spellings)."""
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value!r} has no offset"
    return parsed.astimezone(UTC)


def ids(response: Any) -> list[int]:
    """The ids of a list response's items, in the order given."""
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def raw_post(world: World, path: str, data: bytes | str, user: str | None = None) -> Any:
    """POST a raw body (e.g. malformed JSON) as JSON, with `user`'s token if given."""
    headers = {"Content-Type": "application/json"}
    if user is not None:
        headers.update(world.auth(user))
    return world.client.post(path, data=data, headers=headers)


# -- payloads ------------------------------------------------------------------------------
def issue_payload(**over: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": "Slow exports",
        "description": "Exports take an hour",
        "category": "product",
        "severity": "medium",
    }
    payload.update(over)
    return payload


def create_issue(world: World, user: str = "mary", **over: Any) -> dict[str, Any]:
    r = world.post("/api/v1/issues", user, issue_payload(**over))
    assert r.status_code == 201, r.get_json()
    body: dict[str, Any] = r.get_json()
    return body


def notice_payload(**over: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "department": "technical",
        "findings": "Visit records submitted late",
        "due_at": "2026-11-20T18:00:00+08:00",
    }
    payload.update(over)
    return payload


def create_notice(world: World, user: str = "sara", **over: Any) -> dict[str, Any]:
    r = world.post("/api/v1/rectification-notices", user, notice_payload(**over))
    assert r.status_code == 201, r.get_json()
    body: dict[str, Any] = r.get_json()
    return body
