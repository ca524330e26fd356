"""`/kpi` (figures, CSV and Excel), `/customer-surveys` and `/cooperation-volumes`: parsing,
calling `service.usecases.surveys`, replying."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from service.core import texts
from service.entrypoints.api.common import TOKEN, Blueprint
from service.entrypoints.auth import current_actor
from service.reports import exports, kpi_export
from service.store import repository as repo
from service.usecases import surveys

READERS_ONLY = {**TOKEN, 403: "not a KPI reader"}
WRITERS_ONLY = {**TOKEN, 403: "the role may not record them"}
blp = Blueprint("kpi", __name__, url_prefix="/api/v1", description="Evaluation and KPIs")


class PeriodArgs(Schema):
    from_ = fields.AwareDateTime(data_key="from", required=True)
    to = fields.AwareDateTime(required=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["from_"] >= data["to"]:
            raise ValidationError("`to` must come after `from`", "to")


class ExportArgs(PeriodArgs):
    lang = fields.String(
        validate=validate.OneOf(texts.LANGUAGES, error=exports.NOT_A_LANGUAGE),
        metadata={
            "description": "the titles' and labels' language; by default the API's "
            "(English unless Accept-Language names Chinese)"
        },
    )


class Figures(Schema):
    from_ = fields.String(data_key="from", attribute="from", required=True)
    to = fields.String(required=True)
    plan_completion = fields.Dict(required=True)
    issues = fields.Dict(required=True)
    satisfaction = fields.Dict(required=True)
    cooperation = fields.Dict(required=True)


class Rows:
    """One object or a list of them (`surveys.as_rows`), each row's errors under its index."""

    invalid_message = "invalid rows"

    @pre_load(pass_collection=True)
    def _as_rows(self, data: Any, **_: Any) -> list[Any]:
        return surveys.as_rows(data)


class SurveyRows(Rows, surveys.SurveySchema):
    pass


class VolumeRows(Rows, surveys.VolumeSchema):
    pass


FILE = {"type": "string", "format": "binary"}  # a download: the view answers it itself
Recorded = Schema.from_dict({"recorded": fields.Integer(required=True)}, name="Recorded")
Stored = Schema.from_dict({"stored": fields.Integer(required=True)}, name="Stored")


@blp.route("/kpi", methods=["GET"])
@blp.arguments(PeriodArgs, location="query", as_kwargs=False)
@blp.response(200, Figures, description="plan completion, issues, satisfaction and cooperation")
@blp.errors(READERS_ONLY)
def get_kpi(args: dict[str, Any]) -> dict[str, Any]:
    """The evaluation figures of the period [from, to) (marketing, management, supervision)."""
    return surveys.figures(current_actor(), args["from_"], args["to"])


def _export(args: dict[str, Any], extension: str) -> Response:
    result = surveys.figures(current_actor(), args["from_"], args["to"])
    lang = exports.language(args.get("lang"), texts.language())
    with repo.snapshot() as conn:
        sheet = kpi_export.sheet(result, kpi_export.Names(conn))
    name, localized = kpi_export.filenames(result, lang, extension)
    content, mimetype = exports.content(sheet, lang, extension)
    return Response(content, mimetype=mimetype, headers=exports.headers(name, localized))


@blp.route("/kpi/export.csv", methods=["GET"])
@blp.arguments(ExportArgs, location="query", as_kwargs=False)
@blp.response(
    200,
    FILE,
    content_type="text/csv",
    description="section, group, measure, value rows as CSV (UTF-8 with a BOM), "
    "titled and labelled in `lang` (docs/exports.md); `GET /kpi` has the keys",
)
@blp.errors(READERS_ONLY)
def export_csv(args: dict[str, Any]) -> Response:
    """The figures as CSV, one figure a row, in the reader's language."""
    return _export(args, "csv")


@blp.route("/kpi/export.xlsx", methods=["GET"])
@blp.arguments(ExportArgs, location="query", as_kwargs=False)
@blp.response(
    200,
    FILE,
    content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    description="the figures as an Excel workbook, in `lang`",
)
@blp.errors(READERS_ONLY)
def export_xlsx(args: dict[str, Any]) -> Response:
    """The figures as an Excel workbook, one figure a row, in the reader's language."""
    return _export(args, "xlsx")


@blp.route("/customer-surveys", methods=["POST"])
@blp.arguments(SurveyRows(many=True), as_kwargs=False)
@blp.response(201, Recorded, description="how many surveys were recorded")
@blp.errors(WRITERS_ONLY)
def post_surveys(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Record customer satisfaction surveys (one object or a list; marketing)."""
    return {"recorded": surveys.record_surveys(rows, current_actor())}


@blp.route("/cooperation-volumes", methods=["POST"])
@blp.arguments(VolumeRows(many=True), as_kwargs=False)
@blp.response(200, Stored, description="how many rows were stored (a period's row replaced)")
@blp.errors(WRITERS_ONLY)
def post_volumes(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Record cooperation volumes per customer and period (marketing, integrations)."""
    return {"stored": surveys.store_volumes(rows, current_actor())}


@blp.route("/cooperation-volumes/import", methods=["POST"])
@blp.doc(  # a CSV, not JSON: no schema of webargs' to parse it with
    requestBody={
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string"}}}
            },
        }
    }
)
@blp.response(200, Stored, description="how many rows were stored; nothing is on an error")
@blp.errors(WRITERS_ONLY)
def import_volumes() -> dict[str, Any]:
    """Import cooperation volumes from CSV: customer_id,period_start,amount,projects,new_areas."""
    upload = request.files.get("file")
    raw = upload.read() if upload is not None else request.get_data()
    return {"stored": surveys.import_volumes(raw, current_actor())}
