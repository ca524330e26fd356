"""The app binds its use-case context (service/core/context.py) in every app context it
pushes: requests, commands and jobs run in it, and it is gone when they end."""

from __future__ import annotations

from flask import Flask

from service.core import context, runtime


def test_an_app_context_binds_the_apps_context_and_unbinds_it(app: Flask) -> None:
    assert context.current_or_none() is None
    with app.app_context():
        assert context.current() is runtime.context_of(app)
        assert context.config() is app.config
        with app.app_context():  # nested, as a job run from a request would be
            assert context.current() is runtime.context_of(app)
        assert context.current() is runtime.context_of(app)
    assert context.current_or_none() is None


def test_a_request_runs_in_the_apps_context(app: Flask) -> None:
    seen: list[object] = []

    @app.get("/_context_probe")
    def probe() -> str:
        seen.append(context.current())
        return "ok"

    assert app.test_client().get("/_context_probe").status_code == 200
    assert seen == [runtime.context_of(app)]
    assert context.current_or_none() is None


def test_setting_the_apps_clock_moves_its_contexts_clock(app: Flask) -> None:
    moment = runtime.context_of(app).now().replace(year=2030)
    runtime.set_clock(app, lambda: moment)
    with app.app_context():
        assert context.now() == moment
