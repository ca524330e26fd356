"""The REST API under /api/v1: one flask-smorest blueprint per resource."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api
from werkzeug.routing import IntegerConverter

from service.entrypoints.api.common import ErrorSchema
from service.store.repository import ID_MAX


class IdConverter(IntegerConverter):
    """`<int:...>` in a path: at most the largest id a column holds, so that a larger number
    is an unknown id (404) rather than a database error, and the document says so."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", ID_MAX)
        super().__init__(url_map, *args, **kwargs)


class VisitFlowApi(Api):  # type: ignore[misc]
    """flask-smorest, documenting errors in the service's one error shape."""

    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app: Flask, *args: Any, **kwargs: Any) -> None:
        app.url_map.converters["int"] = IdConverter  # before any blueprint adds its rules
        super().init_app(app, *args, **kwargs)


rest_api = VisitFlowApi()
