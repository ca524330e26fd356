"""`/customers` and `/departments`: the reference data visits are about."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from service.entrypoints.api.common import (
    TOKEN,
    Blueprint,
    PageArgs,
    before_body,
    entities,
    found,
    listed,
    page_schema,
    worded,
)
from service.entrypoints.auth import current_actor
from service.store.db import db
from service.store.models import Customer, Department
from service.usecases import customers
from service.usecases.customers import TIERS, CustomerSchema


class CustomerListArgs(PageArgs):
    tier = fields.String(validate=validate.OneOf(TIERS))
    region = fields.String()
    industry = fields.String()


CustomerIn = worded(CustomerSchema, "invalid customer fields", "CustomerIn")


class CustomerChanges(CustomerSchema):
    """Some of a customer's fields (a PATCH)."""

    invalid_message = "invalid customer fields"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)


class DepartmentSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=50))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    manager = fields.String(allow_none=True)


blp = Blueprint("customers", __name__, url_prefix="/api/v1", description="Key customers")
CustomerPage = page_schema(CustomerSchema, "CustomerPage")
DepartmentPage = page_schema(DepartmentSchema, "DepartmentPage")


def known_customer(customer_id: int) -> Customer:
    return found(db.session.get(Customer, customer_id), f"no customer {customer_id}")


@blp.route("/customers")
class Customers(MethodView):
    @blp.arguments(CustomerListArgs, location="query", as_kwargs=False)
    @blp.response(200, CustomerPage)
    @blp.errors(TOKEN)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Key customers, filtered by tier, region or industry."""
        filters = {k: v for k, v in args.items() if k not in ("page", "per_page")}
        where = [getattr(Customer, k) == v for k, v in filters.items()]
        return listed(entities(sa.select(Customer).where(*where).order_by(Customer.id)), args)

    @blp.arguments(CustomerIn, as_kwargs=False)
    @blp.response(201, CustomerSchema)
    @blp.errors({**TOKEN, 403: "only marketing adds key customers"})
    def post(self, body: dict[str, Any]) -> Customer:
        """Add a key customer (marketing)."""
        return customers.add(body, current_actor())  # 400 and 422 come before 403


@blp.route("/customers/<int:customer_id>")
class CustomerItem(MethodView):
    @blp.response(200, CustomerSchema)
    @blp.errors({**TOKEN, 404: "no such customer"})
    def get(self, customer_id: int) -> Customer:
        """One key customer."""
        return known_customer(customer_id)

    @before_body(known_customer)  # an unknown customer is 404 whatever the body
    @blp.arguments(CustomerChanges, as_kwargs=False)
    @blp.response(200, CustomerSchema)
    @blp.errors({**TOKEN, 403: "the role may not edit", 404: "no such customer"})
    def patch(self, changes: dict[str, Any], customer_id: int) -> Customer:
        """Update some fields of a key customer (marketing; admin).

        Not the tier: it changes through the yearly tier review
        (`POST /api/v1/tier-reviews`), and a change here is 422 on `tier`, except for an
        admin, whose change is written to the tier history with the reason `set by admin`."""
        return customers.edit(customer_id, changes, current_actor())


SiteIn = worded(customers.SiteSchema, "invalid site fields", "SiteIn")


@blp.route("/customers/<int:customer_id>/sites")
class CustomerSites(MethodView):
    @blp.response(200, customers.SiteSchema(many=True))
    @blp.errors({**TOKEN, 404: "no such customer"})
    def get(self, customer_id: int) -> list[dict[str, Any]]:
        """Where the customer is visited: check-ins are measured against these."""
        return list(known_customer(customer_id).sites or [])

    @before_body(known_customer)
    @blp.arguments(SiteIn, as_kwargs=False)
    @blp.response(201, customers.SiteSchema)
    @blp.errors({**TOKEN, 403: "the role may not edit", 404: "no such customer"})
    def post(self, site: dict[str, Any], customer_id: int) -> dict[str, Any]:
        """Add a site (name, address, latitude, longitude, radius in metres)."""
        return customers.add_site(customer_id, site, current_actor())


@blp.route("/customers/<int:customer_id>/sites/<site_id>")
class CustomerSite(MethodView):
    @blp.response(204)
    @blp.errors({**TOKEN, 403: "the role may not edit", 404: "no such customer or site"})
    def delete(self, customer_id: int, site_id: str) -> None:
        """Remove a site; check-ins measured against it keep their distance."""
        customers.remove_site(customer_id, site_id, current_actor())


@blp.route("/departments")
class Departments(MethodView):
    @blp.arguments(PageArgs, location="query", as_kwargs=False)
    @blp.response(200, DepartmentPage)
    @blp.errors(TOKEN)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Departments by code, with their managers."""
        return listed(entities(sa.select(Department).order_by(Department.code)), args)
