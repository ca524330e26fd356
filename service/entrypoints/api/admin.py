"""What the admins' resources share (`/integrations`, `/subscriptions`): the role check,
their error answers, a secret shown once, and the routes to page, read and remove them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from flask import Response
from marshmallow import Schema, fields

from service.core.errors import Forbidden
from service.entrypoints.api.common import Blueprint, PageArgs, listed, page_schema
from service.entrypoints.auth import current_actor


def admin_only() -> None:
    if current_actor().role != "admin":
        raise Forbidden("only admins manage integrations and subscriptions")


def found_by_admin(lookup: Callable[[Any], Any], key: Any) -> Any:
    """`lookup(key)` (404 if unknown), then the admin check (403): the contract's order."""
    found = lookup(key)
    admin_only()
    return found


def with_secret(created: tuple[dict[str, Any], str]) -> dict[str, Any]:
    """A described account and its new secret, as the one answer that shows it."""
    described, secret = created
    return {**described, "secret": secret}


class SecretOnce(Schema):
    secret = fields.String(metadata={"description": "only in the answer that creates it"})


ADMIN_REFUSALS = {
    401: "missing or bad token",
    403: "not an admin",
    404: "unknown",
    409: "a conflict: the name is taken, or the subscription is not active",
}


def alt_errors(blp: Blueprint, *statuses: int) -> Callable[[Any], Any]:
    """Document the admins' refusals (401, 403, and `statuses`) in the one error shape."""
    return blp.errors({s: ADMIN_REFUSALS[s] for s in (401, 403, *statuses)})


class Cases(Protocol):
    """The use cases of an admins' resource: a page of them, one (404), its removal."""

    def listing(self, page_no: int, per_page: int) -> tuple[list[Any], int]: ...
    def get(self, key: Any) -> Any: ...
    def remove(self, key: Any) -> None: ...


def summary(case: Callable[..., Any]) -> str:
    return (case.__doc__ or "").split("\n\n")[0].replace("\n", " ").strip()


def register(blp: Any, name: str, key: str, schema: type[Schema], cases: Cases) -> None:
    """The routes every admins' resource has at `/{name}s`: a page of them, one of them, its
    removal (a lookup's 404, then the admin check's 403); summaries from the use cases."""
    path = f"/{name}s"
    item = f"{path}/{key}"
    page_of = page_schema(schema, f"{name.title()}Page")

    @blp.route(path, methods=["GET"], endpoint=f"list_{name}s")
    @blp.arguments(PageArgs, location="query", as_kwargs=False)
    @blp.response(200, page_of, description=f"a page of {name}s")
    @alt_errors(blp)
    @blp.doc(summary=summary(cases.listing))
    def list_items(args: dict[str, Any]) -> dict[str, Any]:
        admin_only()
        return listed(cases.listing, args)

    @blp.route(item, methods=["GET"], endpoint=f"get_{name}")
    @blp.response(200, schema, description=f"the {name}")
    @alt_errors(blp, 404)
    @blp.doc(summary=summary(cases.get))
    def get_item(**view_args: Any) -> Any:
        return found_by_admin(cases.get, *view_args.values())

    @blp.route(item, methods=["DELETE"], endpoint=f"delete_{name}")
    @blp.response(204, description=summary(cases.remove))
    @alt_errors(blp, 404)
    @blp.doc(summary=summary(cases.remove))
    def delete_item(**view_args: Any) -> Response:
        found_by_admin(cases.get, *view_args.values())
        cases.remove(*view_args.values())
        return Response(status=204)
