"""Workflow diagrams as SVG, drawn here without a script: states in ranks from top to bottom.

A state's rank is its longest path from the initial state once the edges that go back (found
by a depth-first walk) are set aside. Steps to the next rank in the same column are straight
arrows labelled on their right; steps to another column bend into it; steps that go back, skip
ranks or stay put run in lanes on the left, labelled there. The definitions are small (a few
states), so no crossing minimisation is attempted.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from workflows.spec import Definition

NODE_H, ROW, FONT, SMALL, LINE = 32, 86, 13, 12, 14
PAD, LANE, LANE_GAP, WRAP_EM = 10, 14, 12, 7.5
INK, MUTED, LINE_INK = "#1f2933", "#52606d", "#7b8794"
CURRENT_FILL, CURRENT_STROKE, FILL = "#fde68a", "#b45309", "#ffffff"


def text_em(text: str) -> float:
    """Roughly how wide `text` is, in em: CJK and full-width characters 1, others ~0.56."""
    return sum(1.0 if ord(c) >= 0x2E80 else 0.56 for c in text)


def wrap(text: str, max_em: float = WRAP_EM) -> list[str]:
    """Lines of at most about `max_em`, of even length: broken after CJK punctuation first,
    then between words, CJK text between characters."""
    lines: list[str] = []
    for phrase in _phrases(text):
        if lines and text_em(lines[-1] + phrase) <= max_em:
            lines[-1] += phrase
        else:
            lines += _balanced(phrase, max_em)
    return [line.strip() for line in lines] or [""]


def _phrases(text: str) -> list[str]:
    out = [""]
    for c in text:
        out[-1] += c
        if c in "，、；：。":
            out.append("")
    return [p for p in out if p]


def _balanced(text: str, max_em: float) -> list[str]:
    """Greedy lines at the narrowest width that still needs no more lines than `max_em` does."""
    tokens = _tokens(text)
    fewest = len(_greedy(tokens, max_em))
    limit = text_em(text) / fewest
    while len(lines := _greedy(tokens, limit)) > fewest:
        limit += 0.25
    return lines


def _greedy(tokens: list[str], limit: float) -> list[str]:
    lines = [""]
    for token in tokens:
        if lines[-1].strip() and text_em(lines[-1] + token) > limit:
            lines.append("")
        lines[-1] += token
    return lines


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for c in text:
        if tokens and ord(c) < 0x2E80 and not c.isspace() and ord(tokens[-1][-1]) < 0x2E80:
            tokens[-1] += c  # a word goes on
        elif tokens and c in "，。、；：）":
            tokens[-1] += c  # no line starts with punctuation
        else:
            tokens.append(c)
    return tokens


@dataclass(frozen=True)
class Edge:
    source: str
    dest: str
    label: str


@dataclass
class Box:
    x: float
    y: float
    w: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def mid(self) -> float:
        return self.y + NODE_H / 2


class _Layout:
    def __init__(self, definition: Definition, lang: str) -> None:
        self.d = definition
        self.lang = lang
        self.edges = [
            Edge(s, t.dest, t.label.get(lang)) for t in definition.transitions for s in t.sources
        ]
        self.back = self._back_edges()
        self.rank = self._ranks()
        self.column = self._columns()
        self.kind = {e: self._kind(e) for e in self.edges}
        self.lane = self._lanes()

    # -- structure -----------------------------------------------------------------------
    def _back_edges(self) -> set[Edge]:
        state: dict[str, int] = {}  # 1 on the walk's path, 2 done
        back: set[Edge] = set()

        def walk(node: str) -> None:
            state[node] = 1
            for e in self.edges:
                if e.source != node or e.source == e.dest:
                    continue
                if state.get(e.dest) == 1:
                    back.add(e)
                elif e.dest not in state:
                    walk(e.dest)
            state[node] = 2

        for name in [self.d.initial, *self.d.states]:
            if name not in state:
                walk(name)
        return back

    def _forward(self) -> list[Edge]:
        return [e for e in self.edges if e not in self.back and e.source != e.dest]

    def _ranks(self) -> dict[str, int]:
        rank = dict.fromkeys(self.d.states, 0)
        for _ in self.d.states:  # longest paths in an acyclic graph: |V| rounds suffice
            for e in self._forward():
                rank[e.dest] = max(rank[e.dest], rank[e.source] + 1)
        return rank

    def _columns(self) -> dict[str, int]:
        below = dict.fromkeys(self.d.states, 0)
        for _ in self.d.states:
            for e in self._forward():
                below[e.source] = max(below[e.source], below[e.dest] + 1)
        order = list(self.d.states)
        column: dict[str, int] = {}
        for r in sorted(set(self.rank.values())):
            row = [s for s in order if self.rank[s] == r]
            row.sort(key=lambda s: (-below[s], order.index(s)))
            column.update({s: i for i, s in enumerate(row)})
        return column

    def _kind(self, e: Edge) -> str:
        step = self.rank[e.dest] - self.rank[e.source]
        if e.source != e.dest and e not in self.back and step >= 1:
            if self.column[e.source] != self.column[e.dest]:
                return "bend"
            if step == 1:
                return "down"
        return "lane"

    def _lanes(self) -> dict[Edge, int]:
        spans = sorted(
            (e for e in self.edges if self.kind[e] == "lane"),
            key=lambda e: abs(self.rank[e.dest] - self.rank[e.source]),
        )
        taken: list[list[tuple[int, int]]] = []
        lane: dict[Edge, int] = {}
        for e in spans:
            low, high = sorted((self.rank[e.source], self.rank[e.dest]))
            i = 0
            while i < len(taken) and any(a <= high and low <= b for a, b in taken[i]):
                i += 1
            if i == len(taken):
                taken.append([])
            taken[i].append((low, high))
            lane[e] = i
        return lane

    # -- geometry ------------------------------------------------------------------------
    def geometry(self) -> tuple[dict[str, Box], float, float]:
        widest = max(text_em(s.label.get(self.lang)) for s in self.d.states.values())
        node_w = max(96.0, widest * FONT + 24)
        label_w = max(
            (self.label_width(e) for e in self.edges if self.kind[e] != "lane"), default=0.0
        )
        step = max(node_w + 28, node_w / 2 + 6 + label_w + 12)
        lanes = max(self.lane.values(), default=-1) + 1
        lane_labels = max(
            (LANE * self.lane[e] + self.label_width(e) for e in self.lane), default=0.0
        )
        left = PAD + (LANE_GAP + lane_labels + 6 if lanes else 0)
        top = PAD + 22  # room for the start dot
        boxes = {
            s: Box(left + self.column[s] * step, top + self.rank[s] * ROW, node_w)
            for s in self.d.states
        }
        right = max(b.x + b.w for b in boxes.values())
        right = max(
            [right]
            + [
                boxes[e.source if self.kind[e] == "down" else e.dest].cx + 6 + self.label_width(e)
                for e in self.edges
                if self.kind[e] != "lane"
            ]
        )
        bottom = max(b.y for b in boxes.values()) + NODE_H + PAD
        return boxes, right + PAD, bottom

    def label_width(self, e: Edge) -> float:
        return max(text_em(line) for line in wrap(e.label)) * SMALL


def svg(definition: Definition, current: str | None = None, lang: str = "en") -> str:
    """The definition as an SVG state diagram; `current`, if given, is highlighted."""
    if current is not None and current not in definition.states:
        raise ValueError(f"{definition.name} has no state {current!r}")
    layout = _Layout(definition, lang)
    boxes, width, height = layout.geometry()
    arrow = f"vf-arrow-{definition.name}"
    title = escape(definition.label.get(lang))
    parts = [
        f'<svg class="diagram" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-size="{FONT}" data-definition="{escape(definition.name)}" '
        f'data-version="{definition.version}"><title>{title}</title>',
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" '
        f'fill="{LINE_INK}"/></marker></defs>',
    ]
    parts += _start(boxes[definition.initial], arrow)
    labelled: set[tuple[str, str]] = set()
    taken: list[tuple[float, ...]] = []  # the lane labels' rectangles
    for e in layout.edges:
        parts += _edge(layout, boxes, e, arrow, labelled, taken)
    for name, spec in definition.states.items():
        parts += _node(name, spec.label.get(lang), spec.final, name == current, boxes[name])
    parts.append("</svg>")
    return "".join(parts)


def _start(box: Box, arrow: str) -> list[str]:
    y = box.y - 22
    return [
        f'<circle cx="{box.cx:.1f}" cy="{y + 5:.1f}" r="5" fill="{INK}"/>',
        _line([(box.cx, y + 10), (box.cx, box.y)], arrow),
    ]


def _node(name: str, label: str, final: bool, current: bool, box: Box) -> list[str]:
    fill, stroke, width = (CURRENT_FILL, CURRENT_STROKE, 2.5) if current else (FILL, INK, 1.2)
    opening = '<g class="state current" aria-current="step"' if current else '<g class="state"'
    out = [
        f'{opening} id="diagram-{escape(name)}">',
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{NODE_H}" rx="8" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>',
    ]
    if final:  # a double border, as UML draws the end
        out.append(
            f'<rect x="{box.x + 3:.1f}" y="{box.y + 3:.1f}" width="{box.w - 6:.1f}" '
            f'height="{NODE_H - 6}" rx="6" fill="none" stroke="{stroke}" stroke-width="1"/>'
        )
    weight = ' font-weight="700"' if current else ""
    out.append(
        f'<text x="{box.cx:.1f}" y="{box.mid + FONT * 0.36:.1f}" text-anchor="middle" '
        f'fill="{INK}"{weight}>{escape(label)}</text></g>'
    )
    return out


def _edge(
    layout: _Layout,
    boxes: dict[str, Box],
    e: Edge,
    arrow: str,
    labelled: set[tuple[str, str]],
    taken: list[tuple[float, ...]],
) -> list[str]:
    a, b = boxes[e.source], boxes[e.dest]
    kind = layout.kind[e]
    if kind == "down":
        mid = (a.y + NODE_H + b.y) / 2
        return [_line([(a.cx, a.y + NODE_H), (b.cx, b.y)], arrow), _label(e, a.cx + 6, mid)]
    if kind == "bend":
        side = a.x + a.w if b.cx > a.cx else a.x
        out = [_line([(side, a.mid), (b.cx, a.mid), (b.cx, b.y)], arrow)]
        if (e.dest, e.label) not in labelled:  # several sources, one label
            labelled.add((e.dest, e.label))
            lowest = max(boxes[x.source].mid for x in layout.edges if x.dest == e.dest)
            out.append(_label(e, b.cx + 6, (lowest + b.y) / 2))
        return out
    x = min(box.x for box in boxes.values()) - LANE_GAP - LANE * layout.lane[e]
    y0, y1 = a.mid + 6, b.mid - 6
    return [
        _line([(a.x, y0), (x, y0), (x, y1), (b.x, y1)], arrow),
        _label(e, x - 5, _free_y(layout, e, x - 5, boxes, taken), anchor="end"),
    ]


def _free_y(
    layout: _Layout, e: Edge, x: float, boxes: dict[str, Box], taken: list[tuple[float, ...]]
) -> float:
    """Where a lane's label goes: beside its lane, in the first gap between ranks (nearest
    the middle first) where it overlaps no label placed before it."""
    a, b = boxes[e.source], boxes[e.dest]
    top, bottom = sorted((a.mid, b.mid))
    gaps = sorted(
        {box.y + NODE_H + (ROW - NODE_H) / 2 for box in boxes.values() if top <= box.mid < bottom},
        key=lambda y: abs(y - (top + bottom) / 2),
    ) or [top]
    height = len(wrap(e.label)) * LINE
    width = layout.label_width(e)
    for y in gaps:
        rect = (x - width, y - height / 2, x, y + height / 2)
        if not any(
            r[0] < rect[2] and rect[0] < r[2] and r[1] < rect[3] and rect[1] < r[3] for r in taken
        ):
            break
    taken.append((x - width, y - height / 2, x, y + height / 2))
    return y


def _line(points: list[tuple[float, float]], arrow: str) -> str:
    d = "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in points)
    return (
        f'<path d="{d}" fill="none" stroke="{LINE_INK}" stroke-width="1.4" '
        f'marker-end="url(#{arrow})"/>'
    )


def _label(e: Edge, x: float, y: float, anchor: str = "start") -> str:
    lines = wrap(e.label)
    first = y - (len(lines) - 1) * LINE / 2 + SMALL * 0.36
    spans = "".join(
        f'<tspan x="{x:.1f}" y="{first + i * LINE:.1f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<text class="edge" font-size="{SMALL}" text-anchor="{anchor}" fill="{MUTED}" '
        f'stroke="{FILL}" stroke-width="4" stroke-linejoin="round" paint-order="stroke">'
        f"{spans}</text>"
    )
