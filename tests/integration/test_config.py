"""Configuration comes from one place (service/core/config.py): the environment's named
variables, then VISITFLOW_<SETTING> (JSON) for any other setting, then a test's overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import create_app


def test_a_prefixed_variable_sets_any_setting_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("VISITFLOW_WEB_PER_PAGE", "5")
    monkeypatch.setenv("VISITFLOW_SESSION_COOKIE_SECURE", "true")
    app = create_app()
    assert app.config["WEB_PER_PAGE"] == 5
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_the_pages_time_zone_follows_the_service_s_unless_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TIMEZONE", "Asia/Urumqi")
    assert create_app().config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Urumqi"
    app = create_app({"BABEL_DEFAULT_TIMEZONE": "UTC"})
    assert app.config["BABEL_DEFAULT_TIMEZONE"] == "UTC"
