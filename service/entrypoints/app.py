"""VisitFlow's Flask service: `create_app()` binds the engine to a database, Redis and HTTP."""

from __future__ import annotations

import itertools
import os
import uuid
from contextvars import Token
from pathlib import Path
from typing import Any

from flask import Flask, g, request
from flask.ctx import AppContext as FlaskAppContext

from service.core import config, context, runtime
from service.entrypoints import errors, web
from service.entrypoints.api import rest_api
from service.jobs import outbox
from service.store import repository
from service.store.db import db, migrate
from service.usecases import official_calendar

PUBLIC_ENDPOINTS = frozenset(
    {"meta.create_token", "api-docs.openapi_json", "api-docs.openapi_swagger_ui", "health.healthz"}
)


class _BoundAppContext(FlaskAppContext):
    """Flask's app context that also makes the app's use-case context current: requests,
    CLI commands and RQ jobs all run inside one."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self._context_tokens: list[Token[context.AppContext]] = []

    def push(self) -> None:
        super().push()
        self._context_tokens.append(context.bind(runtime.context_of(self.app)))

    def pop(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().pop(*args, **kwargs)  # teardown still sees the context
        finally:
            context.unbind(self._context_tokens.pop())


class VisitFlow(Flask):
    """The service's Flask app: its app contexts bind its use-case context."""

    def app_context(self) -> FlaskAppContext:
        return _BoundAppContext(self)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    # INSTANCE_PATH: another instance folder (database, Redis, secret, mailbox) than ./instance
    instance = os.environ.get("INSTANCE_PATH") or None
    app = VisitFlow("service", instance_path=instance, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config.from_environment(app.instance_path))
    app.config.from_prefixed_env("VISITFLOW")  # VISITFLOW_<SETTING>=<JSON>: any other setting
    if test_config:
        app.config.update(test_config)
    config.derive(app.config)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    runtime.init_app(app)  # first: every app context from here on binds the app's context

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parents[2] / "migrations"))
    repository.configure_engine(app)
    outbox.init_app(app)  # a use case's commit wakes the outbox
    official_calendar.init_app(app)  # every request follows the loaded official holidays
    rest_api.init_app(app)
    _register_api(app)
    errors.register(app)
    _register_docs_assets(app)
    _register_request_hooks(app)
    web.init_app(app)

    from service.entrypoints import cli

    cli.register(app)
    return app


def _register_api(app: Flask) -> None:
    from service.entrypoints.api import customers, instances, meta
    from service.entrypoints.api.schemas import register_forms
    from service.store.kinds import KINDS

    registry = runtime.registry_of(app)
    register_forms(rest_api.spec, registry, list(KINDS.values()))
    rest_api.register_blueprint(meta.health)
    rest_api.register_blueprint(meta.blp)
    rest_api.register_blueprint(customers.blp)
    for kind in KINDS.values():
        rest_api.register_blueprint(instances.blueprint(kind, registry))
    from service.entrypoints.api import inbox, notifications

    rest_api.register_blueprint(inbox.blp)
    rest_api.register_blueprint(notifications.blp)
    from service.entrypoints.api import calendar

    rest_api.register_blueprint(calendar.blp)
    from service.entrypoints.api import plans

    rest_api.register_blueprint(plans.blp)
    from service.entrypoints.api import holidays

    rest_api.register_blueprint(holidays.blp)
    from service.entrypoints import webhooks as inbound
    from service.entrypoints.api import integrations, subscriptions

    rest_api.register_blueprint(integrations.blp)
    rest_api.register_blueprint(subscriptions.blp)
    from service.entrypoints.api import kpi

    rest_api.register_blueprint(kpi.blp)
    from service.entrypoints.api import meetings, reviews

    rest_api.register_blueprint(reviews.blp)
    rest_api.register_blueprint(meetings.blp)
    # Not in the OpenAPI document: its security is a signature, not a bearer token (README).
    app.register_blueprint(inbound.bp)


def _register_docs_assets(app: Flask) -> None:
    """Swagger UI's files from the swagger-ui-bundle package: the docs work offline."""
    from flask import send_from_directory
    from swagger_ui_bundle import swagger_ui_path

    @app.route("/api/v1/docs/static/<path:filename>")
    def swagger_static(filename: str) -> Any:
        return send_from_directory(swagger_ui_path, filename)

    PUBLIC.add("swagger_static")


PUBLIC = set(PUBLIC_ENDPOINTS)


class _RequestIds:
    """Unique request ids without a system call per request: a random prefix and a counter."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._pid = 0
        self._prefix = ""

    def next(self) -> str:
        if self._pid != os.getpid():
            self._pid, self._prefix = os.getpid(), uuid.uuid4().hex[:12]
        return f"{self._prefix}-{next(self._counter):x}"


_request_ids = _RequestIds()


def _register_request_hooks(app: Flask) -> None:
    from service.entrypoints.auth import authenticate

    @app.before_request
    def identify() -> None:
        g.request_id = request.headers.get("X-Request-ID") or _request_ids.next()
        if request.path.startswith("/api/") and request.endpoint not in PUBLIC:
            g.actor = authenticate()

    @app.after_request
    def tag(response: Any) -> Any:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response
