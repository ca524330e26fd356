"""Helpers for the web pages' tests: a signed-in browser-like client with CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from tests.integration.conftest import World

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class Browser:
    """A test client that signs in through the login form and posts forms with their token."""

    def __init__(self, world: World, username: str | None = None, lang: str | None = None):
        self.world = world
        self.client: FlaskClient = world.app.test_client()
        self.token: str | None = None
        if lang:
            self.get(f"/login?lang={lang}")
        if username:
            self.login(username)

    def get(self, path: str, **kw: Any) -> Any:
        r = self.client.get(path, **kw)
        if r.status_code == 200 and "csrf_token" in r.text:
            self.token = csrf_token(r.text)
        return r

    def login(self, username: str, password: str | None = None) -> Any:
        self.get("/login")
        r = self.post("/login", {"username": username, "password": password or f"pw-{username}"})
        if r.status_code == 302:
            self.get(r.headers["Location"])  # as a browser would; the new session's token
        return r

    def post(
        self, path: str, data: dict[str, Any] | None = None, token: str | None = None, **kw: Any
    ) -> Any:
        """POST a form (list values as repeated fields) with the page's CSRF token;
        `token=""` leaves the token out, another string sends that token instead."""
        if self.token is None:
            self.get("/login")
        pairs: list[tuple[str, Any]] = []
        for name, value in (data or {}).items():
            if isinstance(value, list):
                pairs.extend((name, v) for v in value)
            else:
                pairs.append((name, value))
        if token != "":
            pairs.append(("csrf_token", token if token is not None else self.token))
        return self.client.post(path, data=MultiDict(pairs), **kw)
