"""VisitFlow's Flask service, in layers (docs/architecture.md): `core` (vocabulary and
policy) < `store` (tables and queries) < `usecases` and `reports` < `jobs` (RQ) <
`entrypoints` (API, pages, webhooks, CLI). `create_app()` builds the Flask app."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # `flask --app service` and gunicorn's 'service:create_app()' find the factory here;
    # importing a lower layer (the worker's jobs, a unit test of core) does not load the web.
    if name == "create_app":
        from service.entrypoints.app import create_app

        return create_app
    raise AttributeError(name)
