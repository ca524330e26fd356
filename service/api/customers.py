"""`/customers` and `/departments`: the reference data visits are about."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from service.api.common import PageArgs, json_body, page, page_schema, paging
from service.auth import current_actor
from service.customers import CRITERIA, TIERS
from service.errors import Forbidden, InvalidRequest, NotFound
from service.extensions import db
from service.models import Customer, Department

CUSTOMER_EDITORS = frozenset({"marketing_staff", "marketing_manager"})


class ContactSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title = fields.String(validate=validate.Length(max=200))
    phone = fields.String(validate=validate.Length(max=50))
    email = fields.Email()


class CustomerSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    criteria = fields.List(fields.String(validate=validate.OneOf(CRITERIA)), load_default=list)
    industry = fields.String(allow_none=True, validate=validate.Length(max=200))
    region = fields.String(allow_none=True, validate=validate.Length(max=200))
    contacts = fields.List(fields.Nested(ContactSchema), load_default=list)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class CustomerListArgs(PageArgs):
    tier = fields.String(validate=validate.OneOf(TIERS))
    region = fields.String()
    industry = fields.String()


class DepartmentSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=50))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    manager = fields.String(allow_none=True)


blp = Blueprint("customers", __name__, url_prefix="/api/v1", description="Key customers")
CustomerPage = page_schema(CustomerSchema, "CustomerPage")
DepartmentPage = page_schema(DepartmentSchema, "DepartmentPage")


def _may_edit() -> None:
    if current_actor().role not in CUSTOMER_EDITORS:
        raise Forbidden("only marketing staff and managers manage key customers")


def _load(schema: Schema, partial: bool = False) -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", {"_schema": ["must be an object"]})
    try:
        loaded: dict[str, Any] = schema.load(body, partial=partial)
    except ValidationError as err:
        raise InvalidRequest("invalid customer fields", err.normalized_messages()) from None
    return loaded


@blp.route("/customers")
class Customers(MethodView):
    @blp.arguments(CustomerListArgs, location="query", as_kwargs=False)
    @blp.response(200, CustomerPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Key customers, filtered by tier, region or industry."""
        page_no, per_page = paging(args)
        where = [getattr(Customer, k) == v for k, v in args.items()]
        total = db.session.execute(
            sa.select(sa.func.count()).select_from(Customer).where(*where)
        ).scalar()
        rows = db.session.execute(
            sa.select(Customer)
            .where(*where)
            .order_by(Customer.id)
            .limit(per_page)
            .offset((page_no - 1) * per_page)
        ).scalars()
        return page(list(rows), int(total or 0), page_no, per_page)  # dumped by CustomerPage

    @blp.doc(requestBody={"content": {"application/json": {"schema": CustomerSchema}}})
    @blp.response(201, CustomerSchema)
    def post(self) -> Customer:
        """Add a key customer (marketing)."""
        fields_ = _load(CustomerSchema())  # 400 and 422 come before 403
        _may_edit()
        customer = Customer(**fields_)
        db.session.add(customer)
        db.session.commit()
        return customer


@blp.route("/customers/<int:customer_id>")
class CustomerItem(MethodView):
    @blp.response(200, CustomerSchema)
    def get(self, customer_id: int) -> Customer:
        """One key customer."""
        customer = db.session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id}")
        return customer

    @blp.doc(requestBody={"content": {"application/json": {"schema": CustomerSchema}}})
    @blp.response(200, CustomerSchema)
    def patch(self, customer_id: int) -> Customer:
        """Update some fields of a key customer (marketing)."""
        customer = db.session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id}")
        changes = _load(CustomerSchema(), partial=True)
        _may_edit()
        for key, value in changes.items():
            setattr(customer, key, value)
        db.session.commit()
        return customer


@blp.route("/departments")
class Departments(MethodView):
    @blp.arguments(PageArgs, location="query", as_kwargs=False)
    @blp.response(200, DepartmentPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Departments by code, with their managers."""
        page_no, per_page = paging(args)
        total = db.session.execute(sa.select(sa.func.count()).select_from(Department)).scalar()
        rows = db.session.execute(
            sa.select(Department)
            .order_by(Department.code)
            .limit(per_page)
            .offset((page_no - 1) * per_page)
        ).scalars()
        return page(list(rows), int(total or 0), page_no, per_page)  # dumped by DepartmentPage
