"""A short run of the soak (``make soak`` runs the long one): unpaced writes over a few pipelines, the
runtime and the writer in their own processes, then the checks the soak makes — every write reached the
router, every trigger write's period ran to completion once. Asserts nothing about speed or memory (the
soak prints figures; see bench/soak.py). The console (``interlock-tui`` in tmux) is left out here: the
TUI has its own tests, and CI need not have tmux."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from bench.soak import TRIGGER_EVERY, lost, soak, trigger_of

if TYPE_CHECKING:
    from pathlib import Path


def test_a_short_soak_loses_nothing(tmp_path: Path) -> None:
    pipelines = 5
    writes = pipelines * TRIGGER_EVERY * 3  # three trigger rounds
    figures = soak(
        pipelines=pipelines,
        rate=0,
        seconds=600,
        drain=120,
        workdir=tmp_path,
        max_writes=writes,
        tui=False,
    )
    assert figures["writes"] == writes
    assert figures["trigger_writes"] == pipelines * 3
    assert not lost(figures), figures
    assert figures["console"] == {"skipped": "--no-tui"}
    assert figures["runtime_rss_mb"]["start"] > 0


def test_every_tenth_round_triggers_a_new_hourly_period() -> None:
    assert trigger_of(0, 5) is None
    assert trigger_of(44, 5) is None
    assert trigger_of(45, 5) == ("soak-0000", "2026-01-01T00")
    assert trigger_of(49, 5) == ("soak-0004", "2026-01-01T00")
    assert trigger_of(95, 5) == ("soak-0000", "2026-01-01T01")


def _figures(**console: Any) -> dict[str, Any]:
    return {
        "unseen_writes": 0,
        "trigger_periods_without_run": 0,
        "runs_not_completed": 0,
        "periods_with_two_executions": 0,
        "errors": [],
        "console": console,
    }


@pytest.mark.parametrize(
    ("console", "failed"),
    [
        ({"skipped": "tmux not found"}, False),
        ({"alive": True, "shows_last_period": True}, False),
        ({"alive": False, "shows_last_period": True}, True),  # the console died under load
        ({"alive": True, "shows_last_period": False}, True),  # it stopped following the tail
    ],
)
def test_a_dead_or_blind_console_fails_the_soak(console: dict[str, Any], failed: bool) -> None:
    assert lost(_figures(**console)) is failed
