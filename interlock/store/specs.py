"""The four tables: their logical names, indexes and streams (the Terraform module declares the same).

=========  =====================================================  ==========================================
table      holds                                                  indexes / stream
=========  =====================================================  ==========================================
control    configs, sensors, run rows, rerun requests, overrides  GSI1 (GSI1PK, GSI1SK): sparse lookups such
           and acks, dry-run markers                              as running runs, never a Scan; stream
joblog     job events per run                                     stream
rerun      rerun/retry attempts per run                           —
events     every published event (full detail), Slack threads    GSI1 (eventType, timestamp N),
                                                                  GSI2 (GSI2PK = EVENTS#<yyyy-mm-ddThh>,
                                                                  timestamp N) for "since T" across pipelines
=========  =====================================================  ==========================================

Physical names are ``{environment}-interlock-{name}`` in DynamoDB; one SQLite file holds all four.
"""

from __future__ import annotations

from interlock.store.table import IndexSpec, TableSpec

__all__ = [
    "CONTROL",
    "EMBEDDED_PARTITIONS",
    "EVENTS",
    "JOBLOG",
    "RERUN",
    "TABLE_SPECS",
    "physical_name",
]

EMBEDDED_PARTITIONS = frozenset({"EXECUTION", "TIMER", "RUNTIME", "JOBSTART"})
"""Control partitions the embedded runtime keeps for itself (its executions, timers, feed positions and
durable job starts): the runtime reads them directly, never through the feed, so the SQLite driver
writes no feed record for them (an execution saves a snapshot at every step: half the feed's records
were these, read back only to be skipped)."""

CONTROL = TableSpec(
    "control",
    indexes=(IndexSpec("GSI1", pk="GSI1PK", sk="GSI1SK", sk_type="S"),),
    stream=True,
    unstreamed=EMBEDDED_PARTITIONS,
)
JOBLOG = TableSpec("joblog", stream=True)
RERUN = TableSpec("rerun")
EVENTS = TableSpec(
    "events",
    indexes=(
        IndexSpec("GSI1", pk="eventType", sk="timestamp", sk_type="N"),
        IndexSpec("GSI2", pk="GSI2PK", sk="timestamp", sk_type="N"),
    ),
)

TABLE_SPECS: dict[str, TableSpec] = {t.name: t for t in (CONTROL, JOBLOG, RERUN, EVENTS)}


def physical_name(environment: str, table: str) -> str:
    """``{environment}-interlock-{table}``, the DynamoDB table name."""
    return f"{environment}-interlock-{table}"
