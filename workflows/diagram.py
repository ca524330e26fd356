"""Mermaid state diagrams of definitions, with a state highlighted."""

from __future__ import annotations

from workflows.spec import Definition


def mermaid(definition: Definition, current: str | None = None, lang: str = "en") -> str:
    """The definition as a Mermaid `stateDiagram-v2`; `current`, if given, is highlighted."""
    if current is not None and current not in definition.states:
        raise ValueError(f"{definition.name} has no state {current!r}")
    lines = ["stateDiagram-v2"]
    for state in definition.states.values():
        lines.append(f'    state "{_quote(state.label.get(lang))}" as {state.name}')
    lines.append(f"    [*] --> {definition.initial}")
    for t in definition.transitions:
        for source in t.sources:
            lines.append(f"    {source} --> {t.dest}: {_quote(t.label.get(lang))}")
    for state in definition.states.values():
        if state.final:
            lines.append(f"    {state.name} --> [*]")
    if current is not None:
        lines.append("    classDef current fill:#fde68a,stroke:#b45309,stroke-width:3px")
        lines.append(f"    class {current} current")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    # Mermaid labels end at a newline and break on unbalanced quotes or colons in state names.
    return text.replace('"', "'").replace("\n", " ")
