"""`/api/v1/official-holidays`: the official holiday lists loaded from the State Council's
notices (admin loads; everyone signed in reads)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields

from service.entrypoints.api.common import Blueprint
from service.entrypoints.auth import current_actor
from service.usecases import official_calendar

blp = Blueprint(
    "holidays", __name__, url_prefix="/api/v1", description="Official holidays (business calendar)"
)


class StrictBoolean(fields.Boolean):
    """`true` or `false` only (marshmallow's Boolean also takes 1, "yes", "on"...)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean.")
        return value


class HolidayNotice(Schema):
    invalid_message = "invalid request"

    # the notice's text and year are read by the use case, after the role (403 first), and
    # refused with 422 naming what is wrong: a missing text too
    text = fields.Raw(metadata={"type": "string", "description": "the notice (required)"})
    year = fields.Raw(metadata={"type": "integer", "description": "when the text omits it"})
    dry_run = StrictBoolean(load_default=False)


class HolidaySpan(Schema):
    name = fields.String(required=True)
    from_ = fields.String(attribute="from", data_key="from", metadata={"format": "date"})
    to = fields.String(metadata={"format": "date"})
    days = fields.Integer()
    estimated = fields.Boolean()


class LoadedYear(Schema):
    year = fields.Integer(required=True)
    holidays = fields.List(fields.Nested(HolidaySpan), required=True)
    workdays = fields.List(
        fields.String(metadata={"format": "date"}),
        required=True,
        metadata={"description": "make-up working days"},
    )
    loaded_by = fields.String()
    loaded_at = fields.String(metadata={"format": "date-time"})


class LoadedYears(Schema):
    items = fields.List(fields.Nested(LoadedYear), required=True)


class LoadResult(LoadedYear):
    dry_run = fields.Boolean(required=True)
    replaces = fields.String(allow_none=True, metadata={"description": "the source it replaces"})
    changes = fields.List(
        fields.Dict(),
        metadata={"description": "[{date, worked_now, worked, name, make_up}]: days it changes"},
    )


@blp.route("/official-holidays", methods=["GET"])
@blp.response(200, LoadedYears, description="the loaded years, newest first")
def list_years() -> dict[str, Any]:
    """The years whose official list was loaded: holidays, make-up working days, who and when."""
    current_actor()
    return {"items": official_calendar.loaded()}


@blp.route("/official-holidays", methods=["POST"])
@blp.arguments(HolidayNotice)
@blp.response(200, LoadResult)
@blp.errors({403: "only an administrator may load the official holidays"})
def load_year(body: dict[str, Any]) -> dict[str, Any]:
    """Load a year's official holidays from the State Council's notice (国务院办公厅关于
    20XX年部分节假日安排的通知), replacing any loaded before; `dry_run` only reads it.

    Text that gives no holiday or dates that disagree (a wrong weekday, a count of days that
    is not the range's, a day both off and worked) is refused with 422, nothing stored.
    """
    actor = current_actor()
    return official_calendar.load(
        body.get("text"), actor.username, actor.role, body.get("year"), body["dry_run"]
    )
