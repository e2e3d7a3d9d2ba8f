"""A short run of the soak (``make soak`` runs the long one): unpaced writes over a few pipelines, then
the checks the soak makes — every write reached the router, every trigger write's period ran to
completion once. Asserts nothing about speed (the soak prints figures; see bench/soak.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.soak import TRIGGER_EVERY, lost, soak

if TYPE_CHECKING:
    from pathlib import Path


def test_a_short_soak_loses_nothing(tmp_path: Path) -> None:
    pipelines = 5
    writes = pipelines * TRIGGER_EVERY * 3  # three trigger rounds
    figures = soak(
        pipelines=pipelines, rate=0, seconds=600, drain=120, workdir=tmp_path, max_writes=writes
    )
    assert figures["writes"] == writes
    assert figures["trigger_writes"] == pipelines * 3
    assert not lost(figures), figures
    assert figures["tail_saw_events"], "the tail saw nothing"
