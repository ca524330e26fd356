"""The use cases' refusals, without HTTP: each entry point says them its own way (the
API's status and JSON, a page's message, the CLI's error line; service/entrypoints/errors.py).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal with its message and, where useful, per-field messages.

    Messages are `service.core.texts.Text`s (or fixed English msgids): each entry point renders
    them in its reader's language (`texts.message`, `texts.errors`)."""

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class Unauthorized(DomainError):
    pass


class BadRequest(DomainError):
    pass


class Forbidden(DomainError):
    pass


class NotFound(DomainError):
    pass


class InvalidRequest(DomainError):
    pass


class Conflict(DomainError):
    pass
