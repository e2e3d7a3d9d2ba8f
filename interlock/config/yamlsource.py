"""Read a YAML document into plain data plus the line of every key, refusing YAML's traps.

Pipeline files are read with YAML 1.2 scalars, not PyYAML's YAML 1.1 defaults, because 1.1 misreads
values people write in these files every day:

* ``deadline: 10:00`` is the *integer 600* in YAML 1.1 (base-60); here it stays the string ``"10:00"``;
* ``value: on`` / ``yes`` / ``no`` are booleans in 1.1; here only ``true``/``false`` are;
* ``date: 2026-03-01`` becomes a ``datetime.date`` in 1.1; here it stays a string, exactly as the JSON
  CONFIG row in the store would carry it.

Duplicate keys (which YAML silently resolves to the last one) are reported, and alias bombs are cut off.
"""

from __future__ import annotations

import re

import yaml

from interlock.config.document import Path_, SourceDocument, YamlProblem

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "SourceDocument", "YamlProblem", "read_yaml"]

MAX_BYTES = 1_000_000
"""Larger files are refused: no pipeline file is a megabyte."""
MAX_NODES = 50_000
"""Documents that expand (through aliases) to more nodes than this are refused."""
MAX_DEPTH = 64
"""Documents nested deeper than this are refused (a pipeline file is about five levels deep)."""


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars (see the module docstring)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in _DROP]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
    for _DROP in [
        {
            "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
            "tag:yaml.org,2002:timestamp",
        }
    ]
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    if len(text) > 1000:  # Python refuses to parse very long integers; no config value needs one
        raise yaml.constructor.ConstructorError(
            None, None, "a number with more than 1000 digits", node.start_mark
        )
    if text.startswith(("0o", "0x")):
        return int(text, 0)
    return int(text, 10)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


_STR = "tag:yaml.org,2002:str"
_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_RESOLVER = _Loader("")


def _implicit_tag(node: yaml.ScalarNode) -> str:
    """The tag the scalar would have without an explicit ``!!tag`` (quoted scalars are strings)."""
    if node.style is not None:
        return _STR
    return str(_RESOLVER.resolve(yaml.ScalarNode, node.value, (True, False)))  # type: ignore[no-untyped-call]


def _tag_problem(node: yaml.Node, path: Path_) -> YamlProblem | None:
    if isinstance(node, yaml.ScalarNode):
        # `!!str 3` only says what quoting would; every other explicit tag is refused.
        explicit = node.tag not in (_implicit_tag(node), _STR)
    else:
        explicit = node.tag not in _COLLECTION_TAGS
    if not explicit:
        return None
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    return YamlProblem(
        node.start_mark.line + 1,
        path,
        f"invalid YAML: explicit tag {tag!r} is not allowed in pipeline files; write the plain value",
    )


def _walk(node: yaml.Node, path: Path_, doc: SourceDocument, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        return
    problem = _tag_problem(node, path)
    if problem is not None:
        doc.problems.append(problem)
        return
    if isinstance(node, yaml.MappingNode):
        _walk_mapping(node, path, doc, budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            doc.lines[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), doc, budget)


def _walk_mapping(
    node: yaml.MappingNode, path: Path_, doc: SourceDocument, budget: list[int]
) -> None:
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            doc.problems.append(
                YamlProblem(line, path, "keys must be plain strings, not lists or maps")
            )
            continue
        key = str(key_node.value)
        if key == "<<" and key_node.style is None:  # merge key: its children join this mapping
            _walk(value_node, path, doc, budget)
            continue
        if key_node.tag != _STR:
            shown = key or "~"
            doc.problems.append(
                YamlProblem(
                    line,
                    (*path, shown),
                    f"key {shown!r} is not a string: write a key name, or quote it ('\"{shown}\"')",
                )
            )
            continue
        if key in seen:
            doc.problems.append(
                YamlProblem(
                    line,
                    (*path, key),
                    f"duplicate key {key!r} (first on line {seen[key]}); YAML would silently "
                    "keep only the last one",
                )
            )
            continue
        seen[key] = line
        doc.lines[(*path, key)] = line
        _walk(value_node, (*path, key), doc, budget)


def read_yaml(text: str) -> SourceDocument:
    """Parse one YAML document.

    Args:
        text: the file's contents.

    Returns:
        The document; ``problems`` is non-empty when the YAML is unusable or suspicious. ``data`` is
        ``None`` when it could not be read at all.
    """
    doc = SourceDocument(data=None)
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        doc.problems.append(YamlProblem(None, (), f"file is larger than {MAX_BYTES} bytes"))
        return doc
    too_deep = _flow_too_deep(text)
    if too_deep is not None:
        doc.problems.append(
            YamlProblem(too_deep, (), f"invalid YAML: nested more than {MAX_DEPTH} levels deep")
        )
        return doc
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        doc.problems.append(YamlProblem(_line_of(exc), (), _yaml_message(exc)))
        return doc
    except RecursionError:
        doc.problems.append(
            YamlProblem(None, (), f"invalid YAML: nested more than {MAX_DEPTH} levels deep")
        )
        return doc
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        doc.problems.append(YamlProblem(1, (), "file is empty: expected a pipeline definition"))
        return doc
    if len(nodes) > 1:
        doc.problems.append(
            YamlProblem(
                nodes[1].start_mark.line + 1,
                (),
                "file holds several YAML documents ('---'): write one pipeline per file",
            )
        )
        return doc
    node = nodes[0]
    deep = _too_deep(node)
    if deep is not None:
        doc.problems.append(
            YamlProblem(deep, (), f"invalid YAML: nested more than {MAX_DEPTH} levels deep")
        )
        return doc
    if _expanded_size(node) > MAX_NODES:
        doc.problems.append(
            YamlProblem(None, (), f"document expands to more than {MAX_NODES} values (alias bomb?)")
        )
        return doc
    doc.lines[()] = node.start_mark.line + 1
    _walk(node, (), doc, [MAX_NODES])
    if doc.problems:
        return doc
    try:
        doc.data = _Loader(text).get_single_data()
    except yaml.YAMLError as exc:  # pragma: no cover - _walk refuses what construction would
        doc.problems.append(YamlProblem(_line_of(exc), (), _yaml_message(exc)))
    return doc


def _line_of(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def _yaml_message(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    return f"invalid YAML: {problem}" + (f" ({context})" if context else "")


_FLOW_TOKEN = re.compile(
    r"""(?:(?<=[ \t])|^)\#[^\n]*"""  # a comment: '#' at a line's start or after a blank
    r"""|(?:(?<=[ \t\[{,:?-])|^)(?:'(?:[^']|'')*'|"(?:[^"\\]|\\.)*")"""  # a quoted scalar
    r"""|[\[\]{}]""",  # a flow bracket
    re.MULTILINE,
)


def _flow_too_deep(text: str) -> int | None:
    """The line where flow brackets (``[``/``{``) first nest deeper than MAX_DEPTH, else None.

    PyYAML's scanner is quadratic in flow nesting: a 6 KB file of 3,000 nested brackets takes seconds
    to refuse after parsing. This linear pre-scan refuses it first. Brackets inside quoted scalars and
    comments do not count; one in a plain scalar (``a[0-9]``) opens and closes, so a file is only
    refused here when YAML itself would nest it deeper than the limit.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:  # the common case: nothing to scan
        return None
    depth = 0
    for match in _FLOW_TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return text.count("\n", 0, match.start()) + 1
        elif token in "]}":
            depth = max(0, depth - 1)
    return None


def _too_deep(root: yaml.Node) -> int | None:
    """The line where nesting first exceeds MAX_DEPTH, else None (iterative: no recursion limit)."""
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node.start_mark.line + 1
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack.extend((v, depth + 1) for _, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, depth + 1) for v in node.value)
    return None


def _expanded_size(root: yaml.Node) -> int:
    """Node count with aliases expanded, computed without expanding them (memoised by identity)."""
    memo: dict[int, int] = {}
    on_stack: set[int] = set()

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in memo:
            return memo[key]
        if key in on_stack:  # a recursive alias: refuse as if infinite
            return MAX_NODES + 1
        on_stack.add(key)
        total = 1
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                total += size(k) + size(v)
                if total > MAX_NODES:
                    break
        elif isinstance(n, yaml.SequenceNode):
            for item in n.value:
                total += size(item)
                if total > MAX_NODES:
                    break
        on_stack.discard(key)
        memo[key] = total
        return total

    return size(root)
