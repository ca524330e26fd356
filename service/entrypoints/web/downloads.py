"""What the pages' downloads share: their language (the page's; `?lang=` checked) and the
response (service/reports/exports.py writes the files)."""

from __future__ import annotations

from flask import Response, abort, make_response, request

from service.core import texts
from service.entrypoints.web.common import _, error_page
from service.reports import exports


def export_language() -> str:
    """The page's language; an unknown `?lang=` answers the error page (422) naming it."""
    asked = request.args.get("lang")
    if asked is not None and asked not in texts.LANGUAGES:
        abort(make_response(error_page(422, _("The parameter lang must be zh or en."))))
    return texts.language()


def download(content: bytes, mimetype: str, name: str, localized: str) -> Response:
    return Response(content, mimetype=mimetype, headers=exports.headers(name, localized))
