"""`/api/v1/official-holidays`: the official holiday lists loaded from the State Council's
notices (admin loads; everyone signed in reads)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from service.core.errors import InvalidRequest
from service.entrypoints.api.common import json_body, json_doc
from service.entrypoints.auth import current_actor
from service.usecases import official_calendar

blp = Blueprint(
    "holidays", __name__, url_prefix="/api/v1", description="Official holidays (business calendar)"
)
FIELDS = frozenset({"text", "year", "dry_run"})


@blp.route("/official-holidays", methods=["GET"])
@blp.doc(responses={"200": json_doc('{"items": the loaded years, newest first}')})
def list_years() -> dict[str, Any]:
    """The years whose official list was loaded: holidays, make-up working days, who and when."""
    current_actor()
    return {"items": official_calendar.loaded()}


@blp.route("/official-holidays", methods=["POST"])
@blp.doc(
    requestBody={
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["text"],
                    "properties": {
                        "text": {"type": "string", "description": "the notice's text"},
                        "year": {"type": "integer", "description": "when the text omits it"},
                        "dry_run": {"type": "boolean", "default": False},
                    },
                }
            }
        }
    },
    responses={
        "200": json_doc(
            '{"year", "holidays": [{"name", "from", "to", "days"}], "workdays": make-up'
            ' working days, "replaces": the source it replaces, "changes": [{"date",'
            ' "worked_now", "worked", "name", "make_up"}] the days whose status it changes,'
            ' "dry_run"}'
        )
    },
)
def load_year() -> dict[str, Any]:
    """Load a year's official holidays from the State Council's notice (国务院办公厅关于
    20XX年部分节假日安排的通知), replacing any loaded before; `dry_run` only reads it.

    Text that gives no holiday or dates that disagree (a wrong weekday, a count of days that
    is not the range's, a day both off and worked) is refused with 422, nothing stored.
    """
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise InvalidRequest("invalid request", {k: ["Unknown field."] for k in unknown})
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InvalidRequest("invalid request", {"dry_run": ["Not a valid boolean."]})
    actor = current_actor()
    return official_calendar.load(
        body.get("text"), actor.username, actor.role, body.get("year"), dry_run
    )
