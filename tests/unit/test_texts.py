"""Messages kept as a key and parameters render in the reader's language (service/core/texts.py)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import Babel

from service.core import labels
from service.core.texts import Text, errors, language, msg, render, stored
from service.entrypoints.web import select_locale
from workflows.spec import Label

ROOT = Path(__file__).resolve().parents[2]
PLAN = (
    "%(customer)s (%(tier)s): %(done)s visits done by %(date)s,"
    " %(expected)s expected of %(quota)s this year"
)


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test",
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "service" / "translations"),
    )
    Babel(app, locale_selector=select_locale)
    return app


def plan_behind() -> Text:
    return msg(
        PLAN,
        customer="北方能源集团",
        tier=labels.TIERS["core"],
        done=0,
        date=date(2026, 11, 2),
        expected=10,
        quota=12,
    )


def test_a_text_is_its_english_sentence_and_keeps_its_key_and_parameters() -> None:
    text = plan_behind()
    assert text == "北方能源集团 (Core): 0 visits done by 2026-11-02, 10 expected of 12 this year"
    assert text.key == PLAN
    assert text.as_json()["params"]["tier"] == {"key": "Core", "params": {}}
    assert Text.from_json(text.as_json()).as_json() == text.as_json()


def test_a_page_renders_it_in_chinese_by_default_and_in_english_on_request(app: Flask) -> None:
    stored_json = plan_behind().as_json()  # as a row keeps it
    with app.test_request_context("/supervision/findings"):
        assert language() == "zh"
        assert render(stored_json) == (
            "北方能源集团（核心客户）：截至 2026-11-02 已完成走访 0 次，应完成 10 次（全年 12 次）"
        )
    with app.test_request_context("/supervision/findings?lang=en"):
        assert language() == "en"
        assert render(stored_json) == str(plan_behind())


def test_the_api_renders_in_the_accept_language_and_english_by_default(app: Flask) -> None:
    text = msg("no %(kind)s %(id)s", kind=msg("visit"), id=999)
    with app.test_request_context("/api/v1/visits", headers={"Accept-Language": "zh-CN,zh"}):
        assert language() == "zh"
        assert render(text) == "走访 #999 不存在或您无权查看"
    with app.test_request_context("/api/v1/visits"):
        assert language() == "en"
        assert render(text) == "no visit 999"
    with app.app_context():  # a job, the CLI: English
        assert language() == "en"
        assert render(text) == "no visit 999"


def test_a_definitions_label_parameter_is_shown_in_the_readers_language(app: Flask) -> None:
    text = msg(
        "%(findings)s (%(kind)s #%(id)s, due %(due)s)",
        findings=Label("问题逾期未解决", "Issue overdue"),
        kind=msg("issue"),
        id=4,
        due=date(2026, 11, 20),
    )
    assert text == "Issue overdue (issue #4, due 2026-11-20)"
    with app.test_request_context("/notices/1"):
        assert render(text) == "问题逾期未解决（问题 #4，期限 2026-11-20）"
        assert render(text, "en") == "Issue overdue (issue #4, due 2026-11-20)"


def test_field_errors_render_their_texts_and_translate_fixed_messages(app: Flask) -> None:
    found = {
        "related": [msg("item %(index)s: no %(kind)s %(id)s", index=0, kind=msg("visit"), id=9)],
        "title": ["Missing data for required field."],
        "proposals": {"0": {"customer_id": [msg("no customer %(id)s", id=5)]}},
    }
    with app.test_request_context("/notices/new"):
        assert errors(found) == {
            "related": ["走访 #9 不存在或您无权查看"],
            "title": ["此项必填。"],
            "proposals": {"0": {"customer_id": ["客户 #5 不存在"]}},
        }
    with app.test_request_context("/api/v1/rectification-notices"):
        assert errors(found)["related"] == ["item 0: no visit 9"]


def test_rows_from_before_keep_their_plain_text(app: Flask) -> None:
    with app.test_request_context("/supervision/findings"):
        assert stored(None, "visit #1 visited 2026-11-02") == "visit #1 visited 2026-11-02"
        assert stored(msg("no visit %(id)s", id=1).as_json(), "old") == "走访 #1 不存在或您无权查看"


def test_user_data_is_never_looked_up_in_the_catalog(app: Flask) -> None:
    with app.test_request_context("/notices/1"):
        assert render("Yes") == "Yes"  # a supervisor's free text stays as typed
        assert render(msg("%(kind)s: %(detail)s", kind="Yes", detail="No")) == "Yes：No"


def test_every_chinese_message_uses_only_its_english_placeholders() -> None:
    placeholder = re.compile(r"%\((\w+)\)s")
    path = ROOT / "service" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = [m for m in read_po(f) if m.id and m.string]
    bad = [
        m.id
        for m in catalog
        if not set(placeholder.findall(str(m.string))) <= set(placeholder.findall(str(m.id)))
    ]
    assert not bad


def test_the_engines_messages_with_a_value_are_translated_too(app: Flask) -> None:
    found = {
        "title": ["Longer than maximum length 300."],  # not in the catalog as it is
        "visitors": ["item 1: Not a valid string."],
        "satisfaction": ["Must be greater than or equal to 1 and less than or equal to 5."],
    }
    with app.test_request_context("/issues/new"):
        assert errors(found) == {
            "title": ["长度不能超过 300。"],
            "visitors": ["其中一项：请输入文字。"],
            "satisfaction": ["必须在 1 到 5 之间。"],
        }
    with app.test_request_context("/issues/new?lang=en"):
        assert errors(found) == found
