"""Webhook secrets at rest (service/core/crypto.py), keyed by the current context's settings."""

from __future__ import annotations

import pytest

from service.core import context, crypto
from service.core.context import AppContext
from workflows import Registry


def test_a_secret_decrypts_under_its_key_and_after_a_rotation_through_the_fallback(
    registry: Registry,
) -> None:
    with context.bound(AppContext(registry, config={"SECRET_KEY": "old"})):
        token = crypto.encrypt("whsec_abc")
        assert crypto.decrypt(token) == "whsec_abc"
    rotated = {"SECRET_KEY": "new", "SECRET_KEY_FALLBACKS": ["old"]}
    with context.bound(AppContext(registry, config=rotated)):
        assert crypto.decrypt(token) == "whsec_abc"
    with (
        context.bound(AppContext(registry, config={"SECRET_KEY": "new"})),
        pytest.raises(RuntimeError, match="SECRET_KEY_FALLBACKS"),
    ):
        crypto.decrypt(token)
