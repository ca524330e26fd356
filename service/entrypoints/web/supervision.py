"""The supervision group's findings (regulation 7(一)2), each with the notice it led to.

Seen by the roles that see every instance (supervision, management, marketing, admin), as
`GET /api/v1/supervision/findings`; only supervision may issue a notice from a finding.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template, request

from service.core import roles, runtime
from service.core.texts import stored
from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import (
    _,
    bp,
    department_options,
    error_page,
    page_args,
    page_count,
    page_of,
)
from service.entrypoints.web.notices import finding_kind_label
from service.jobs import schedule
from service.store.kinds import RECTIFICATION
from service.store.models import Finding

findings_t = Finding.__table__
KINDS = ("plan_execution", "record_completeness", "issue_timeliness")


@bp.route("/supervision/findings")
@login_required
def findings() -> Any:
    actor = web_actor()
    if actor.role not in roles.SEE_ALL:
        return error_page(403, _("Findings are for supervision, management and marketing."))
    kind = request.args.get("kind", "")
    where = [findings_t.c.kind == kind] if kind in KINDS else []
    if request.args.get("open") == "true":
        where.append(findings_t.c.notice_id.is_(None))
    page_no, per_page = page_args()
    query = sa.select(findings_t).where(*where).order_by(findings_t.c.id.desc())
    rows, total = page_of(query, page_no, per_page)
    return render_template(
        "web/supervision_findings.html",
        rows=[{**r, "text": stored(r["message"], r["detail"])} for r in rows],
        total=total,
        page=page_no,
        pages=page_count(total, per_page),
        kinds=[(k, finding_kind_label(k)) for k in KINDS],
        kind_label=finding_kind_label,
        department_names=dict(department_options()),
        may_issue=runtime.registry().get(RECTIFICATION.workflow).may_create(actor),
        schedule=_schedule(),
    )


def _schedule() -> dict[str, Any]:
    """When the checks run, for the page: every N seconds, or daily at SUPERVISION_AT on
    working days with the next such moment (the worker keeps the last run in Redis, which
    pages do not read: on the daily schedule the next run follows from now alone)."""
    interval = int(current_app.config.get("SUPERVISION_INTERVAL") or 0)
    if interval > 0:
        return {"interval": interval}
    return {
        "at": current_app.config["SUPERVISION_AT"],
        "next": schedule.next_run(runtime.now()),
    }
