"""One page of a query's rows and the count of them all: what every list answers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def page_rows(
    conn: Connection, query: sa.Select[Any], page_no: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """Rows `page_no` (from 1) of `query` in its order, `per_page` of them, and the total."""
    total = conn.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    rows = conn.execute(query.limit(per_page).offset((page_no - 1) * per_page)).mappings()
    return [dict(r) for r in rows], int(total.scalar() or 0)
