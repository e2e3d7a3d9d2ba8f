"""``interlock rerun``, ``ack`` and ``dry-run``, called in-process: output, exit codes and stored rows."""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from interlock.cli import main
from interlock.cli._common import UsageError
from interlock.cli.operator_cmds import parse_until
from interlock.events import EventType
from interlock.store import open_store

ROOT = Path(__file__).resolve().parents[2]
PIPELINES = str(ROOT / "examples" / "pipelines")
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class _Terminal(io.StringIO):
    """stdin as a terminal that answers with the given text."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    store_url = f"sqlite:///{tmp_path}/cli.db"
    assert main(["config", "push", PIPELINES, "--store", store_url]) == 0
    capsys.readouterr()
    return store_url


def stdin(monkeypatch: pytest.MonkeyPatch, text: str = "", *, tty: bool) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal(text) if tty else io.StringIO(text))


# ------------------------------------------------------------------------------------------ rerun


def test_rerun_with_yes_prints_the_budget_and_writes_the_request(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "rerun",
            "gold-revenue",
            "--period",
            "2026-03-01",
            "--yes",
            "--by",
            "alice",
            "--store",
            url,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "gold-revenue · cron · 2026-03-01 · reason manual" in out
    assert "rerun budget: drift 1/1 left · manual 1/1 left" in out
    assert "✓ rerun of gold-revenue 2026-03-01 requested (manual)" in out
    assert "RERUN_REQUESTED, by alice" in out
    with open_store(url) as store:
        request = store.control.get_rerun_request("gold-revenue", "cron", "2026-03-01")
        assert request is not None and (request.by, request.reason) == ("alice", "manual")
        [event] = store.events.of_type(EventType.RERUN_REQUESTED)
        assert event.actor == "alice" and event.date == "2026-03-01"


def test_rerun_without_a_terminal_needs_yes(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin(monkeypatch, tty=False)
    assert main(["rerun", "gold-revenue", "--period", "2026-03-01", "--store", url]) == 2
    captured = capsys.readouterr()
    assert "rerun budget: drift 1/1 left" in captured.out
    assert "pass --yes" in captured.err
    with open_store(url) as store:
        assert store.control.get_rerun_request("gold-revenue", "cron", "2026-03-01") is None


def test_rerun_on_a_terminal_asks_first(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin(monkeypatch, "n\n", tty=True)
    assert main(["rerun", "gold-revenue", "--period", "2026-03-01", "--store", url]) == 1
    assert "not confirmed: nothing written" in capsys.readouterr().err

    stdin(monkeypatch, "yes\n", tty=True)
    assert main(["rerun", "gold-revenue", "--period", "2026-03-01", "--store", url]) == 0
    captured = capsys.readouterr()
    assert "Request a rerun of gold-revenue 2026-03-01? [y/N]" in captured.err
    assert "✓ rerun of gold-revenue" in captured.out
    with open_store(url) as store:
        assert store.control.get_rerun_request("gold-revenue", "cron", "2026-03-01") is not None


def test_rerun_warns_when_the_budget_is_spent(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with open_store(url) as store:
        # the rerun log's TTL reads the wall clock in the CLI's store, so the row is written "now"
        now = datetime.now(UTC)
        store.reruns.record("gold-revenue", "cron", "2026-03-01", reason="late-data", now=now)
    args = ["rerun", "gold-revenue", "--period", "2026-03-01", "--reason", "data-drift", "--yes"]
    assert main([*args, "--store", url]) == 0
    captured = capsys.readouterr()
    assert "drift 0/1 left" in captured.out
    assert "the controller will reject this request" in captured.err
    assert "drift rerun limit exceeded (1/1)" in captured.err
    assert "RERUN_REJECTED" in captured.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rerun", "gold-revenu", "--yes"], "did you mean 'gold-revenue'?"),
        (["rerun", "gold-revenue", "--period", "2026-03-01T08", "--yes"], "periods are daily"),
        (["rerun", "gold-revenue", "--period", "03/01", "--yes"], "is not a period"),
        (["rerun", "gold-revenue", "--reason", "job-fail-retry", "--yes"], "automatic retries"),
        (["rerun", "gold-revenue", "--by", " ", "--yes"], "--by needs a name"),
    ],
)
def test_rerun_bad_input_exits_2(
    url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main([*argv, "--store", url]) == 2
    assert message in capsys.readouterr().err


def test_actor_comes_from_the_environment(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERLOCK_ACTOR", "oncall-bot")
    assert main(["rerun", "silver-orders", "--yes", "--store", url]) == 0
    assert "by oncall-bot" in capsys.readouterr().out
    with open_store(url) as store:
        [event] = store.events.of_type(EventType.RERUN_REQUESTED)
        assert event.actor == "oncall-bot" and event.schedule_id == "stream"


# -------------------------------------------------------------------------------------------- ack


def test_ack_for_two_hours(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = datetime.now(UTC)
    code = main(
        [
            "ack", "gold-revenue", "--period", "2026-03-01", "--reason", "vendor late",
            "--until", "2h", "--by", "alice", "--store", url,
        ]
    )  # fmt: skip
    assert code == 0
    assert "✓ SLA of gold-revenue 2026-03-01 acknowledged until" in capsys.readouterr().out
    with open_store(url) as store:
        ack = store.control.get_ack("gold-revenue", "cron", "2026-03-01", now=before)
        assert ack is not None and ack.until is not None
        assert (ack.by, ack.reason) == ("alice", "vendor late")
        assert timedelta(hours=2) - timedelta(seconds=1) <= ack.until - before
        assert ack.until - before <= timedelta(hours=2, minutes=1)
        [event] = store.events.of_type(EventType.SLA_ACKNOWLEDGED)
        assert event.actor == "alice" and event.detail["reason"] == "vendor late"


def test_ack_refusals_exit_2(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ack", "silver-orders", "--reason", "r", "--store", url]) == 2
    assert "silver-orders has no SLA" in capsys.readouterr().err
    assert main(["ack", "gold-revenue", "--reason", "r", "--until", "soon", "--store", url]) == 2
    assert "neither a duration (2h, 30m) nor an ISO-8601 time" in capsys.readouterr().err
    past = ["--until", "2020-01-01T00:00:00Z"]
    assert main(["ack", "gold-revenue", "--reason", "r", *past, "--store", url]) == 2
    assert "an acknowledgement must last" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:  # argparse: --reason is required
        main(["ack", "gold-revenue", "--store", url])
    assert exited.value.code == 2
    assert "--reason" in capsys.readouterr().err


def test_parse_until() -> None:
    assert parse_until("90m", T0) == T0 + timedelta(minutes=90)
    assert parse_until("2026-03-02T12:00:00+01:00", T0) == datetime(2026, 3, 2, 11, tzinfo=UTC)
    with pytest.raises(UsageError, match="no time zone offset"):
        parse_until("2026-03-02T12:00:00", T0)
    with pytest.raises(UsageError, match="longer than 0"):
        parse_until("0", T0)


# ---------------------------------------------------------------------------------------- dry run


def test_dry_run_on_off_and_already(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--reason", "shadow", "--by", "alice", "--store", url]
    assert main(["dry-run", "on", "gold-revenue", *base]) == 0
    out = capsys.readouterr().out
    assert "✓ gold-revenue switched into dry run" in out and "observe only" in out

    assert main(["dry-run", "on", "gold-revenue", *base]) == 0
    assert "gold-revenue is already in dry run: nothing changed" in capsys.readouterr().out

    assert main(["dry-run", "off", "gold-revenue", *base]) == 0
    assert "✓ gold-revenue switched out of dry run" in capsys.readouterr().out

    with open_store(url) as store:
        assert store.control.get_override("gold-revenue", "dry-run") is None
        switched = store.events.of_type(EventType.DRY_RUN_SWITCHED, newest_first=False)
        assert [(e.actor, e.detail["dryRun"]) for e in switched] == [
            ("alice", True),
            ("alice", False),
        ]

    # the events land where `interlock events tail` reads them
    assert main(["events", "tail", "--pipeline", "gold-revenue", "--json", "--store", url]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["detail-type"] for line in lines] == ["DRY_RUN_SWITCHED", "DRY_RUN_SWITCHED"]


def test_dry_run_off_a_config_dry_run_pipeline(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dry-run", "off", "dryrun-weather", "--reason", "live", "--store", url]) == 0
    with open_store(url) as store:
        override = store.control.get_override("dryrun-weather", "dry-run")
        assert override is not None and override.value is False


def test_dry_run_bad_input_exits_2(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["dry-run", "maybe", "gold-revenue", "--reason", "r", "--store", url])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["dry-run", "on", "finance-close", "--reason", "r", "--store", url]) == 2
    assert "finance-close has no schedule.trigger" in capsys.readouterr().err
    assert main(["dry-run", "on", "nope", "--reason", "r", "--store", url]) == 2
    assert "no pipeline 'nope' in the store" in capsys.readouterr().err
