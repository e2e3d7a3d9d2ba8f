"""Property tests: whatever a pipeline file holds, the loader returns a project or a ConfigError.

``load_project`` is fed thousands of files: the example pipelines with their parsed data mutated (keys
deleted, unknown or near-miss keys added, values replaced by wrong types, list items duplicated,
sections swapped or grafted from another example), and raw text (random text and bytes, YAML-like token
soup with anchors, aliases, tags and tabs, edited example files, deep nesting). It must either load the
file or raise :class:`ConfigError` whose problems all have a message; any other exception is a bug.

Values include extremes that once crashed the loader (infinities, numbers beyond ``timedelta`` and
float range, time zone names longer than a file name, integers of thousands of digits, nesting beyond
Python's recursion limit, explicit ``!!timestamp``/``!!bool``/``!!float`` tags on bad text);
``test_known_crashers_never_crash_the_loader`` keeps feeding the last two kinds.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from interlock.config.loader import load_project, validate_config_data
from interlock.config.models import PipelineConfig
from interlock.config.schema import pipeline_schema
from interlock.config.yamlsource import MAX_DEPTH, read_yaml
from interlock.exceptions import ConfigError, Problem

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples" / "pipelines"
CALENDARS = REPO_ROOT / "examples" / "calendars"

EXAMPLE_TEXT = {p.name: p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.yaml"))}
EXAMPLE_DATA = [read_yaml(text).data for text in EXAMPLE_TEXT.values()]
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

# The test body is I/O bound (write, read, parse, validate): give hypothesis room, keep no database in
# the checkout, and report one failure (several would arrive as an ExceptionGroup).
FUZZ = settings(
    deadline=None,
    database=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# The counts below take about 20 s on one quiet core; INTERLOCK_FUZZ_SCALE=10 digs ten times deeper.
FUZZ_SCALE = float(os.environ.get("INTERLOCK_FUZZ_SCALE", "1"))


def _examples(full: int) -> int:
    """How many examples a fuzz test draws at the current scale (never fewer than 20)."""
    return max(20, round(full * FUZZ_SCALE))


def _schema_keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            yield from props
        for value in node.values():
            yield from _schema_keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _schema_keys(item)


KNOWN_KEYS = sorted(set(_schema_keys(pipeline_schema())))
assert {"pipeline", "schedule", "cron", "jobName", "rules", "driftField"} <= set(KNOWN_KEYS)

INTERESTING_TEXT = [
    *("", " ", "\t", "0", "-1", "10", "1.5", "1e3", "NaN", "Infinity"),
    *("10:00", "09:30", ":15", ":75", "25:00", "24:00", "7pm", "10:00:00"),
    *("90s", "30m", "2h", "1h30m", "1.5h", "500ms", "2d", "0s", "-5m", "1h1h", "2 hours", "h"),
    *("0 8 * * *", "*/15 * * * *", "0 6 * * ? *", "cron(0 6 ? * 2-6 *)", "0 6 ? * 8 *"),
    *("@daily", "@reboot", "0 8 * *", "* * * * * * *", "61 * * * *", "0 6 L * ? *", "cron()"),
    *("UTC", "EST", "PST", "Europe/London", "europe/london", "Mars/Olympus", "../etc/passwd"),
    *("glue", "GLUE", "http", "lambda", "step-function", "step-functions", "emr", "command"),
    *("exists", "EQUALS", "gte", "age_lt", "ALL", "any", "SOME", "POST", "get", "TRACE"),
    *("2026-02-30", "2026-03-01", "20260301", "2026-3-1", "monday", "sun", "funday"),
    *("on", "yes", "null", "~", "true", "${environment}", "https://example.com", "ftp://x"),
    *("us-federal", "gold-revenue", "é", "🙂", "\x00", "\u2028", "\ufeff", "\\", "'", '"'),
]


@functools.cache
def _text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(INTERESTING_TEXT),
        st.text(max_size=20),
        st.text(st.characters(codec="ascii"), min_size=100, max_size=200),  # long strings
        st.text(st.characters(min_codepoint=0x80, codec="utf-8"), max_size=40),  # unicode only
        st.binary(max_size=30).map(lambda b: b.decode("latin-1")),  # binary-ish
    )


def _scalars(json_safe: bool) -> st.SearchStrategy[Any]:
    if json_safe:  # what JSON can carry; BMP only, so each \\u escape reads back as one character
        text = st.text(st.characters(max_codepoint=0xFFFF, codec="utf-8"), max_size=30)
        floats = st.floats(allow_nan=False, allow_infinity=False)
    else:
        text = _text()
        floats = st.floats()
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**12), max_value=10**12),
        floats,
        text,
        _extreme_scalars(json_safe),
    )


@functools.cache  # building a recursive strategy costs more than drawing from it
def _junk(json_safe: bool = False) -> st.SearchStrategy[Any]:
    leaves = _scalars(json_safe)
    keys = st.sampled_from(KNOWN_KEYS) | _key_text(json_safe)
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=12,
    )


def _key_text(json_safe: bool) -> st.SearchStrategy[str]:
    if json_safe:
        return st.text(st.characters(max_codepoint=0xFFFF, codec="utf-8"), max_size=12)
    return st.text(max_size=12)


def _extreme_scalars(json_safe: bool = False) -> st.SearchStrategy[Any]:
    """Values beyond timedelta, float or file-name limits (each once crashed the loader)."""
    numbers = [1e300, -1e300, 10**20, 10**400, -(10**400)]
    if not json_safe:
        numbers += [math.inf, -math.inf, math.nan]
    return st.one_of(
        st.sampled_from(numbers),
        st.integers(min_value=11, max_value=400).map(lambda n: "9" * n + "d"),
        st.integers(min_value=256, max_value=600).map(lambda n: "A" * n),
        st.integers(min_value=256, max_value=600).map(lambda n: "Europe/" + "x" * n),
    )


# ------------------------------------------------------------------------------ mutating data

Path_ = tuple[Any, ...]


def _paths(node: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


def _get(node: Any, path: Path_) -> Any:
    for part in path:
        node = node[part]
    return node


def _set(root: Any, path: Path_, value: Any) -> Any:
    if not path:
        return value
    _get(root, path[:-1])[path[-1]] = value
    return root


def _near_miss(key: str, draw: st.DrawFn) -> str:
    how = draw(st.sampled_from(["case", "drop", "double", "plural", "snake"]))
    if how == "case" or len(key) < 2:
        return key.swapcase()
    i = draw(st.integers(min_value=0, max_value=len(key) - 1))
    if how == "drop":
        return key[:i] + key[i + 1 :]
    if how == "double":
        return key[:i] + key[i] + key[i:]
    if how == "plural":
        return key + "s"
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), key)


def _mutate_once(
    draw: st.DrawFn, data: Any, junk: st.SearchStrategy[Any], json_safe: bool = False
) -> Any:
    paths = list(_paths(data))
    inner = [p for p, _ in paths if p]
    dicts = [p for p, n in paths if isinstance(n, dict)]
    lists = [p for p, n in paths if isinstance(n, list)]
    op = draw(st.sampled_from(["delete", "add", "replace", "duplicate", "swap", "graft"]))
    if op == "delete" and inner:
        path = draw(st.sampled_from(inner))
        del _get(data, path[:-1])[path[-1]]
        return data
    if op == "add" and dicts:
        where = draw(st.sampled_from(dicts))
        container = _get(data, where)
        existing = [k for k in container if isinstance(k, str)]
        key: Any
        near_miss = draw(st.booleans())
        if existing and near_miss:
            key = _near_miss(draw(st.sampled_from(existing)), draw)
        else:
            odd = _key_text(json_safe) if json_safe else _key_text(False) | st.integers(0, 9)
            key = draw(st.sampled_from(KNOWN_KEYS) | odd)
        container[key] = draw(junk)
        return data
    if op == "duplicate" and lists:
        container = _get(data, draw(st.sampled_from(lists)))
        item = draw(st.sampled_from(container)) if container else draw(junk)
        container.insert(draw(st.integers(0, len(container))), copy.deepcopy(item))
        return data
    if op == "swap" and len(inner) >= 2:
        a, b = draw(st.lists(st.sampled_from(inner), min_size=2, max_size=2, unique=True))
        if a[: len(b)] == b or b[: len(a)] == a:  # one inside the other: swap is meaningless
            return data
        va, vb = _get(data, a), _get(data, b)
        _set(data, a, vb)
        _set(data, b, va)
        return data
    if op == "graft":
        donor = draw(st.sampled_from(EXAMPLE_DATA))
        donor_path = draw(st.sampled_from([p for p, _ in _paths(donor) if p]))
        target = draw(st.sampled_from(inner)) if inner else ()
        return _set(data, target, copy.deepcopy(_get(donor, donor_path)))
    # replace (also the fallback when an operation has nothing to work on)
    root = draw(st.integers(0, 30)) == 0  # now and then the whole document
    path = () if root or not inner else draw(st.sampled_from(inner))
    return _set(data, path, draw(junk))


@st.composite
def mutated_configs(draw: st.DrawFn, json_safe: bool = False) -> tuple[Any, int]:
    """An example pipeline's data after 0-5 mutations, and the number of mutations."""
    data = copy.deepcopy(draw(st.sampled_from(EXAMPLE_DATA)))
    junk = _junk(json_safe)
    n = draw(st.integers(min_value=0, max_value=5))
    for _ in range(n):
        data = _mutate_once(draw, data, junk, json_safe)
    return data, n


@st.composite
def extreme_configs(draw: st.DrawFn) -> Any:
    """An example pipeline with 1-3 of its values replaced by an extreme one."""
    data = copy.deepcopy(draw(st.sampled_from(EXAMPLE_DATA)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        leaves = [p for p, n in _paths(data) if p and not isinstance(n, dict | list)]
        _set(data, draw(st.sampled_from(leaves)), draw(_extreme_scalars()))
    return data


def _render(data: Any, style: str) -> str:
    if style == "json":
        return json.dumps(data, ensure_ascii=False, default=str)
    return yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=style == "flow"
    )


def _file_name(data: Any) -> str:
    pid = data.get("pipeline") if isinstance(data, dict) else None
    pid = pid.get("id") if isinstance(pid, dict) else None
    if isinstance(pid, str) and _ID.fullmatch(pid.strip()):
        return f"{pid.strip()}.yaml"
    return "fuzz.yaml"


# ---------------------------------------------------------------------------------- the check


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _check_load(workdir: Path, content: str | bytes, name: str = "fuzz.yaml") -> bool:
    """Load one file; return whether it loaded. Fails on anything but a Project or a ConfigError."""
    f = workdir / name
    f.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    try:
        project = load_project(f, calendars=CALENDARS)
    except ConfigError as exc:
        assert exc.problems, "a ConfigError must list its problems"
        for p in exc.problems:
            assert isinstance(p, Problem)
            assert isinstance(p.message, str) and p.message.strip(), p
            assert p.severity == "error"
            assert p.file == f
            assert p.line is None or p.line >= 1
            assert str(p).startswith(str(f))  # the CLI prints this: key and location must render
        str(exc)
        return False
    finally:
        f.unlink()
    assert list(project.pipelines) == [f.stem]
    assert isinstance(project.pipelines[f.stem], PipelineConfig)
    assert all(w.message.strip() and w.severity == "warning" for w in project.warnings)
    return True


# ---------------------------------------------------------------------------- mutated data


@settings(FUZZ, max_examples=_examples(1000))
@given(case=mutated_configs(), style=st.sampled_from(["block", "flow", "json"]))
def test_mutated_configs_load_or_are_refused(
    workdir: Path, case: tuple[Any, int], style: str
) -> None:
    data, mutations = case
    loaded = _check_load(workdir, _render(data, style), _file_name(data))
    if mutations == 0:
        assert loaded, "an unmutated example must load"


@settings(FUZZ, max_examples=_examples(500))
@given(case=mutated_configs(json_safe=True))
def test_validate_config_data_agrees_with_load_project(
    workdir: Path, case: tuple[Any, int]
) -> None:
    data, _ = case
    # JSON is YAML 1.2 with every string quoted, so the file holds exactly `data`.
    text = json.dumps(data, ensure_ascii=True, allow_nan=False)
    assert repr(read_yaml(text).data) == repr(data)  # repr: True and 1 differ

    try:
        direct: PipelineConfig | None = validate_config_data(data)
        direct_problems: list[tuple[str, str]] = []
    except ConfigError as exc:
        direct = None
        direct_problems = sorted((p.key, p.message) for p in exc.problems)

    f = workdir / _file_name(data)
    f.write_text(text, encoding="utf-8")
    try:
        project = load_project(f, calendars=CALENDARS)
        file_problems: list[tuple[str, str]] = []
    except ConfigError as exc:
        project = None
        file_problems = sorted(
            (p.key, p.message) for p in exc.problems if not _is_cross_file(p.message)
        )
    finally:
        f.unlink()

    assert (direct is None) == bool(file_problems)  # refused for the same content, or both fine
    if isinstance(data, dict):  # a file that is not a mapping is refused before the models see it
        assert file_problems == direct_problems
    if project is not None:
        assert direct is not None
        assert project.pipelines[f.stem] == direct


def _is_cross_file(message: str) -> bool:
    """Problems only a file can have: its name, and calendars that live beside it."""
    return "differs from the file name" in message or message.startswith("unknown calendar ")


# -------------------------------------------------------------------------------- raw text

YAML_TOKENS = [
    *(f"{k}:" for k in KNOWN_KEYS),
    *(
        "-",
        "- ",
        "&a",
        "&b",
        "*a",
        "*b",
        "<<:",
        "<<: *a",
        "? ",
        ": ",
        ":",
        ",",
        "#",
        "|",
        ">",
        "|-",
    ),
    *(
        "{",
        "}",
        "[",
        "]",
        "{}",
        "[]",
        "'",
        '"',
        "---",
        "...",
        "%YAML 1.2",
        "%YAML 1.1",
        "%TAG ! x:",
    ),
    "!!python/object:os.system",
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system",
    *("!!binary", "!!set", "!!str", "!!int", "!!map", "!!seq", "!!omap", "!!pairs", "!!null", "!x"),
    *("~", "null", "true", "True", "on", "yes", "10:00", ":15", "0x1F", "0o17", "0o9", "1_000"),
    *("1e3", ".inf", "-.inf", ".nan", "999999999999", "9" * 5000, "2026-02-30", "0 8 * * *"),
    *("é", "🙂", "\u2028", "\x85", "\ufeff", "\x00", "\x07", "\t", "\r", "\\", "%"),
]


_INDENTS = st.sampled_from(["", " ", "  ", "    ", "      ", "\t", "  \t"])
_TOKEN_LINES = st.lists(st.sampled_from(YAML_TOKENS) | st.text(max_size=6), max_size=5)


@st.composite
def yaml_like_text(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(min_value=0, max_value=15))):
        lines.append(draw(_INDENTS) + " ".join(draw(_TOKEN_LINES)))
    return "\n".join(lines)


@st.composite
def edited_example_text(draw: st.DrawFn) -> str:
    """An example file with a few textual edits: the mistakes of a hand-edited file."""
    lines = draw(st.sampled_from(list(EXAMPLE_TEXT.values()))).splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        i = draw(st.integers(min_value=0, max_value=max(len(lines) - 1, 0)))
        line = lines[i] if lines else ""
        how = draw(st.sampled_from(["value", "token", "indent", "delete", "copy", "swap", "tab"]))
        if how == "value" and ":" in line:
            key = line.split(":", 1)[0]
            lines[i] = (
                f"{key}: {draw(st.sampled_from(YAML_TOKENS) | st.sampled_from(INTERESTING_TEXT))}"
            )
        elif how == "token":
            at = draw(st.integers(min_value=0, max_value=len(line)))
            lines[i] = line[:at] + draw(st.sampled_from(YAML_TOKENS)) + line[at:]
        elif how == "indent":
            lines[i] = draw(st.sampled_from(["", " ", "   ", "        "])) + line.lstrip(" ")
        elif how == "delete" and lines:
            del lines[i]
        elif how == "copy":
            lines.insert(draw(st.integers(min_value=0, max_value=len(lines))), line)
        elif how == "swap" and lines:
            j = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines[i] = line.replace("  ", "\t", 1)
    return "\n".join(lines) + "\n"


@settings(FUZZ, max_examples=_examples(700))
@given(content=st.text(max_size=300) | st.binary(max_size=300))
def test_random_text_and_bytes_are_refused(workdir: Path, content: str | bytes) -> None:
    _check_load(workdir, content)


@settings(FUZZ, max_examples=_examples(1000))
@given(text=yaml_like_text())
def test_yaml_like_token_soup_is_refused_or_loaded(workdir: Path, text: str) -> None:
    _check_load(workdir, text)


@settings(FUZZ, max_examples=_examples(1000))
@given(text=edited_example_text())
def test_hand_edited_examples_load_or_are_refused(workdir: Path, text: str) -> None:
    m = re.search(r"^  id: (\S+)$", text, re.MULTILINE)
    name = f"{m.group(1)}.yaml" if m and _ID.fullmatch(m.group(1)) else "fuzz.yaml"
    _check_load(workdir, text, name)


NESTINGS: dict[str, Callable[[int], str]] = {
    "flow-list": lambda n: "pipeline: " + "[" * n + "]" * n,
    "flow-map": lambda n: "pipeline: " + "{a: " * n + "1" + "}" * n,
    "block-map": lambda n: "".join("  " * i + f"k{i}:\n" for i in range(n)) + "  " * n + "v",
    "block-list": lambda n: "".join("  " * i + "-\n" for i in range(n)) + "  " * n + "v",
    "anchored": lambda n: "a: &a " + "[" * n + "1" + "]" * n + "\nb: [*a, *a, *a]",
    "http-body": lambda n: (
        "pipeline: {id: fuzz}\nschedule: {cron: '0 8 * * *'}\n"
        "job: {type: http, config: {url: 'https://x', body: " + "{a: " * n + "1" + "}" * n + "}}"
    ),
}


@settings(FUZZ, max_examples=120)
@given(kind=st.sampled_from(sorted(NESTINGS)), depth=st.integers(min_value=1, max_value=150))
def test_deep_nesting_is_refused_or_loaded(workdir: Path, kind: str, depth: int) -> None:
    loaded = _check_load(workdir, NESTINGS[kind](depth))
    # An http body may be any JSON-like mapping, up to the reader's nesting limit: the document is
    # level 1 and job, config and body add three, so the innermost value sits at depth + 4.
    assert loaded == (kind == "http-body" and depth + 4 <= MAX_DEPTH)


# ------------------------------------------------------------------------------- extremes


@settings(FUZZ, max_examples=_examples(200))
@given(data=extreme_configs())
def test_extreme_values_load_or_are_refused(workdir: Path, data: Any) -> None:
    _check_load(workdir, _render(data, "flow"), _file_name(data))


# ------------------------------------------------------------ inputs that once crashed the loader

KNOWN_CRASHERS = [
    "!!timestamp soon",  # AttributeError
    "!!timestamp ''",
    "!!bool maybe",  # KeyError
    "!!float ''",  # IndexError
]


@st.composite
def known_crasher_text(draw: st.DrawFn) -> str:
    """Deep nesting beyond the recursion limit, or a bad explicit tag somewhere in a pipeline."""
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["flow-list", "flow-map", "anchored", "http-body"]))
        return NESTINGS[kind](draw(st.integers(min_value=1000, max_value=3000)))
    lines = draw(st.sampled_from(list(EXAMPLE_TEXT.values()))).splitlines()
    scalar_lines = [i for i, line in enumerate(lines) if re.match(r"^ *\w+: [^\s{\[]", line)]
    i = draw(st.sampled_from(scalar_lines))
    lines[i] = f"{lines[i].split(':', 1)[0]}: {draw(st.sampled_from(KNOWN_CRASHERS))}"
    return "\n".join(lines) + "\n"


# Deterministic: a regression guard for inputs that once crashed the loader. Every scale draws all 100:
# the reader refuses deep flow nesting before PyYAML's scanner (quadratic in it) sees the text.
@settings(FUZZ, max_examples=100, derandomize=True, phases=[Phase.generate])
@given(text=known_crasher_text())
def test_known_crashers_never_crash_the_loader(workdir: Path, text: str) -> None:
    _check_load(workdir, text)
