"""A customer's sites on its page: added and removed by those who edit customers."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from service.core.errors import InvalidRequest
from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import _, bp, checkin_flag_labels, translated
from service.entrypoints.web.customers import customer_page
from service.usecases import customers

FIELDS = ("name", "address", "latitude", "longitude", "radius_m")


@bp.context_processor
def checkin_globals() -> dict[str, Any]:
    return {"checkin_flags": checkin_flag_labels}


def _site_form() -> dict[str, Any]:
    """The form's strings as the use case takes them: numbers typed where they parse."""
    data: dict[str, Any] = {}
    for name in FIELDS:
        text = request.form.get(name, "").strip()
        if text == "":
            continue
        if name in ("latitude", "longitude"):
            data[name] = _number(text, float)
        elif name == "radius_m":
            data[name] = _number(text, int)
        else:
            data[name] = text
    return data


def _number(text: str, kind: type) -> Any:
    try:
        return kind(text)
    except ValueError:
        return text  # the schema names it


@bp.route("/customers/<int:customer_id>/sites", methods=["POST"])
@login_required
def site_add(customer_id: int) -> Any:
    try:
        site = customers.add_site(customer_id, _site_form(), web_actor())
    except InvalidRequest as err:
        return customer_page(customer_id, translated(err.errors), request.form, 422)
    flash(_("Site %(name)s added.", name=site["name"]), "success")
    return redirect(url_for("web.customer", customer_id=customer_id) + "#customer-sites")


@bp.route("/customers/<int:customer_id>/sites/<site_id>/delete", methods=["POST"])
@login_required
def site_remove(customer_id: int, site_id: str) -> Any:
    customers.remove_site(customer_id, site_id, web_actor())  # refusals: views.api_refused
    flash(_("Site removed."), "success")
    return redirect(url_for("web.customer", customer_id=customer_id) + "#customer-sites")
