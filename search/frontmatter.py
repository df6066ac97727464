"""The front matter's YAML, as values and the line each value (and each list item) is on.

Procedures are written in a small part of YAML: `key: value` lines, and lists either as
`[a, "b c"]` or as `- item` lines. Those are read here directly (`read_simple`); anything else
(block scalars, nested mappings, anchors, escapes, comments after a value, a value that YAML
would read as a number, a boolean or a null, and every error) goes to PyYAML (`read_yaml`), which
gives the same values for the lines `read_simple` accepts, so which reader ran never shows.
The direct reader exists because every check and every site build reads every file's front matter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

STR_TAG = "tag:yaml.org,2002:str"
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?")
_ITEM = re.compile(r"( *)- +(.*)")
# Characters that start something other than a plain scalar (YAML 1.1 indicators).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_ITEM = re.compile(r' *("[^"\\]*"|\'(?:[^\']|\'\')*\'|[^,\[\]{}#:"\' ][^,\[\]{}#:]*?) *(,|$)')


@dataclass
class FrontMatter:
    values: dict[str, Any]
    lines: dict[str, int]  # each field's value: its line in the file
    item_lines: dict[str, list[int]] = field(default_factory=dict)  # each item of a list value

    def line(self, key: str) -> int:
        """Where a problem with the field is reported: its line, or the file's first for a missing field."""
        return self.lines.get(key, 1)


@cache
def loader_class() -> type:
    """A safe YAML loader (libyaml when available) that keeps dates as text, so `reviewed` can be
    checked with a clear message. Built on first use: `kb search` never needs YAML."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resolvers = {
        first: [(tag, regexp) for tag, regexp in found if tag != "tag:yaml.org,2002:timestamp"]
        for first, found in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return type("ProcedureLoader", (base,), {"yaml_implicit_resolvers": resolvers})


def read_yaml(source: str, first_line: int, error: Callable[[int, str], None]) -> FrontMatter | None:
    """Any YAML; problems go to `error(line, message)`. `first_line`: the file line of the source's first line."""
    import yaml

    loader = loader_class()(source)
    try:
        node = loader.get_single_node()
        if node is None:
            error(first_line, "front matter is empty: add at least title and tags")
            return None
        if not isinstance(node, yaml.MappingNode):
            error(node.start_mark.line + first_line, "front matter must be 'field: value' lines")
            return None
        lines: dict[str, int] = {}
        item_lines: dict[str, list[int]] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in lines:
                error(key_node.start_mark.line + first_line, f"field '{key}' is given twice")
            lines[key] = value_node.start_mark.line + first_line
            if isinstance(value_node, yaml.SequenceNode):
                item_lines[key] = [item.start_mark.line + first_line for item in value_node.value]
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + first_line if mark is not None else first_line
        reason = str(getattr(exc, "problem", None) or str(exc).splitlines()[0])
        # The commonest editor mistakes, worded the same whichever YAML parser is installed.
        source_lines = source.split("\n")
        bad_line = source_lines[line - first_line] if 0 <= line - first_line < len(source_lines) else ""
        if "mapping values" in reason:
            reason = "a value contains ': ' (put the whole value in quotes)"
        elif "\t" in bad_line[: len(bad_line) - len(bad_line.lstrip())]:
            reason = "a tab is used for indentation; indent with spaces"
        error(line, f"front matter is not valid YAML: {reason}")
        return None
    finally:
        loader.dispose()
    return FrontMatter({str(k): v for k, v in data.items()}, lines, item_lines)


def read_simple(source: str, first_line: int) -> FrontMatter | None:
    """The front matter when every line is one of the simple forms, else None (read it with `read_yaml`)."""
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    item_lines: dict[str, list[int]] = {}
    key = ""  # the key whose `- item` lines may follow
    indent = -1
    for number, line in enumerate(source.split("\n"), first_line):
        if not line.isprintable():  # tabs, control characters, unusual spaces: PyYAML's rules
            return None
        if not line.strip() or line.startswith("#"):
            continue
        item = _ITEM.fullmatch(line)
        if item is not None:
            if not key or (indent >= 0 and len(item.group(1)) != indent):
                return None
            indent = len(item.group(1))
            value = _scalar(item.group(2).rstrip(" "))
            if value is None:
                return None
            if key not in values:
                values[key], lines[key], item_lines[key] = [], number, []
            values[key].append(value)
            item_lines[key].append(number)
            continue
        found = _KEY.fullmatch(line.rstrip(" "))
        if found is None or found.group(1) in lines or _no_items(key, values, lines) or _resolves_to_other_type(found.group(1)):
            return None  # not `key: value`, a key given twice, a key with neither value nor items, or `on:` (a boolean)
        key, text, indent = found.group(1), found.group(2), -1
        if text is None:
            lines[key] = number  # its `- item` lines follow
            continue
        value = _flow_list(text) if text.startswith("[") else _scalar(text)
        if value is None:
            return None
        values[key], lines[key] = value, number
        if isinstance(value, list):
            item_lines[key] = [number] * len(value)
        key = ""
    if not values or _no_items(key, values, lines):
        return None
    return FrontMatter(values, lines, item_lines)


def _no_items(key: str, values: dict[str, Any], lines: dict[str, int]) -> bool:
    """A `key:` line followed by no `- item` line: YAML reads a null there."""
    return key in lines and key not in values


def _scalar(text: str) -> str | None:
    """A quoted or plain scalar that YAML reads as this text; None for anything else."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        inner = text[1:-1]
        return inner if '"' not in inner and "\\" not in inner else None
    if len(text) >= 2 and text[0] == text[-1] == "'":
        inner = text[1:-1]
        return inner.replace("''", "'") if "'" not in inner.replace("''", "") else None
    if not text or text[0] in _INDICATORS or ": " in text or " #" in text or text.endswith(":") or _resolves_to_other_type(text):
        return None
    return text


def _flow_list(text: str) -> list[str] | None:
    if not text.endswith("]"):
        return None
    inner = text[1:-1]
    if not inner.strip():
        return []
    items, position = [], 0
    while position < len(inner):
        found = _FLOW_ITEM.match(inner, position)
        if found is None or (found.group(2) == "," and found.end() == len(inner)):
            return None  # something else, or a trailing comma
        value = _scalar(found.group(1).rstrip(" "))
        if value is None:
            return None
        items.append(value)
        position = found.end()
    return items


def _resolves_to_other_type(text: str) -> bool:
    """Whether YAML reads this plain scalar as something other than text (a number, a boolean, a null...)."""
    resolvers = loader_class().yaml_implicit_resolvers
    return any(tag != STR_TAG and regexp.match(text) for tag, regexp in [*resolvers.get(text[0], []), *resolvers.get(None, [])])
