"""The `X-VisitFlow-Signature: t=SECONDS,v1=HEX` header, both ways.

HEX is the lowercase hex HMAC-SHA256 of `SECONDS + "." + raw body` with a shared secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

HEADER = "X-VisitFlow-Signature"
TOLERANCE_SECONDS = 300


class BadSignature(Exception):
    """Why a signature header is refused; the message is safe to show the sender."""


def digest(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode(), hashlib.sha256)
    mac.update(body)
    return mac.hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value for `body` sent at `timestamp` (seconds since the epoch)."""
    return f"t={timestamp},v1={digest(secret, timestamp, body)}"


@dataclass(frozen=True, slots=True)
class Parsed:
    timestamp: int
    signatures: tuple[str, ...]


def parse(header: str | None) -> Parsed:
    """`t=SECONDS,v1=HEX[,v1=HEX...]`; other schemes are ignored, as senders may add some."""
    if not header:
        raise BadSignature(f"missing {HEADER} header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        raise BadSignature(f"malformed {HEADER} header: expected t=SECONDS,v1=HEX")
    return Parsed(timestamp, tuple(signatures))


def check_time(parsed: Parsed, now: float, tolerance: float = TOLERANCE_SECONDS) -> None:
    """Refuse a timestamp more than `tolerance` seconds from `now`, either way (replays)."""
    if abs(now - parsed.timestamp) > tolerance:
        raise BadSignature(f"signature timestamp is more than {tolerance:g} s from now")


def verify(parsed: Parsed, body: bytes, secrets: Iterable[str]) -> None:
    """Accept if any signature matches `body` under any of `secrets` (two during a rotation)."""
    ok = False
    for secret in secrets:
        expected = digest(secret, parsed.timestamp, body)
        for given in parsed.signatures:
            # no short-circuit: every comparison runs in constant time, all of them run
            ok |= hmac.compare_digest(expected, given)
    if not ok:
        raise BadSignature("signature does not match")
