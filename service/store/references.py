"""Fields for numbers the database stores: bounded by what their columns hold, so that a
larger number is refused as a field error (422) rather than overflowing SQL (a 500), and
the OpenAPI document generated from the schema says so."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import fields, validate

from service.store.repository import ID_MAX

INT_MAX = ID_MAX  # an SQL INTEGER column: 32 bits on PostgreSQL
MONEY_MAX = Decimal("9999999999999999.99")  # NUMERIC(18, 2)


def row_id(**kwargs: Any) -> fields.Integer:
    """A reference to a row by its id: a whole number from 1 to the largest id."""
    kwargs.setdefault("strict", True)
    return fields.Integer(validate=validate.Range(min=1, max=ID_MAX), **kwargs)


def count(**kwargs: Any) -> fields.Integer:
    """A count an INTEGER column keeps: 0 or more, at most `INT_MAX`."""
    return fields.Integer(validate=validate.Range(min=0, max=INT_MAX), **kwargs)


def money(**kwargs: Any) -> fields.Decimal:
    """An amount a NUMERIC(18, 2) column keeps: 0 or more, two places."""
    return fields.Decimal(
        places=2,
        validate=validate.Range(min=0, max=MONEY_MAX),
        metadata={"minimum": 0, "maximum": float(MONEY_MAX)},  # numbers in the document
        **kwargs,
    )
