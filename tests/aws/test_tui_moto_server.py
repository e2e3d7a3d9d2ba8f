"""The TUI against DynamoDB over HTTP: a moto server in another process, on loopback.

What a deployer does after ``terraform apply``: ``interlock config push … --store dynamodb://…``,
producers write sensors with boto3, and ``interlock-tui --store dynamodb://ENV?region=…&endpoint=…``
shows the board. Here the endpoint is ``moto_server`` (``moto[server]``) on 127.0.0.1, so every read
crosses a real socket and HTTP, as in AWS (in-process moto hides the round trips).

The board's latency is measured and printed (a "TUI over HTTP" line, shown even without ``-s``; under
xdist it stays in the worker), never asserted: one figure per fresh app (the first open also pays for
the boto3 clients and the connection pool). Skips with its reason when ``moto_server`` cannot start (``moto[server]`` missing).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from interlock.api import Interlock
from interlock.cli import main as cli
from interlock.store.dynamodb import create_tables
from interlock.store.factory import open_store
from tests.aws.conftest import REGION, set_aws_env
from tui.app import make_app
from tui.screens.events_screen import EventsScreen
from tui.widgets.event_table import EventTable
from tui.widgets.pipeline_table import PipelineTable

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
PIPELINES = ROOT / "examples" / "pipelines"
ENV = "tui"
FIGURES: list[str] = []
"""What the test measured (printed at its end)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``moto_server`` on a free loopback port, in its own process; its endpoint URL."""
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("moto_server is not installed (the dev extra's moto[server])")
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [exe, "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"},
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                pytest.skip(f"moto_server did not start: {log.read_text(errors='replace')[-500:]}")
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _timed(label: str, fn: Any) -> Any:
    start = time.perf_counter()
    result = fn()
    FIGURES.append(f"{label}: {time.perf_counter() - start:.2f} s")
    return result


async def _board_paint(api: Interlock, expected: int) -> tuple[float, list[str]]:
    """Seconds from starting a fresh app until the board shows ``expected`` rows; the rows' ids."""
    app = make_app(api, refresh_seconds=None, tail_seconds=None)
    start = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        while True:
            tables = app.screen.query(PipelineTable)
            if tables and tables.first().row_count >= expected:
                elapsed = time.perf_counter() - start
                table = tables.first()
                ids = [str(row.value) for row in table.rows]
                return elapsed, ids
            assert time.perf_counter() - start < 120, "the board never filled"
            await pilot.pause(0.01)


async def _tail_shows(api: Interlock, needle: str) -> list[str]:
    app = make_app(api, refresh_seconds=None, tail_seconds=None)
    async with app.run_test(size=(160, 40)) as pilot:
        app.push_screen(EventsScreen())
        start = time.perf_counter()
        while True:
            await pilot.pause(0.05)
            tables = app.screen.query(EventTable)
            if tables and any(needle in e.message for e in tables.first().events):
                return [e.message for e in tables.first().events]
            assert time.perf_counter() - start < 60, "the tail never showed the event"


def test_the_board_and_the_tail_over_http_from_a_moto_server(
    moto_server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    set_aws_env(monkeypatch)
    url = f"dynamodb://{ENV}?region={REGION}&endpoint={moto_server}"
    import boto3  # type: ignore[import-untyped]

    ddb = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_server)
    _timed("create the four tables over HTTP", lambda: create_tables(ENV, client=ddb, ttl=False))
    # GIVEN the eleven example pipelines pushed, and a producer's sensors for one of them
    assert (
        _timed(
            "config push (11 pipelines)",
            lambda: cli(["config", "push", str(PIPELINES), "--store", url]),
        )
        == 0
    )
    assert (
        cli(["sensor", "put", "gold-revenue", "upstream-complete", "status=ready", "--store", url])
        == 0
    )
    stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    assert cli(["sensor", "put", "gold-revenue", "row-count", "count=15432", "--store", url]) == 0
    expected = sorted(p.stem for p in PIPELINES.glob("*.yaml"))
    assert len(expected) == 11
    store = open_store(url)
    with Interlock(store, actor="tester@oncall") as api:
        # WHEN the TUI opens (twice: a cold start, then a fresh app on warm clients)
        first, ids = asyncio.run(_board_paint(api, len(expected)))
        second, again = asyncio.run(_board_paint(api, len(expected)))
        FIGURES.append(f"TUI board first paint, {len(expected)} pipelines: {first:.2f} s")
        FIGURES.append(f"TUI board first paint again (warm clients): {second:.2f} s")
        _timed("Interlock.board() alone", api.board)
        # THEN the board lists every pipeline, read through moto's HTTP endpoint
        assert sorted(ids) == expected == sorted(again)
        sensors = api.sensors("gold-revenue")
        assert {s.key for s in sensors} >= {"upstream-complete", "row-count"}
        # and an event another process writes reaches the tail (events GSI2, the hour index)
        message = f"written over HTTP at {stamp}"
        assert (
            cli(["sensor", "put", "gold-revenue", "freshness", "updatedAt=now", "--store", url])
            == 0
        )
        from interlock.events import Event, EventType

        with open_store(url) as writer:
            writer.events.append(
                Event.create(
                    EventType.JOB_COMPLETED, "gold-revenue", now=datetime.now(UTC), message=message
                )
            )
        shown = _timed(
            "events screen until the new event shows",
            lambda: asyncio.run(_tail_shows(api, message)),
        )
        assert message in shown
    with capsys.disabled():
        print("\nTUI over HTTP (moto_server on loopback): " + "; ".join(FIGURES))
