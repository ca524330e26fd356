"""YAML read with the line of every key path, so that problems can point at lines."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from workflows.errors import Problem


class LocatedYaml:
    """A parsed YAML document plus the line of each key path (`a.b[2].c`)."""

    def __init__(self, file: str, data: Any, lines: dict[str, int]) -> None:
        self.file = file
        self.data = data
        self.lines = lines

    def line(self, path: str) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.lines.get("", 1)


def child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def read_yaml(text: str, file: str) -> tuple[LocatedYaml | None, list[Problem]]:
    """Parse `text`; return the document, or the syntax problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        return None, [Problem(file, line, "", f"invalid YAML: {err.problem or err}")]
    except yaml.YAMLError as err:
        return None, [Problem(file, 1, "", f"invalid YAML: {err}")]
    lines: dict[str, int] = {}
    problems: list[Problem] = []
    constructor = SafeConstructor()

    def build(node: Node, path: str) -> Any:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = (
                    constructor.construct_object(key_node)
                    if isinstance(key_node, ScalarNode)
                    else None
                )
                if not isinstance(key, str | int):
                    problems.append(
                        Problem(file, key_node.start_mark.line + 1, path, "keys must be text")
                    )
                    continue
                sub = child(path, str(key))
                lines[sub] = key_node.start_mark.line + 1
                if key in out:
                    problems.append(Problem(file, lines[sub], sub, "duplicate key"))
                out[key] = build(value_node, sub)
            return out
        if isinstance(node, SequenceNode):
            return [build(item, child(path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return constructor.construct_object(node)

    if root is None:
        return LocatedYaml(file, None, {"": 1}), []
    data = build(root, "")
    return LocatedYaml(file, data, lines), problems
