"""`/kpi` (figures, CSV and Excel), `/customer-surveys` and `/cooperation-volumes`."""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlalchemy as sa
from flask import Response, request
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.core import roles, runtime, texts
from service.core.errors import Forbidden, InvalidRequest
from service.core.roles import KPI_READERS
from service.entrypoints.api.common import json_body, json_doc
from service.entrypoints.auth import current_actor
from service.reports import exports, kpi, kpi_export
from service.store import repository as repo
from service.store.db import db
from service.store.models import CooperationVolume, Customer, CustomerSurvey

VOLUME_WRITERS = roles.SURVEY_WRITERS | {"integration"}
CSV_COLUMNS = ("customer_id", "period_start", "amount", "projects", "new_areas")
MAX_ROWS = 10_000

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


class SurveySchema(Schema):
    customer_id = fields.Integer(required=True, strict=True)
    surveyed_at = fields.AwareDateTime(required=True)
    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(allow_none=True, validate=validate.Length(max=4000))


def _not_negative(value: Any) -> None:
    if value < 0:
        raise ValidationError("must not be negative")


class VolumeSchema(Schema):
    customer_id = fields.Integer(required=True)
    period_start = fields.Date(required=True)
    amount = fields.Decimal(required=True, places=2, validate=_not_negative)
    projects = fields.Integer(load_default=0, validate=validate.Range(min=0))
    new_areas = fields.Integer(load_default=0, validate=validate.Range(min=0))


def _allow(roles: frozenset[str], what: str) -> None:
    if current_actor().role not in roles:
        raise Forbidden(f"your role may not {what}")


def _figures(args: dict[str, Any]) -> dict[str, Any]:
    _allow(KPI_READERS, "read the evaluation figures")
    quotas = runtime.quotas()
    with repo.snapshot() as conn:
        return kpi.figures(conn, args["from_"], args["to"], quotas)


@blp.route("/kpi", methods=["GET"])
@blp.arguments(PeriodArgs, location="query", as_kwargs=False)
@blp.doc(responses={"200": json_doc("plan completion, issues, satisfaction and cooperation")})
def get_kpi(args: dict[str, Any]) -> dict[str, Any]:
    """The evaluation figures of the period [from, to) (marketing, management, supervision)."""
    return _figures(args)


def _export(args: dict[str, Any], extension: str) -> Response:
    result = _figures(args)
    lang = exports.language(args.get("lang"), texts.language())
    with repo.snapshot() as conn:
        sheet = kpi_export.sheet(result, kpi_export.Names(conn))
    name, localized = kpi_export.filenames(result, lang, extension)
    content, mimetype = exports.content(sheet, lang, extension)
    return Response(content, mimetype=mimetype, headers=exports.headers(name, localized))


@blp.route("/kpi/export.csv", methods=["GET"])
@blp.arguments(ExportArgs, location="query", as_kwargs=False)
@blp.doc(
    responses={
        "200": {
            "description": "section, group, measure, value rows as CSV (UTF-8 with a BOM), "
            "titled and labelled in `lang` (docs/exports.md); `GET /kpi` has the keys"
        }
    }
)
def export_csv(args: dict[str, Any]) -> Response:
    """The figures as CSV, one figure a row, in the reader's language."""
    return _export(args, "csv")


@blp.route("/kpi/export.xlsx", methods=["GET"])
@blp.arguments(ExportArgs, location="query", as_kwargs=False)
@blp.doc(responses={"200": {"description": "the figures as an Excel workbook, in `lang`"}})
def export_xlsx(args: dict[str, Any]) -> Response:
    """The figures as an Excel workbook, one figure a row, in the reader's language."""
    return _export(args, "xlsx")


def _check_customers(ids: set[int], errors: dict[str, Any]) -> None:
    known = set(
        db.session.execute(sa.select(Customer.id).where(Customer.id.in_(ids))).scalars().all()
    )
    for missing in sorted(ids - known):
        errors.setdefault("customer_id", []).append(f"no customer {missing}")


def _load_list(schema: Schema, items: Any) -> list[dict[str, Any]]:
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise InvalidRequest("the body must be a non-empty list", {"_schema": ["a list"]})
    if len(items) > MAX_ROWS:
        raise InvalidRequest(f"at most {MAX_ROWS} rows at once", {"_schema": ["too many rows"]})
    try:
        loaded: list[dict[str, Any]] = schema.load(items, many=True)
    except ValidationError as err:
        raise InvalidRequest("invalid rows", err.normalized_messages()) from None
    errors: dict[str, Any] = {}
    _check_customers({row["customer_id"] for row in loaded}, errors)
    if errors:
        raise InvalidRequest("unknown customers", errors)
    return loaded


@blp.route("/customer-surveys", methods=["POST"])
@blp.doc(requestBody={"content": {"application/json": {"schema": SurveySchema(many=True)}}})
@blp.doc(responses={"201": json_doc("how many surveys were recorded")})
def post_surveys(**_: Any) -> tuple[dict[str, Any], int]:
    """Record customer satisfaction surveys (one object or a list; marketing)."""
    rows = _load_list(SurveySchema(), json_body())
    _allow(roles.SURVEY_WRITERS, "record surveys")
    actor = current_actor().username
    db.session.add_all(CustomerSurvey(**row, created_by=actor) for row in rows)
    db.session.commit()
    return {"recorded": len(rows)}, 201


def _store_volumes(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = {(row["customer_id"], row["period_start"]) for row in rows}
    if len(keys) != len(rows):
        raise InvalidRequest("a customer and period twice", {"_schema": ["duplicate rows"]})
    _allow(VOLUME_WRITERS, "record cooperation volumes")
    actor = current_actor().username
    for row in rows:  # the latest figures of a customer's period replace the earlier ones
        db.session.merge(CooperationVolume(**row, updated_by=actor))
    db.session.commit()
    return {"stored": len(rows)}


@blp.route("/cooperation-volumes", methods=["POST"])
@blp.doc(requestBody={"content": {"application/json": {"schema": VolumeSchema(many=True)}}})
@blp.doc(responses={"200": json_doc("how many rows were stored (a period's row replaced)")})
def post_volumes(**_: Any) -> dict[str, Any]:
    """Record cooperation volumes per customer and period (marketing, integrations)."""
    return _store_volumes(_load_list(VolumeSchema(), json_body()))


@blp.route("/cooperation-volumes/import", methods=["POST"])
@blp.doc(
    requestBody={
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string"}}}
            },
        }
    }
)
@blp.doc(responses={"200": json_doc("how many rows were stored; nothing is stored on an error")})
def import_volumes(**_: Any) -> dict[str, Any]:
    """Import cooperation volumes from CSV: customer_id,period_start,amount,projects,new_areas."""
    upload = request.files.get("file")
    raw = upload.read() if upload is not None else request.get_data()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidRequest("the CSV must be UTF-8", {"file": ["not UTF-8"]}) from None
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not set(CSV_COLUMNS[:3]) <= set(reader.fieldnames):
        raise InvalidRequest(
            "the CSV needs a header with customer_id, period_start and amount",
            {"file": [f"columns: {', '.join(CSV_COLUMNS)}"]},
        )
    items = [
        {k: v for k, v in row.items() if k in CSV_COLUMNS and v not in (None, "")} for row in reader
    ]
    if not items:
        raise InvalidRequest("the CSV has no rows", {"file": ["no rows"]})
    try:
        return _store_volumes(_load_list(VolumeSchema(), items))
    except InvalidRequest as err:
        # Row numbers as a spreadsheet shows them: the header is row 1.
        errors = {
            (str(int(k) + 2) if isinstance(k, int) or str(k).isdigit() else k): v
            for k, v in err.errors.items()
        }
        raise InvalidRequest(err.message, {"rows": errors}) from None
