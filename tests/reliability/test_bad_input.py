"""Bad input, every face: exit 2 (or a ValueError from the API), one clear line, nothing written.

Each case runs against a canary SQLite store (``INTERLOCK_STORE`` and ``--store`` point at it) holding
pushed configs and sensors; after the case the store's files are byte-for-byte what they were. The CLI
is called in-process (``main``), so a traceback would surface here as an exception, and the error output
must hold exactly one ``error`` line.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from interlock.api import Interlock
from interlock.cli import main

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
PIPELINES = str(ROOT / "examples" / "pipelines")
NINES = "9" * 60


@pytest.fixture(scope="module")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("canary")
    url = f"sqlite:///{d}/canary.db"
    assert main(["config", "push", PIPELINES, "--store", url]) == 0
    assert main(["sensor", "put", "gold-revenue", "row-count", "count=15432", "--store", url]) == 0
    assert main(["sensor", "put", "gold-revenue", "upstream-complete", "status=ready", "--store", url]) == 0  # fmt: skip
    return d


def _digest(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


@pytest.fixture
def guarded(canary: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{canary}/canary.db"
    monkeypatch.setenv("INTERLOCK_STORE", url)
    before = _digest(canary)
    yield url
    assert _digest(canary) == before, "bad input changed the store"


def _timeline(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "timeline.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


SIM = ["simulate", "--pipelines", PIPELINES]
DAY = ["--start", "2026-03-02T00:00:00Z", "--end", "2026-03-02T06:00:00Z"]
S = "2026-03-02T01:00:00Z"


def _sensor(pid: str = "gold-revenue", key: str = "row-count", **data: Any) -> str:
    return json.dumps({"at": S, "sensor": {"pipeline": pid, "key": key, "data": data or {"n": 1}}})


# Each case: argv (with {store} and {tl:...} placeholders resolved below), and text the error shows.
CLI_CASES: list[tuple[str, list[str], str]] = [
    # sensor put: values the store cannot hold, keys it cannot key
    (
        "60 nines",
        ["sensor", "put", "gold-revenue", "row-count", f"count={NINES}"],
        "38 significant",
    ),
    (
        "negative 60 nines",
        ["sensor", "put", "gold-revenue", "row-count", f"count=-{NINES}"],
        "38 significant",
    ),  # fmt: skip
    ("1e400", ["sensor", "put", "gold-revenue", "row-count", "count=1e400"], "cannot be stored"),
    ("-1e400", ["sensor", "put", "gold-revenue", "row-count", "count=-1e400"], "cannot be stored"),
    ("1e-400", ["sensor", "put", "gold-revenue", "row-count", "count=1e-400"], "cannot be stored"),
    ("1e127", ["sensor", "put", "gold-revenue", "row-count", "count=1e127"], "cannot be stored"),
    (
        "39 digits",
        [
            "sensor",
            "put",
            "gold-revenue",
            "row-count",
            "count=1.00000000000000000000000000000000000001",
        ],
        "38 significant",
    ),  # fmt: skip
    ("empty key", ["sensor", "put", "gold-revenue", "", "count=1"], "sensor key"),
    ("empty pipeline", ["sensor", "put", "", "row-count", "count=1"], "pipeline id"),
    ("# in pipeline", ["sensor", "put", "a#b", "row-count", "count=1"], "must not contain '#'"),
    (
        "# at pipeline end",
        ["sensor", "put", "gold#", "row-count", "count=1"],
        "must not contain '#'",
    ),
    (
        "# in key, not a period",
        ["sensor", "put", "gold-revenue", "row#count", "count=1"],
        "except before a period",
    ),  # fmt: skip
    (
        "key period not a date",
        ["sensor", "put", "gold-revenue", "row-count#2026-99-98", "count=1"],
        "except before a period",
    ),  # fmt: skip
    (
        "key period hour 24",
        ["sensor", "put", "gold-revenue", "row-count#2026-03-03T24", "count=1"],
        "except before a period",
    ),  # fmt: skip
    ("key period only", ["sensor", "put", "gold-revenue", "#2026-03-03", "count=1"], "'#'"),
    (
        "key with two periods",
        ["sensor", "put", "gold-revenue", "a#2026-03-03#2026-03-03", "count=1"],
        "'#'",
    ),  # fmt: skip
    ("field without =", ["sensor", "put", "gold-revenue", "row-count", "count"], "not field=value"),
    ("field without name", ["sensor", "put", "gold-revenue", "row-count", "=5"], "not field=value"),
    ("field twice", ["sensor", "put", "gold-revenue", "row-count", "a=1", "a=2"], "given twice"),
    (
        "hour without date",
        ["sensor", "put", "gold-revenue", "row-count", "a=1", "--hour", "7"],
        "--hour needs --date",
    ),  # fmt: skip
    (
        "date 2026-02-30",
        ["sensor", "put", "gold-revenue", "row-count", "a=1", "--date", "2026-02-30"],
        "no such date",
    ),  # fmt: skip
    (
        "date 2026-99-98",
        ["sensor", "put", "gold-revenue", "row-count", "a=1", "--date", "2026-99-98"],
        "no such date",
    ),  # fmt: skip
    (
        "date words",
        ["sensor", "put", "gold-revenue", "row-count", "a=1", "--date", "monday"],
        "not a period",
    ),  # fmt: skip
    (
        "hour 24",
        [
            "sensor",
            "put",
            "gold-revenue",
            "row-count",
            "a=1",
            "--date",
            "2026-03-02",
            "--hour",
            "24",
        ],
        "00-23",
    ),  # fmt: skip
    (
        "hour text",
        [
            "sensor",
            "put",
            "gold-revenue",
            "row-count",
            "a=1",
            "--date",
            "2026-03-02",
            "--hour",
            "x",
        ],
        "invalid",
    ),  # fmt: skip
    (
        "bad store url",
        ["sensor", "put", "gold-revenue", "row-count", "a=1", "--store", "ftp://x"],
        "unknown scheme",
    ),  # fmt: skip
    # run: poll intervals
    ("poll -1", ["run", "--pipelines", PIPELINES, "--poll", "-1", "--once"], "--poll"),
    ("poll 0", ["run", "--pipelines", PIPELINES, "--poll", "0", "--once"], "--poll"),
    ("poll nan", ["run", "--pipelines", PIPELINES, "--poll", "nan", "--once"], "--poll"),
    ("poll inf", ["run", "--pipelines", PIPELINES, "--poll", "inf", "--once"], "--poll"),
    ("poll -inf", ["run", "--pipelines", PIPELINES, "--poll", "-inf", "--once"], "--poll"),
    ("poll 1e400", ["run", "--pipelines", PIPELINES, "--poll", "1e400", "--once"], "--poll"),
    ("poll a day", ["run", "--pipelines", PIPELINES, "--poll", "86400", "--once"], "--poll"),
    ("poll text", ["run", "--pipelines", PIPELINES, "--poll", "soon", "--once"], "invalid float"),
    ("run without pipelines", ["run"], "--pipelines"),
    # explain
    ("explain --at words", ["explain", "gold-revenue", "--at", "yesterday"], "RFC 3339"),
    (
        "explain --at no offset",
        ["explain", "gold-revenue", "--at", "2026-03-02T08:00:00"],
        "no time zone",
    ),  # fmt: skip
    (
        "explain --at month 13",
        ["explain", "gold-revenue", "--at", "2026-13-02T08:00:00Z"],
        "RFC 3339",
    ),  # fmt: skip
    ("explain unknown pipeline", ["explain", "no-such-pipeline"], "unknown pipeline"),
    (
        "explain --sensors alone",
        ["explain", "gold-revenue", "--sensors", "x.json"],
        "needs --pipelines",
    ),  # fmt: skip
    (
        "explain missing sensors file",
        ["explain", "gold-revenue", "--pipelines", PIPELINES, "--sensors", "/nonexistent/s.json"],
        "cannot read",
    ),  # fmt: skip
    # events
    ("events --since words", ["events", "tail", "--since", "last tuesday"], "since"),
    # simulate: spans and timelines
    (
        "simulate 100 years",
        [
            *SIM,
            "--timeline",
            "{tl:empty}",
            "--start",
            "2000-01-01T00:00:00Z",
            "--end",
            "2100-01-01T00:00:00Z",
        ],
        "at most 366 days",
    ),  # fmt: skip
    (
        "simulate 367 days",
        [
            *SIM,
            "--timeline",
            "{tl:empty}",
            "--start",
            "2026-01-01T00:00:00Z",
            "--end",
            "2027-01-03T00:00:00Z",
        ],
        "at most 366 days",
    ),  # fmt: skip
    (
        "simulate end before start",
        [
            *SIM,
            "--timeline",
            "{tl:empty}",
            "--start",
            "2026-03-02T00:00:00Z",
            "--end",
            "2026-03-01T00:00:00Z",
        ],
        "must be after",
    ),  # fmt: skip
    (
        "simulate start no offset",
        [
            *SIM,
            "--timeline",
            "{tl:empty}",
            "--start",
            "2026-03-02T00:00:00",
            "--end",
            "2026-03-03T00:00:00Z",
        ],
        "offset",
    ),  # fmt: skip
    (
        "simulate bad job duration",
        [*SIM, "--timeline", "{tl:empty}", *DAY, "--job-duration", "forever"],
        "duration",
    ),  # fmt: skip
    (
        "simulate missing timeline",
        [*SIM, "--timeline", "/nonexistent/t.jsonl", *DAY],
        "No such file",
    ),  # fmt: skip
    ("timeline nested 5000", [*SIM, "--timeline", "{tl:deep5000}", *DAY], "nested too deeply"),
    ("timeline nested 40", [*SIM, "--timeline", "{tl:deep40}", *DAY], "nested too deeply"),
    (
        "timeline sensor data nested 40",
        [*SIM, "--timeline", "{tl:deepdata}", *DAY],
        "nested too deeply",
    ),  # fmt: skip
    ("timeline not JSON", [*SIM, "--timeline", "{tl:notjson}", *DAY], "not JSON"),
    ("timeline not an object", [*SIM, "--timeline", "{tl:array}", *DAY], "JSON object"),
    ("timeline without at", [*SIM, "--timeline", "{tl:noat}", *DAY], "'at'"),
    ("timeline at no offset", [*SIM, "--timeline", "{tl:naive}", *DAY], "'at'"),
    ("timeline two kinds", [*SIM, "--timeline", "{tl:twokinds}", *DAY], "exactly one of"),
    ("timeline unknown kind", [*SIM, "--timeline", "{tl:unknownkind}", *DAY], "unknown"),
    ("timeline outside range", [*SIM, "--timeline", "{tl:outside}", *DAY], "outside"),
    (
        "timeline unknown pipeline",
        [*SIM, "--timeline", "{tl:unknownpid}", *DAY],
        "unknown pipeline",
    ),
    ("timeline 1e400", [*SIM, "--timeline", "{tl:huge}", *DAY], "cannot be stored"),
    ("timeline 60 nines", [*SIM, "--timeline", "{tl:nines}", *DAY], "38 significant"),
    ("timeline key with #", [*SIM, "--timeline", "{tl:hashkey}", *DAY], "'#'"),
    ("timeline empty key", [*SIM, "--timeline", "{tl:emptykey}", *DAY], "key"),
]

TIMELINES: dict[str, list[str]] = {
    "empty": [],
    "deep5000": [
        f'{{"at": "{S}", "sensor": {{"pipeline": "gold-revenue", "key": "k", "data": {{"v": {_nested(5000)}}}}}}}'
    ],  # fmt: skip
    "deep40": [f'{{"at": "{S}", "sensor": {_nested(40)}}}'],
    "deepdata": [
        f'{{"at": "{S}", "sensor": {{"pipeline": "gold-revenue", "key": "k", "data": {{"v": {_nested(40)}}}}}}}'
    ],  # fmt: skip
    "notjson": ["{nope"],
    "array": ["[1, 2]"],
    "noat": ['{"sensor": {"pipeline": "gold-revenue", "key": "k", "data": {}}}'],
    "naive": [_sensor().replace("Z", "")],
    "twokinds": [json.dumps({"at": S, "sensor": {}, "ack": {}})],
    "unknownkind": [json.dumps({"at": S, "party": {}})],
    "outside": [_sensor().replace("2026-03-02T01", "2026-03-09T01")],
    "unknownpid": [_sensor(pid="no-such-pipeline")],
    "huge": [
        f'{{"at": "{S}", "sensor": {{"pipeline": "gold-revenue", "key": "k", "data": {{"n": 1e400}}}}}}'
    ],  # fmt: skip
    "nines": [
        f'{{"at": "{S}", "sensor": {{"pipeline": "gold-revenue", "key": "k", "data": {{"n": {NINES}}}}}}}'
    ],  # fmt: skip
    "hashkey": [_sensor(key="row#count")],
    "emptykey": [_sensor(key="")],
}


def _resolve(argv: list[str], tmp_path: Path) -> list[str]:
    out = []
    for arg in argv:
        if arg.startswith("{tl:"):
            arg = _timeline(tmp_path, *TIMELINES[arg[4:-1]])
        out.append(arg)
    return out


@pytest.mark.parametrize(
    ("argv", "shows"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES]
)
def test_bad_cli_input_exits_2_with_one_line(
    argv: list[str], shows: str, guarded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    usage = False
    try:
        code = main(_resolve(argv, tmp_path))
    except SystemExit as exc:  # argparse's own usage errors: the usage block, then one error line
        code, usage = exc.code, True  # type: ignore[assignment]
    captured = capsys.readouterr()
    assert code == 2, captured
    assert "Traceback" not in captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    if usage:
        lines = [line for line in lines if "error:" in line]
    assert len(lines) == 1, captured.err
    assert shows in captured.err, captured.err


API_CASES: list[tuple[str, Callable[[Interlock], object], str]] = [
    (
        "api 60 nines",
        lambda il: il.put_sensor("gold-revenue", "row-count", count=int(NINES)),
        "38 significant",
    ),  # fmt: skip
    (
        "api 1e400",
        lambda il: il.put_sensor("gold-revenue", "row-count", count=float("inf")),
        "cannot be stored",
    ),  # fmt: skip
    (
        "api nan",
        lambda il: il.put_sensor("gold-revenue", "row-count", count=float("nan")),
        "cannot be stored",
    ),  # fmt: skip
    ("api empty key", lambda il: il.put_sensor("gold-revenue", "", count=1), "sensor key"),
    ("api empty pipeline", lambda il: il.put_sensor("", "row-count", count=1), "pipeline id"),
    ("api # pipeline", lambda il: il.put_sensor("a#b", "row-count", count=1), "'#'"),
    ("api set value", lambda il: il.put_sensor("gold-revenue", "row-count", count={1, 2}), "store"),
    (
        "api object value",
        lambda il: il.put_sensor("gold-revenue", "row-count", count=object()),
        "store",
    ),  # fmt: skip
]


@pytest.mark.parametrize(
    ("call", "shows"), [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES]
)
def test_bad_api_input_raises_one_clear_line(
    call: Callable[[Interlock], object], shows: str, guarded: str
) -> None:
    with Interlock.local(guarded) as il, pytest.raises(ValueError) as info:
        call(il)
    message = str(info.value)
    assert "\n" not in message and shows in message


def test_the_suite_has_at_least_60_cases() -> None:
    assert len(CLI_CASES) + len(API_CASES) >= 60
