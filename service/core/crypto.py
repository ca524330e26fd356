"""Webhook secrets: generated here, encrypted at rest with a key derived from SECRET_KEY.

The service must read a secret back to compute an HMAC, so secrets cannot be hashed like API
tokens; they are encrypted with Fernet (AES-128-CBC and HMAC-SHA256). The key is derived from
SECRET_KEY with HKDF; keys in SECRET_KEY_FALLBACKS still decrypt, so that SECRET_KEY can be
rotated (re-encrypt with `flask --app service integrations reencrypt`).
"""

from __future__ import annotations

import base64
import secrets
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from service.core import context

INFO = b"visitflow webhook secrets v1"


def generate() -> str:
    """A new shared secret: 256 random bits, URL-safe text."""
    return "whsec_" + secrets.token_urlsafe(32)


def _key(secret_key: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(derived)


@cache
def _fernet(secret_key: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_key(k)) for k in (secret_key, *fallbacks)])


def _current() -> MultiFernet:
    config = context.config()
    return _fernet(str(config["SECRET_KEY"]), tuple(config.get("SECRET_KEY_FALLBACKS") or ()))


def encrypt(secret: str) -> str:
    return _current().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise RuntimeError(
            "a webhook secret cannot be decrypted: SECRET_KEY changed (list the old one in "
            "SECRET_KEY_FALLBACKS)"
        ) from None


def reencrypt(token: str) -> str:
    """The same secret, encrypted under the current SECRET_KEY."""
    return _current().rotate(token.encode()).decode()
