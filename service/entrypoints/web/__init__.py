"""The web pages: server-rendered forms over the same handlers as the API.

A page is one more entry point: it parses a form, calls `service.usecases.handlers` with the
signed-in user as the actor and `source="web"`, and renders what comes back. Nothing here
decides what may be done or seen; the engine and `service.store.visibility` do.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, request, session
from flask.sessions import NullSession, SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

LANGUAGES = ("zh", "en")
csrf = CSRFProtect()
babel = Babel()


def select_locale() -> str:
    """`?lang=en|zh` wins (the blueprint then keeps it in the session); default Chinese."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    kept = session.get("lang")
    return kept if kept in LANGUAGES else "zh"


class PagesSessionInterface(SecureCookieSessionInterface):
    """The signed cookie session for the pages only: the API and the webhooks authenticate
    every request by a token or a signature, so they get an empty session that cannot be
    written (no cookie read, verified or set: a cost the busiest path has no use for)."""

    TOKEN_PATHS = ("/api/", "/webhooks/")

    def open_session(self, app: Flask, request: Request) -> Any:
        if request.path.startswith(self.TOKEN_PATHS):
            return NullSession()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Babel, CSRF, Flask-Login and the pages. CSRF and sign-in are the web blueprint's only:
    the API and the webhooks authenticate every request with a token or a signature."""
    app.session_interface = PagesSessionInterface()
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    from service.entrypoints.web.auth import login_manager

    login_manager.init_app(app, add_context_processor=False)

    from service.entrypoints.web import (  # noqa: F401 - routes
        assets,
        compliance_report,
        customers,
        evaluation,
        evaluations,
        holidays,
        issues,
        meetings,
        notices,
        notifications,
        offline,
        plans,
        reviews,
        search,
        sites,
        supervision,
        views,
        visits,
    )
    from service.entrypoints.web.common import bp

    app.register_blueprint(bp)
