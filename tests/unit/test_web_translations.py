"""Every text of the pages and of the use cases' messages has its Chinese, and the compiled
catalog matches its source."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "service" / "entrypoints" / "web"
SERVICE = ROOT / "service"
# service/core/texts.py: `msg("...")` is a message key rendered later in the reader's language
KEYWORDS = {**DEFAULT_KEYWORDS, "msg": None}
CATALOG = ROOT / "service" / "translations" / "zh" / "LC_MESSAGES"


def _po() -> dict[str, str]:
    with (CATALOG / "messages.po").open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id and not m.fuzzy}


def test_every_text_of_the_pages_has_a_chinese_translation() -> None:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    used = {msgid for _, _, msgid, _, _ in extract_from_dir(str(WEB), method_map)}
    used |= {
        msgid
        for _, _, msgid, _, _ in extract_from_dir(
            str(SERVICE), [("**.py", "python")], keywords=KEYWORDS
        )
    }
    translated = {k for k, v in _po().items() if v}
    missing = sorted(str(m) for m in used if m not in translated)
    assert not missing, f"add to messages.po (see service/translations/README.md): {missing}"


def test_the_compiled_catalog_is_up_to_date() -> None:
    with (CATALOG / "messages.mo").open("rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    assert compiled == _po()
