"""Texts a user reads, kept as a message key and parameters and rendered in the reader's language.

A `Text` is its English sentence (a `str`: logs, the CLI and code that compares strings see
English) that remembers its key, an English gettext msgid with `%(name)s` placeholders whose
Chinese is in `service/translations/zh/LC_MESSAGES/messages.po`, and its parameters. Use cases
raise errors and generate findings and notices as `Text`s; rows keep them as JSON
(`{"key", "params"}`); the entry points render them with `render`, in `language()`:

- a page: the page's language (`?lang=`, then the session; Chinese by default);
- the API (paths under `/api/`): the best of `Accept-Language` among zh and en, English
  when it names neither (the API's own language, as its field names and codes);
- anything else (a job, the CLI): English.

A parameter is shown as it is (user data: names, titles; numbers; dates), unless it is itself
a `Text` (rendered the same way) or a text of the definitions in both languages
(`{"zh": ..., "en": ...}`, the reader's one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import has_request_context, request
from flask_babel import force_locale, get_locale, gettext

LANGUAGES = ("zh", "en")


class Text(str):
    """An English text that keeps its message key and parameters, to render in any language."""

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, /, **params: Any) -> Text:
        params = {name: _plain(value) for name, value in params.items()}
        text = super().__new__(cls, _fill(key, params, "en", _english))
        text.key, text.params = key, params
        return text

    def as_json(self) -> dict[str, Any]:
        """What a row keeps: `{"key", "params"}`, nested texts as the same."""
        return {"key": self.key, "params": {k: _json(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> Text:
        params = {k: _loaded(v) for k, v in (stored.get("params") or {}).items()}
        return cls(str(stored["key"]), **params)


def msg(key: str, /, **params: Any) -> Text:
    """A text to render later: `msg("no visit %(id)s", id=9)` (pybabel extracts `msg`)."""
    return Text(key, **params)


def language() -> str:
    """The reader's language (see the module's docstring): `zh` or `en`."""
    if not has_request_context():
        return "en"
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(LANGUAGES) or "en"
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "zh"


def render(value: Any, lang: str | None = None) -> str:
    """A text in the reader's language (or `lang`): a `Text`, a stored `{"key", "params"}`,
    a `{"zh", "en"}` pair; anything else (a user's text, a number) as it is."""
    lang = lang or language()
    if isinstance(value, Text):
        return _fill(_translate(value.key, lang), value.params, lang, render)
    if isinstance(value, Mapping):
        if "key" in value:
            return render(Text.from_json(value), lang)
        if "en" in value or "zh" in value:
            return str(value.get(lang) or value.get("en") or value.get("zh") or "")
    return "" if value is None else str(value)


def message(value: Any, lang: str | None = None) -> str:
    """An error message in the reader's language: a `Text` rendered, a fixed English text
    (the engine's, marshmallow's) through the catalog, as the pages' texts are."""
    lang = lang or language()
    if isinstance(value, Text) or (isinstance(value, Mapping) and "key" in value):
        return render(value, lang)
    text = str(value)
    translated = _translate(text, lang)
    if translated == text and lang != "en":  # not a msgid: one with a value in it, perhaps
        for pattern, key in VALUED:
            found = pattern.fullmatch(text)
            if found:
                params = found.groupdict()
                if "message" in params:
                    params["message"] = message(params["message"], lang)
                return render(Text(key, **params), lang)
    return translated


def errors(found: Any, lang: str | None = None) -> Any:
    """Per-field errors (nested dicts and lists of messages) in the reader's language."""
    lang = lang or language()
    if isinstance(found, Mapping) and "key" not in found:
        return {name: errors(value, lang) for name, value in found.items()}
    if isinstance(found, list | tuple):
        return [errors(value, lang) for value in found]
    return message(found, lang)


def stored(row_message: Any, fallback: Any) -> str:
    """A row's text: its message rendered if it has one, else the plain text it had before."""
    return render(row_message) if row_message else render(fallback)


def _translate(key: str, lang: str) -> str:
    if lang == "en" or not key or not has_request_context():
        return key
    with force_locale(lang):
        return str(gettext(key))


def _fill(template: str, params: Mapping[str, Any], lang: str, show: Any) -> str:
    if not params:
        return template
    try:
        return template % {name: show(value, lang) for name, value in params.items()}
    except (KeyError, ValueError, TypeError):  # a translation naming another placeholder
        return _listed(template, params)


def _listed(template: str, params: Mapping[str, Any]) -> str:
    """The template with its parameters listed after it: never lose what was said."""
    shown = ", ".join(f"{k}={_english(v, 'en')}" for k, v in params.items())
    return f"{template} ({shown})"


def _english(value: Any, lang: str) -> str:
    if isinstance(value, Mapping) and ("en" in value or "zh" in value):
        return str(value.get("en") or value.get("zh") or "")
    return "" if value is None else str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "zh") and hasattr(value, "en"):  # a definitions' Label
        return {"zh": value.zh, "en": value.en}
    return value


def _json(value: Any) -> Any:
    return value.as_json() if isinstance(value, Text) else value


def _loaded(value: Any) -> Any:
    if isinstance(value, Mapping) and "key" in value:
        return Text.from_json(value)
    return value


# marshmallow's messages that carry a value, as the engine's forms answer them: read back
# into a key and its parameters (the value-free ones are msgids as they are)
VALUED = tuple(
    (re.compile(pattern), text.key)
    for pattern, text in (
        (r"item (?P<index>\d+): (?P<message>.+)", msg("item %(index)s: %(message)s")),
        (r"Longer than maximum length (?P<max>\d+)\.", msg("Longer than maximum length %(max)s.")),
        (
            r"Shorter than minimum length (?P<min>\d+)\.",
            msg("Shorter than minimum length %(min)s."),
        ),
        (
            r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.",
            msg("Length must be between %(min)s and %(max)s."),
        ),
        (r"Must be one of: (?P<choices>.+)\.", msg("Must be one of: %(choices)s.")),
        (
            r"Must be greater than or equal to (?P<min>\S+)"
            r" and less than or equal to (?P<max>\S+)\.",
            msg("Must be greater than or equal to %(min)s and less than or equal to %(max)s."),
        ),
        (
            r"Must be greater than or equal to (?P<min>\S+)\.",
            msg("Must be greater than or equal to %(min)s."),
        ),
        (
            r"Must be less than or equal to (?P<max>\S+)\.",
            msg("Must be less than or equal to %(max)s."),
        ),
    )
)
