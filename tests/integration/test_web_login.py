"""Web sessions through Flask-Login: what a sign-in keeps, what a sign-out and a stale user drop."""

from __future__ import annotations

from tests.integration.conftest import World
from tests.integration.web import Browser


def session_of(b: Browser) -> dict[str, object]:
    with b.client.session_transaction() as session:
        return dict(session)


def test_anonymous_visitors_are_sent_to_sign_in_with_the_page_asked_for(world: World) -> None:
    b = Browser(world)
    r = b.client.get("/visits?state=planned")
    assert r.status_code == 302
    assert r.headers["Location"] == "/login?next=%2Fvisits%3Fstate%3Dplanned"
    assert "_flashes" not in session_of(b)  # no message flashed on the way


def test_signing_in_starts_a_fresh_session_that_keeps_only_the_language(world: World) -> None:
    b = Browser(world, lang="en")
    with b.client.session_transaction() as session:
        session["left_over"] = "from before signing in"
    b.login("mary")
    kept = session_of(b)
    assert kept["_user_id"] == "mary" and kept["lang"] == "en"
    assert "left_over" not in kept


def test_signing_out_drops_the_user_and_keeps_the_language(world: World) -> None:
    b = Browser(world, "mary", lang="en")
    assert b.post("/logout").status_code == 302
    left = session_of(b)
    assert "_user_id" not in left and left["lang"] == "en"
    assert b.get("/visits").status_code == 302


def test_a_deactivated_user_leaves_the_session(world: World) -> None:
    from service.store.db import db
    from service.store.models import User

    b = Browser(world, "mary")
    assert session_of(b)["_user_id"] == "mary"
    with world.app.app_context():
        db.session.query(User).filter_by(username="mary").update({"active": False})
        db.session.commit()
    r = b.get("/visits")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=")
    assert "_user_id" not in session_of(b)


def test_the_api_ignores_a_signed_in_session_cookie(world: World) -> None:
    b = Browser(world, "mary")
    r = b.client.get("/api/v1/visits")
    assert r.status_code == 401
    assert "Set-Cookie" not in r.headers  # the API's session is never opened nor written


def test_a_session_holding_a_user_id_is_that_user_signed_in(world: World) -> None:
    """What bench/kpi.py relies on: Flask-Login's `_user_id` is the username."""
    client = world.app.test_client()
    assert client.get("/visits").status_code == 302
    with client.session_transaction() as session:
        session["_user_id"] = "mary"
    assert client.get("/visits").status_code == 200
