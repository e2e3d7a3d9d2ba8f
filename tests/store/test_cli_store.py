"""The store-backed CLI, tried as a new user would: push configs, put sensors, explain, tail events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from interlock.cli import main
from interlock.events import Event, EventType
from interlock.store import open_store

ROOT = Path(__file__).resolve().parents[2]
PIPELINES = str(ROOT / "examples" / "pipelines")


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/cli.db"


def run(*argv: str) -> int:
    return main(list(argv))


def test_push_put_explain_not_ready_then_ready(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the example configs pushed to a fresh store
    assert run("config", "push", PIPELINES, "--store", url) == 0
    assert "pushed 11 pipeline configs" in capsys.readouterr().out
    # WHEN two of three sensors are written
    assert (
        run("sensor", "put", "gold-revenue", "upstream-complete", "status=ready", "--store", url)
        == 0
    )
    assert run("sensor", "put", "gold-revenue", "row-count", "count=15432", "--store", url) == 0
    capsys.readouterr()
    # THEN explain says not ready, naming the missing sensor
    assert run("explain", "gold-revenue", "--store", url) == 1
    out = capsys.readouterr().out
    assert "NOT READY" in out and "2/3 rules pass" in out
    assert "sensor freshness missing" in out
    # WHEN the last one arrives (updatedAt=now is fresh), THEN ready
    assert run("sensor", "put", "gold-revenue", "freshness", "updatedAt=now", "--store", url) == 0
    capsys.readouterr()
    assert run("explain", "gold-revenue", "--store", url, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ready"] is True
    assert data["rules"][1]["actual"] == 15432
    assert data["rules"][0]["sensorUpdatedAt"] is not None


def test_push_refuses_invalid_configs_and_writes_nothing(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = ROOT / "tests" / "configs" / "broken" / "bad-types.yaml"
    assert run("config", "push", str(bad), "--store", url) == 2
    assert "nothing pushed" in capsys.readouterr().out
    with open_store(url) as store:
        assert store.control.all_configs().configs == {}


def test_sensor_put_types_values_and_period(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        "sensor", "put", "bronze-cdr-hourly", "hourly-status",
        "complete=true", "pct_of_expected=0.7", "label=\"42\"", "rows=12", "note=hello", "gone=null",
        "--date", "2026-07-01", "--hour", "8", "--store", url, "--create", "--json",
    )  # fmt: skip
    assert code == 0
    fields = json.loads(capsys.readouterr().out)["fields"]
    assert fields == {
        "complete": True,
        "pct_of_expected": 0.7,
        "label": "42",
        "rows": 12,
        "note": "hello",
        "gone": None,
        "date": "2026-07-01",
        "hour": "08",
    }
    assert run("sensor", "ls", "bronze-cdr-hourly", "--store", url) == 0
    listing = capsys.readouterr().out
    assert "hourly-status" in listing and "pct_of_expected=0.7" in listing


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["nofield"], "is not field=value"),
        (["a=1", "a=2"], "given twice"),
        (["a=1", "--hour", "07"], "--hour needs --date"),
        (["a=1", "--date", "2026-02-30"], "2026-02-30"),
    ],
)
def test_sensor_put_bad_input_exits_2(
    url: str, capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    assert run("sensor", "put", "p", "k", *argv, "--store", url) == 2
    assert fragment in capsys.readouterr().err


def test_sensor_put_without_fields_exits_2_and_keeps_the_sensor(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run("sensor", "put", "gold-revenue", "row-count", "count=5", "--store", url, "--create")
        == 0
    )
    capsys.readouterr()
    assert run("sensor", "put", "gold-revenue", "row-count", "--store", url) == 2
    err = capsys.readouterr().err
    assert "no fields given" in err and "field=value" in err
    with open_store(url) as store:
        assert store.control.sensors("gold-revenue")["row-count"].fields == {"count": 5}


def test_explain_unknown_pipeline_in_store(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("config", "push", PIPELINES, "--store", url) == 0
    capsys.readouterr()
    assert run("explain", "gold-revenu", "--store", url) == 2
    assert "did you mean 'gold-revenue'" in capsys.readouterr().err


def test_a_missing_sqlite_file_is_refused_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a working directory without a store, and a relative URL (the usual mistake)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INTERLOCK_STORE", raising=False)
    # WHEN a read command opens it, THEN exit 2, the absolute path, both URL forms and the way out
    assert run("sensor", "ls", "gold-revenue", "--store", "sqlite:///.interlock/typo.db") == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}/.interlock/typo.db does not exist" in err
    assert "relative to the working directory" in err and "--create" in err
    assert run("events", "tail") == 2  # the default store too
    assert "interlock.db does not exist" in capsys.readouterr().err
    assert not (tmp_path / ".interlock").exists()  # nothing was created
    # --create makes it; config push creates it without being asked
    assert run("sensor", "ls", "p", "--store", "sqlite:///made.db", "--create") == 0
    assert (tmp_path / "made.db").exists()
    assert run("config", "push", PIPELINES, "--store", "sqlite:///pushed.db") == 0
    assert (tmp_path / "pushed.db").exists()


def test_explain_from_files_without_a_store_evaluates_no_sensors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("explain", "gold-revenue", "--pipelines", PIPELINES) == 1
    captured = capsys.readouterr()
    assert "does not exist: no sensors" in captured.err
    assert "sensor freshness missing" in captured.out
    assert not (tmp_path / ".interlock").exists()


def test_bad_store_url_is_an_operational_or_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("sensor", "ls", "p", "--store", "postgres://nope") == 2
    assert "sqlite:///" in capsys.readouterr().err


def _event(pid: str, type_: EventType, at: datetime, message: str) -> Event:
    return Event.create(
        type_, pid, now=at, message=message, schedule_id="stream", date="2026-03-02"
    )


def test_events_tail_filters_by_pipeline_and_type(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    with open_store(url) as store:
        store.events.append(_event("a", EventType.JOB_TRIGGERED, now, "started a"))
        store.events.append(_event("b", EventType.SLA_BREACH, now, "late b"))
    assert run("events", "tail", "--store", url) == 0
    out = capsys.readouterr().out
    assert "started a" in out and "late b" in out
    assert run("events", "tail", "--store", url, "--pipeline", "b", "--json") == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["detail-type"] for x in lines] == ["SLA_BREACH"]
    assert run("events", "tail", "--store", url, "--type", "job_triggered") == 0
    out = capsys.readouterr().out
    assert "started a" in out and "late b" not in out
    assert run("events", "tail", "--store", url, "--type", "NOPE") == 2


def test_events_tail_refuses_an_unknown_pipeline(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("config", "push", PIPELINES, "--store", url) == 0
    capsys.readouterr()
    assert run("events", "tail", "--store", url, "--pipeline", "gold-revenu") == 2
    err = capsys.readouterr().err
    assert "unknown pipeline 'gold-revenu'" in err and "did you mean 'gold-revenue'" in err
    # a known pipeline with nothing in the window: exit 0, and the window is named on stderr
    assert run("events", "tail", "--store", url, "--pipeline", "gold-revenue") == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no events for gold-revenue between" in captured.err and "--since 1h" in captured.err


def test_events_tail_follow_sees_another_process(url: str, tmp_path: Path) -> None:
    # GIVEN a tail --follow running in its own process
    open_store(url).close()
    env = {**os.environ, "COLUMNS": "200"}
    tail = subprocess.Popen(
        [sys.executable, "-m", "interlock.cli", "events", "tail", "--follow", "--json",
         "--store", url, "--interval", "0.05", "--max-polls", "400"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        # WHEN another process appends an event
        writer = (
            "import sys; from datetime import UTC, datetime; from interlock.store import open_store; "
            "from interlock.events import Event, EventType; "
            "s = open_store(sys.argv[1]); "
            "s.events.append(Event.create(EventType.SLA_WARNING, 'gold-revenue', "
            "now=datetime.now(UTC), message='from another process')); s.close()"
        )
        subprocess.run([sys.executable, "-c", writer, url], check=True, env=env, timeout=60)
        # THEN the tail prints it (readline blocks until it does, or the tail gives up after its polls)
        assert tail.stdout is not None
        line = tail.stdout.readline()
        assert json.loads(line)["message"] == "from another process"
    finally:
        tail.kill()
        tail.wait(timeout=10)
        if tail.stdout is not None:
            tail.stdout.close()
