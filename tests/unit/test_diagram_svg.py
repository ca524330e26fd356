"""SVG workflow diagrams: every state and step drawn and labelled, ranks top to bottom, the
current state highlighted, labels wrapped and kept apart, well-formed and escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from workflows.__main__ import main
from workflows.diagram_svg import svg, text_em, wrap
from workflows.registry import Registry
from workflows.spec import Label

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
NS = {"s": "http://www.w3.org/2000/svg"}


def _boxes(root: ET.Element) -> dict[str, tuple[float, float]]:
    """Each state's box: (x, y) of its rectangle, by state name."""
    out = {}
    for g in root.iterfind("s:g", NS):
        rect = g.find("s:rect", NS)
        assert rect is not None
        out[g.attrib["id"].removeprefix("diagram-")] = (
            float(rect.get("x", 0)),
            float(rect.get("y", 0)),
        )
    return out


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{{{NS['s']}}}text")]


@pytest.mark.parametrize("name", ["visit", "issue", "rectification"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_state_and_step_is_drawn_and_labelled(
    registry: Registry, name: str, lang: str
) -> None:
    definition = registry.get(name).definition
    root = ET.fromstring(svg(definition, None, lang))  # well-formed XML
    assert set(_boxes(root)) == set(definition.states)
    texts = " ".join(_texts(root)).replace(" ", "")
    for state in definition.states.values():
        assert state.label.get(lang).replace(" ", "") in texts
    for t in definition.transitions:
        assert t.label.get(lang).replace(" ", "") in texts
    arrows = root.findall(".//s:path[@marker-end]", NS)
    edges = sum(len(t.sources) for t in definition.transitions)
    assert len(arrows) == edges + 1  # and the start arrow


def test_states_go_down_in_the_order_of_the_steps(registry: Registry) -> None:
    boxes = _boxes(ET.fromstring(svg(registry.get("visit").definition, None, "zh")))
    ys = [boxes[s][1] for s in ("planned", "prepared", "visited", "recorded", "reported")]
    assert ys == sorted(ys) and len(set(ys)) == 5
    assert boxes["cancelled"][0] > boxes["visited"][0]  # beside the main line, not on it


def test_only_the_current_state_is_highlighted(registry: Registry) -> None:
    drawing = svg(registry.get("visit").definition, "recorded", "en")
    assert re.findall(
        r'<g class="state current" aria-current="step" id="diagram-(\w+)"', drawing
    ) == ["recorded"]
    assert "current" not in svg(registry.get("visit").definition, None, "en")


def test_an_unknown_state_is_refused(registry: Registry) -> None:
    with pytest.raises(ValueError, match="lost"):
        svg(registry.get("visit").definition, "lost")


def test_labels_beside_the_lanes_do_not_overlap(registry: Registry) -> None:
    """Going back (resolved → assigned) and skipping ahead (raised → confirmed) both run left
    of the states, over the same ranks: their labels sit at different heights."""
    root = ET.fromstring(svg(registry.get("issue").definition, None, "zh"))
    lanes = [t for t in root.iter(f"{{{NS['s']}}}text") if t.get("text-anchor") == "end"]
    assert len(lanes) == 2
    spans = []
    for t in lanes:
        ys = [float(s.attrib["y"]) for s in t.iterfind("s:tspan", NS)]
        spans.append((min(ys) - 12, max(ys)))
    (a0, a1), (b0, b1) = spans
    assert a1 < b0 or b1 < a0


def test_text_is_escaped(registry: Registry) -> None:
    definition = registry.get("issue").definition
    raised = replace(definition.states["raised"], label=Label(zh="<提出>", en="A & B"))
    drawing = svg(replace(definition, states={**definition.states, "raised": raised}), None, "en")
    assert "A &amp; B" in drawing and "<提出>" not in drawing
    ET.fromstring(drawing)


def test_labels_wrap_evenly_after_punctuation_first() -> None:
    assert wrap("客户不满意，重新处理") == ["客户不满意，", "重新处理"]
    assert wrap("提交问题解决书面报告", 9.0) == ["提交问题解", "决书面报告"]
    assert wrap("Send record back for rework", 9.0) == ["Send record back", "for rework"]
    assert wrap("取消走访") == ["取消走访"]
    assert all(text_em(line) <= 9.5 for line in wrap("Assign (enter in tracking ledger)", 9.0))


def test_the_cli_prints_svg(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["diagram", "visit", "--state", "prepared", "--format", "svg", "--dir", str(DEFINITIONS)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith('<svg class="diagram"') and 'id="diagram-prepared"' in out
