"""Static files cached for a year under their content hash (`?v=`), and the favicon.

`url_for('web.static', filename=...)` adds `v=<hash of the file's bytes>`; a request whose
`v` is the file's current hash may be kept by the browser for a year without asking again
(`immutable`), since a changed file gets a new URL. Without `v`, or with a stale one, Flask's
default applies: `no-cache` with an ETag, so nobody keeps an old file for long. No build step:
the hash is read from the file (again when its size or time changes).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Response, request, send_from_directory

from service.entrypoints.web.common import bp

LONG_CACHE = "public, max-age=31536000, immutable"
_digests: dict[str, tuple[tuple[int, int], str]] = {}


def static_folder() -> Path:
    assert bp.static_folder is not None
    return Path(bp.static_folder)


def digest(filename: str) -> str | None:
    """The first 16 hex digits of the file's SHA-256; None for no such file (or outside)."""
    folder = static_folder().resolve()
    path = (folder / filename).resolve()
    if folder not in path.parents:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (stat.st_size, stat.st_mtime_ns)
    known = _digests.get(filename)
    if known is not None and known[0] == key:
        return known[1]
    value = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    _digests[filename] = (key, value)
    return value


@bp.url_defaults
def hash_static_urls(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "web.static" and "filename" in values and "v" not in values:
        value = digest(values["filename"])
        if value is not None:
            values["v"] = value


@bp.after_request
def cache_hashed_files(response: Response) -> Response:
    if request.endpoint not in ("web.static", "web.favicon") or response.status_code >= 400:
        return response
    filename = (request.view_args or {}).get("filename", "favicon.ico")
    asked = request.args.get("v")
    if asked is not None and asked == digest(filename):
        response.headers["Cache-Control"] = LONG_CACHE
        response.headers.pop("Expires", None)
    return response


@bp.route("/favicon.ico")
def favicon() -> Response:
    """Where browsers look for an icon by default (pages name theirs in base.html)."""
    return send_from_directory(static_folder(), "favicon.ico")
