"""Producer data, tried from outside on SQLite and on the DynamoDB driver (moto): issue 11 points 2-6.

A producer writes whatever its SDK lets it write (``Table.put`` on SQLite, plain boto3 ``put_item`` on
DynamoDB). ``sensor ls``, ``explain`` and ``interlock run --once`` must read every item (or name it as
unreadable) without crashing and without hiding the pipeline's other sensors, and must agree:

* point 2: a freshness timestamp years in the future fails ``age_lt`` (clock skew), in explain too;
* point 3: per-period keys (``orders-count#<period>``) are written by ``sensor put`` and read by explain
  and the runtime alike;
* point 4: a trigger sensor with a bad ``date`` gives SENSOR_INVALID and a log line; explain says not ready;
* point 5: sets, binary, odd names and nesting are read;
* point 6: bad ``sensor put`` input exits 2 on DynamoDB too, writing nothing.

The property test at the end: for any item a producer can write, ``sensor ls``, ``explain`` and the
runtime neither crash nor disagree about readiness.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from interlock.cli import main
from interlock.config.models import PipelineConfig
from interlock.local.runtime import EmbeddedRuntime
from interlock.ports import VirtualClock
from interlock.store import open_store
from interlock.triggers.base import JobStatus, RunHandle

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from interlock.schedule import Period

PIPELINE: dict[str, Any] = {
    "pipeline": {"id": "orders"},
    "schedule": {
        "trigger": {"key": "orders-landed", "check": "exists"},
        "evaluation": {"window": "1h", "interval": "5m"},
    },
    "validation": {
        "rules": [
            {"key": "orders-count", "check": "gte", "field": "count", "value": 10},
            {"key": "orders-count", "check": "age_lt", "field": "updatedAt", "value": "2h"},
        ]
    },
    "job": {"type": "command", "config": {"command": [sys.executable, "-c", "pass"]}},
}


def now_text() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture(params=["sqlite", "moto"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/p.db"
        with open_store(url) as store:
            store.control.put_config(PipelineConfig.model_validate(PIPELINE), now=datetime.now(UTC))
        yield url
        return
    from interlock.store.dynamodb import create_tables
    from tests.contract.dynamodb_harness import REGION, moto_aws

    with moto_aws():
        create_tables("producer", region=REGION)
        url = f"dynamodb://producer?region={REGION}"
        with open_store(url) as store:
            store.control.put_config(PipelineConfig.model_validate(PIPELINE), now=datetime.now(UTC))
        yield url


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def put_raw(url: str, key: str, attrs: dict[str, Any], av: dict[str, Any] | None = None) -> None:
    """Write a sensor item as a producer would: Table.put, or boto3 put_item with ``av`` on DynamoDB."""
    item = {"PK": "PIPELINE#orders", "SK": f"SENSOR#{key}"}
    if url.startswith("dynamodb://") and av is not None:
        import boto3  # type: ignore[import-untyped]

        from interlock.store.specs import physical_name

        client = boto3.client("dynamodb", region_name="us-east-1")
        client.put_item(
            TableName=physical_name("producer", "control"),
            Item={"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}, **av},
        )
        return
    with open_store(url) as store:
        store.tables["control"].put({**item, **attrs})


def events(url: str, type_: str) -> list[Any]:
    with open_store(url) as store:
        return [e for e in store.events.for_pipeline("orders") if e.type == type_]


# ---------------------------------------------------------------------------------- point 5


ODD_DYNAMODB: dict[str, dict[str, Any]] = {
    "string-set": {"tags": {"SS": ["b", "a"]}},
    "number-set": {"nums": {"NS": ["2.5", "1"]}},
    "binary-set": {"bins": {"BS": [b"\x00\x01"]}},
    "binary": {"blob": {"B": b"\xff\x00"}},
    "nested-odd": {"data": {"M": {"deep": {"L": [{"SS": ["z"]}, {"M": {"b": {"B": b"1"}}}]}}}},
}
ODD_SQLITE: dict[str, dict[str, Any]] = {
    "empty-name": {"": 1, "status": "x"},
    "empty-name-in-data": {"data": {"": "x", "n": 1}},
    "data-not-a-map": {"data": "text"},
    "nested-odd": {"data": {"a": [[{"": None}]], "updatedAt": {"x": 1}}},
    "huge-updated": {"updatedAt": 10**30},
}


def test_odd_items_are_read_and_hide_nothing(url: str) -> None:
    odd = ODD_DYNAMODB if url.startswith("dynamodb://") else ODD_SQLITE
    for name, attrs in odd.items():
        put_raw(url, f"odd-{name}", attrs, av=attrs)
    assert cli("sensor", "put", "orders", "orders-count", "count=12", "updatedAt=now", "--store", url)[0] == 0  # fmt: skip
    code, out, _ = cli("sensor", "ls", "orders", "--json", "--store", url)
    assert code == 0
    listed = json.loads(out)
    assert {f"odd-{n}" for n in odd} | {"orders-count"} <= set(listed)
    if url.startswith("dynamodb://"):
        assert listed["odd-string-set"]["fields"]["tags"] == ["a", "b"]
        assert listed["odd-number-set"]["fields"]["nums"] == [1, 2.5]
        assert listed["odd-binary"]["fields"]["blob"] == "base64:/wA="
    code, out, _ = cli("sensor", "ls", "orders", "--store", url)
    assert code == 0 and "orders-count" in out
    code, out, _ = cli("explain", "orders", "--store", url)
    assert code == 0, out  # the odd sensors do not hide orders-count: ready
    put_raw(url, "orders-landed", {"data": {"status": "ready"}}, av={"status": {"S": "ready"}})
    code, _, _ = cli("run", "--pipelines", _pipelines_dir(url), "--once", "--store", url)
    assert code == 0
    assert len(events(url, "VALIDATION_PASSED")) == 1


def _pipelines_dir(url: str) -> str:
    import tempfile

    import yaml

    d = tempfile.mkdtemp()
    with open(f"{d}/orders.yaml", "w") as f:
        yaml.safe_dump(PIPELINE, f)
    return d


# ---------------------------------------------------------------------------------- point 2


@pytest.mark.parametrize(
    "stamp", ["2030-01-01T00:00:00Z", 4102444800000]
)  # ISO 2030; epoch-ms 2100
def test_future_freshness_is_not_ready_on_either_store(url: str, stamp: Any) -> None:
    put_raw(url, "orders-count", {"data": {"count": 12, "updatedAt": stamp}}, av=None)
    code, out, _ = cli("explain", "orders", "--json", "--store", url)
    assert code == 1
    reasons = [r["reason"] for r in json.loads(out)["rules"] if not r["passed"]]
    assert reasons and "beyond the allowed clock skew of 5m" in reasons[0]


# ---------------------------------------------------------------------------------- point 3


def test_per_period_keys_are_read_like_the_runtime_reads_them(url: str) -> None:
    today = datetime.now(UTC).date().isoformat()
    key = f"orders-count#{today}"
    assert cli("sensor", "put", "orders", key, "count=12", "updatedAt=now", "--store", url)[0] == 0
    code, out, _ = cli("explain", "orders", "--store", url)
    assert code == 0, out  # read under orders-count for today's period, as the runtime does
    assert cli("sensor", "put", "orders", "orders-landed", "x=1", "--date", today, "--store", url)[0] == 0  # fmt: skip
    assert cli("run", "--pipelines", _pipelines_dir(url), "--once", "--store", url)[0] == 0
    assert len(events(url, "VALIDATION_PASSED")) == 1
    # another day's row is not today's
    other = (datetime.now(UTC).date() - timedelta(days=3)).isoformat()
    url_key = f"orders-count#{other}"
    assert cli("sensor", "put", "orders", url_key, "count=1", "--store", url)[0] == 0


# ---------------------------------------------------------------------------------- point 4


@pytest.mark.parametrize("date", [20260302, "2026-99-98"])
def test_bad_trigger_date_is_visible_and_explain_agrees(
    url: str, date: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    assert cli("sensor", "put", "orders", "orders-count", "count=12", "updatedAt=now", "--store", url)[0] == 0  # fmt: skip
    put_raw(
        url,
        "orders-landed",
        {"data": {"date": date}},
        av={"date": {"N": str(date)} if isinstance(date, int) else {"S": date}},
    )
    code, out, _ = cli("explain", "orders", "--store", url)
    assert code == 1 and "SENSOR_INVALID" in out
    code, _, err = cli("run", "--pipelines", _pipelines_dir(url), "--once", "--store", url)
    assert code == 0
    (event,) = events(url, "SENSOR_INVALID")
    assert event.detail["sensorKey"] == "orders-landed"
    assert event.detail["field"] == "date"
    assert events(url, "VALIDATION_PASSED") == []
    logged = capfd.readouterr().err + err
    assert "orders-landed" in logged and "not used" in logged


# ---------------------------------------------------------------------------------- point 6


@pytest.mark.parametrize(
    "argv",
    [
        ["orders", "orders-count", "count=" + "9" * 60],
        ["orders", "orders-count", "count=1e400"],
        ["orders", "", "count=1"],
        ["", "orders-count", "count=1"],
        ["a#b", "orders-count", "count=1"],
    ],
)
def test_bad_sensor_put_exits_2_on_either_store(url: str, argv: list[str]) -> None:
    code, _, err = cli("sensor", "put", *argv, "--store", url)
    assert code == 2
    assert len([line for line in err.splitlines() if line.strip()]) == 1
    with open_store(url) as store:
        assert set(store.control.sensors("orders")) == set()


# ---------------------------------------------------------------------------------- property


T0 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**37), max_value=10**37),
    st.sampled_from([0, 9, 10, 11, 10**20, "10", "9.99", "1e3", "nan", "", "ready"]),
    st.sampled_from(
        [
            "2026-03-04T08:59:00Z",
            "2026-03-04T06:00:00Z",
            "2030-01-01T00:00:00Z",
            "2026-03-04T09:03:00Z",
            "2026-03-04T08:00:00",
            1772614740000,
            4102444800000,
            1772614740,
        ]
    ),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
fields = st.dictionaries(
    st.sampled_from(["count", "updatedAt", "date", "hour", "", "data", "status", "x"]),
    values,
    max_size=4,
)
# Items that are often ready, so both verdicts are exercised (arbitrary items almost never are).
likely_ready = st.fixed_dictionaries(
    {
        "count": st.sampled_from([10, 12, "11", "1e3", 9, True]),
        "updatedAt": st.sampled_from(
            [
                "2026-03-04T08:59:00Z",
                1772614740000,
                1772614740,
                "2026-03-04T09:03:00Z",  # 3 minutes ahead: within the clock skew
                "2026-03-04T09:30:00Z",  # beyond it
                "2030-01-01T00:00:00Z",
            ]
        ),
    },
    optional={"": values, "x": values},
)
dates = st.one_of(
    st.none(),
    st.sampled_from(["2026-03-04", "20260304", "2026-03-03", "2026-99-98", "2026-02-30", "", "x"]),
    st.just("2026-03-04"),
    st.integers(min_value=0, max_value=99999999),
)


class Recorder:
    def __init__(self) -> None:
        self.started: list[str] = []

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        self.started.append(run_id)
        return RunHandle(run_id, {})

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        return JobStatus("running")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    count_item=st.one_of(fields, likely_ready),
    trigger_item=fields,
    date=dates,
    as_data=st.booleans(),
)
def test_sensor_ls_explain_and_runtime_agree_for_any_item(
    tmp_path_factory: pytest.TempPathFactory,
    count_item: dict[str, Any],
    trigger_item: dict[str, Any],
    date: Any,
    as_data: bool,
) -> None:
    d = tmp_path_factory.mktemp("prop")
    url = f"sqlite:///{d}/p.db"
    clock = VirtualClock(T0)
    if date is not None:
        trigger_item = {**trigger_item, "date": date}
    with open_store(url, now=lambda: clock.now().timestamp()) as store:
        store.control.put_config(PipelineConfig.model_validate(PIPELINE), now=T0)
        count = {"data": count_item} if as_data else count_item
        control = store.tables["control"]
        control.put({"PK": "PIPELINE#orders", "SK": "SENSOR#orders-count", **count})
        control.put({"PK": "PIPELINE#orders", "SK": "SENSOR#orders-landed", **trigger_item})
        code, out, _ = cli("sensor", "ls", "orders", "--json", "--store", url)
        assert code == 0
        assert {"orders-count", "orders-landed"} <= set(json.loads(out))
        code, _, _ = cli("explain", "orders", "--store", url, "--at", "2026-03-04T09:00:00Z")
        assert code in (0, 1)
        recorder = Recorder()
        runtime = EmbeddedRuntime.build(
            store, clock=clock, triggers=lambda _t: recorder, watchdog_interval=None
        )
        runtime.tick()
        started = bool(recorder.started)
        event(f"ready={started}")
        assert started is (code == 0), (count_item, trigger_item)


def test_api_explain_reads_like_the_runtime(url: str) -> None:
    from interlock.api import Interlock

    today = datetime.now(UTC).date().isoformat()
    assert cli("sensor", "put", "orders", f"orders-count#{today}", "count=12", "updatedAt=now", "--store", url)[0] == 0  # fmt: skip
    with Interlock.local(url) as il:
        assert il.explain("orders").ready  # the per-period row, read for today's period
        il.put_sensor("orders", "orders-landed", date="2026-99-98")
        assert not il.explain("orders").ready  # the runtime refuses the trigger (SENSOR_INVALID)


def test_simulate_reads_per_period_keys_like_the_runtime(tmp_path: Path) -> None:
    from pathlib import Path as _Path

    examples = str(_Path(__file__).resolve().parents[2] / "examples" / "pipelines")
    lines = [
        {
            "at": "2026-03-02T07:00:00Z",
            "sensor": {
                "pipeline": "gold-revenue",
                "key": "upstream-complete",
                "data": {"status": "ready"},
            },
        },  # fmt: skip
        {
            "at": "2026-03-02T07:00:00Z",
            "sensor": {
                "pipeline": "gold-revenue",
                "key": "row-count#2026-03-02",
                "data": {"count": 20000},
            },
        },  # fmt: skip
        {
            "at": "2026-03-02T07:00:00Z",
            "sensor": {
                "pipeline": "gold-revenue",
                "key": "freshness",
                "data": {"updatedAt": "2026-03-02T07:00:00Z"},
            },
        },  # fmt: skip
    ]
    timeline = tmp_path / "t.jsonl"
    timeline.write_text("".join(json.dumps(line) + "\n" for line in lines))
    code, out, err = cli(
        "simulate", "--pipelines", examples, "--timeline", str(timeline),
        "--start", "2026-03-02T06:00:00Z", "--end", "2026-03-02T10:00:00Z", "--json",
    )  # fmt: skip
    assert code == 0, err
    types = [json.loads(line)["type"] for line in out.splitlines()]
    gold = [
        json.loads(line)["type"]
        for line in out.splitlines()
        if json.loads(line)["pipelineId"] == "gold-revenue"
    ]
    assert "VALIDATION_PASSED" in gold, types
