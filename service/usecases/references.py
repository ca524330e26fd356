"""What a creation or a transition names must exist and be visible: customers, visits,
users, departments, related instances. Each problem is a field error (422); an issue raised
from where the actor may not raise it is a refusal (403), reported after the field errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.core.errors import Forbidden, InvalidRequest
from service.core.texts import Text, msg
from service.store import people, visibility
from service.store import repository as repo
from service.store.kinds import ISSUE, KINDS, RECTIFICATION, VISIT, Kind
from service.store.models import Customer, Department
from workflows import Actor, InvalidData
from workflows.spec import FieldSpec, FieldType


def check_creation(
    conn: Connection,
    kind: Kind,
    attrs: dict[str, Any],
    actor: Actor,
    related: Any,
    fields: tuple[FieldSpec, ...] = (),
) -> None:
    """Check what a creation names; `fields`: the creation form's, for the people it names."""
    errors: dict[str, list[str]] = {}
    refusal = None
    _check_people(conn, fields, attrs, errors)
    if kind is VISIT:
        if not _exists(conn, Customer.__table__, "id", attrs["customer_id"]):
            errors["customer_id"] = [msg("no customer %(id)s", id=attrs["customer_id"])]
    elif kind is ISSUE:
        refusal = _check_issue_origin(conn, attrs, actor, errors)
    elif kind is RECTIFICATION:
        if not _exists(conn, Department.__table__, "code", attrs["department"]):
            errors["department"] = [msg("no department %(code)s", code=attrs["department"])]
        attrs["related"] = _check_related(conn, related, actor, errors)
    if errors:
        raise InvalidRequest(msg("invalid %(kind)s fields", kind=kind.title), errors)
    if refusal:  # the contract checks the fields (422) before the caller's right (403)
        raise Forbidden(refusal)


def _check_issue_origin(
    conn: Connection, attrs: dict[str, Any], actor: Actor, errors: dict[str, list[str]]
) -> Text | None:
    """Check where an issue comes from; return why the actor may not raise it, if so."""
    visit_id, customer_id = attrs.get("visit_id"), attrs.get("customer_id")
    if visit_id is None and customer_id is None:
        errors["visit_id"] = [msg("give visit_id or customer_id")]
        return None
    if visit_id is not None:
        visit = repo.load(VISIT, visit_id, conn)
        if visit is None or not visibility.can_see(VISIT, visit, actor, conn):
            errors["visit_id"] = [msg("no visit %(id)s", id=visit_id)]
            return None
        if customer_id is not None and customer_id != visit["customer_id"]:
            errors["customer_id"] = [
                msg(
                    "visit %(id)s is with customer %(customer)s",
                    id=visit_id,
                    customer=_customer_name(conn, visit["customer_id"]),
                )
            ]
        attrs["customer_id"] = visit["customer_id"]
        if actor.role in ("technical", "after_sales") and actor.username not in visit["visitors"]:
            return msg("only marketing or a visitor of the visit may raise its issues")
    elif not _exists(conn, Customer.__table__, "id", customer_id):
        errors["customer_id"] = [msg("no customer %(id)s", id=customer_id)]
    if visit_id is None and actor.role in ("technical", "after_sales"):
        return msg("technical and after-sales staff raise issues from a visit they made")
    return None


def _check_related(
    conn: Connection, related: Any, actor: Actor, errors: dict[str, list[str]]
) -> list[Any]:
    if related is None:
        return []
    if not isinstance(related, list):
        errors["related"] = [msg("must be a list of {workflow, id}")]
        return []
    out: list[dict[str, Any]] = []
    for i, item in enumerate(related):
        ok = (
            isinstance(item, dict)
            and item.get("workflow") in ("visit", "issue")
            and isinstance(item.get("id"), int)
            and not isinstance(item.get("id"), bool)
        )
        if not ok:
            errors.setdefault("related", []).append(
                msg("item %(index)s: must be {workflow, id}", index=i)
            )
            continue
        target = KINDS[item["workflow"]]
        row = repo.load(target, item["id"], conn)
        if row is None or not visibility.can_see(target, row, actor, conn):
            errors.setdefault("related", []).append(
                msg("item %(index)s: no %(kind)s %(id)s", index=i, kind=target.title, id=item["id"])
            )
            continue
        out.append({"workflow": item["workflow"], "id": item["id"]})
    return out


def _customer_name(conn: Connection, customer_id: int) -> str:
    c = Customer.__table__
    name = conn.execute(sa.select(c.c.name).where(c.c.id == customer_id)).scalar()
    return str(name) if name is not None else str(customer_id)


def _exists(conn: Connection, table: sa.Table, column: str, value: Any) -> bool:
    if isinstance(value, int) and not repo.holds_id(value):
        return False
    return (
        conn.execute(sa.select(table.c[column]).where(table.c[column] == value)).first() is not None
    )


def _check_users(
    conn: Connection,
    names: list[str],
    field: str,
    errors: dict[str, list[str]],
    spec: FieldSpec | None = None,
) -> None:
    """The people exist and are active, and (with `spec`) are of the roles and departments
    the field declares: a visitor is never an administrator or a manager of the company."""
    if not names:
        return
    found = {n: people.person(conn, n) for n in dict.fromkeys(names)}
    known = {n: p for n, p in found.items() if p is not None and p.active}
    unknown = [n for n in names if n not in known]
    if unknown:
        errors.setdefault(field, []).append(
            msg("unknown users: %(names)s", names=", ".join(unknown))
        )
    if spec is None:
        return
    barred = [
        n for n in names if n in known and not spec.eligible(known[n].role, known[n].department)
    ]
    if barred:
        errors.setdefault(field, []).append(
            msg("not eligible for this field: %(names)s", names=", ".join(barred))
        )


def _check_people(
    conn: Connection,
    fields: tuple[FieldSpec, ...],
    values: Mapping[str, Any],
    errors: dict[str, list[str]],
) -> None:
    for f in fields:
        value = values.get(f.name)
        if value is None:
            continue
        if f.type is FieldType.USER:
            _check_users(conn, [value], f.name, errors, f)
        elif f.type is FieldType.USERS:
            _check_users(conn, list(value), f.name, errors, f)


def check_references(
    fields: tuple[FieldSpec, ...], values: Mapping[str, Any], conn: Connection
) -> None:
    """Users and departments named in a form must exist; people must be eligible."""
    errors: dict[str, list[str]] = {}
    _check_people(conn, fields, values, errors)
    for f in fields:
        value = values.get(f.name)
        if (
            value is not None
            and f.type is FieldType.DEPARTMENT
            and not _exists(conn, Department.__table__, "code", value)
        ):
            errors[f.name] = [msg("no department %(code)s", code=value)]
    if errors:
        raise InvalidData(errors)
