"""`/customers` and `/departments`: the reference data visits are about."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.core.errors import NotFound
from service.entrypoints.api.common import PageArgs, json_body, page, page_schema, paging
from service.entrypoints.auth import current_actor
from service.store.db import db
from service.store.models import Customer, Department
from service.usecases import customers
from service.usecases.customers import TIERS, CustomerSchema


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
        return customers.add(json_body(), current_actor())  # 400 and 422 come before 403


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
        """Update some fields of a key customer (marketing; admin).

        Not the tier: it changes through the yearly tier review
        (`POST /api/v1/tier-reviews`), and a change here is 422 on `tier`, except for an
        admin, whose change is written to the tier history with the reason `set by admin`."""
        return customers.edit(customer_id, json_body(), current_actor())


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
