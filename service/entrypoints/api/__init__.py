"""The REST API under /api/v1: one flask-smorest blueprint per resource."""

from __future__ import annotations

from flask_smorest import Api

from service.entrypoints.api.common import ErrorSchema


class VisitFlowApi(Api):  # type: ignore[misc]
    """flask-smorest, documenting errors in the service's one error shape."""

    ERROR_SCHEMA = ErrorSchema


rest_api = VisitFlowApi()
