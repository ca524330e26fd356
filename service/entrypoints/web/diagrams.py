"""An instance page's workflow diagram: SVG drawn on the server, once per definition version,
state and language (a definition is frozen once loaded, so its drawing never changes)."""

from __future__ import annotations

from markupsafe import Markup

from workflows.diagram_svg import svg
from workflows.spec import Definition

_drawn: dict[tuple[str, int, str, str], tuple[Definition, Markup]] = {}


def diagram(definition: Definition, state: str, lang: str) -> Markup:
    """The SVG of `definition` with `state` highlighted, in `lang`, drawn once."""
    key = (definition.name, definition.version, state, lang)
    known = _drawn.get(key)
    if known is None or known[0] is not definition:  # another app's registry, tests
        known = (definition, Markup(svg(definition, state, lang)))
        _drawn[key] = known
    return known[1]
