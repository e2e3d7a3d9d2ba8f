"""Bulk reads for the board: many pipelines' sensors, overrides, recent run rows and acks in a few
:meth:`~interlock.store.table.Table.query_partitions` calls, mixed into
:class:`~interlock.store.control.ControlStore`; and the ack/override row decoders both use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from interlock.records import (
    Ack,
    Override,
    RunRow,
    RunStatus,
    SensorRecord,
    time_attr,
)
from interlock.store import keys
from interlock.store.table import (
    begins_with,
    between,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from interlock.store.table import Item, Table

_GSI1PK, _GSI1SK = "GSI1PK", "GSI1SK"

__all__ = ["BoardReads", "BoardRows"]


@dataclass(frozen=True, slots=True)
class BoardReads:
    """What a board needs of many pipelines' control partitions, read in bulk
    (:meth:`ControlStore.board_reads`); every pipeline asked for has an entry in each mapping.

    Attributes:
        sensors: pipeline → its sensors by key (bookkeeping rows included), as :meth:`~ControlStore.sensors`.
        overrides: pipeline → its overrides by name.
        unfinished: pipeline → its run rows that are not COMPLETED (running or failed) of the periods
            read, newest period first: the ones that can still be a problem.
        completed: pipeline → period → the stored COMPLETED row, read into a :class:`RunRow` only when
            asked for (:meth:`run`, :meth:`runs_of`): an hourly pipeline has 168 of them a week, and
            the board needs one.
        acks: pipeline → period → the acknowledgement in force at the time asked.
    """

    sensors: dict[str, dict[str, SensorRecord]] = field(default_factory=dict)
    overrides: dict[str, dict[str, Override]] = field(default_factory=dict)
    unfinished: dict[str, list[RunRow]] = field(default_factory=dict)
    completed: dict[str, dict[str, Item]] = field(default_factory=dict)
    acks: dict[str, dict[str, Ack]] = field(default_factory=dict)

    def runs_of(self, pid: str) -> list[RunRow]:
        """Every run row of the periods read (COMPLETED ones too), newest period first."""
        rows = [*self.unfinished.get(pid, ())]
        rows += (RunRow.from_item(item) for item in self.completed.get(pid, {}).values())
        rows.sort(key=lambda r: r.period, reverse=True)
        return rows

    def run(self, pid: str, period: str) -> RunRow | None:
        """The run row of one period of the range read (COMPLETED or not), or ``None``."""
        for row in self.unfinished.get(pid, ()):
            if row.period == period:
                return row
        item = self.completed.get(pid, {}).get(period)
        return None if item is None else RunRow.from_item(item)


class BoardRows:
    """The bulk board read of :class:`~interlock.store.control.ControlStore`."""

    table: Table

    def board_reads(
        self, schedules: Mapping[str, str], *, since_period: str, now: datetime
    ) -> BoardReads:
        """Sensors, overrides, recent run rows and acks of many pipelines, in a few bulk reads.

        One :meth:`~interlock.store.table.Table.query_partitions` per kind of row (run rows and acks:
        one per schedule), however many pipelines: what the board reads every few seconds.

        Args:
            schedules: pipeline id → its schedule id (``cron`` or ``stream``).
            since_period: read run rows and acks of periods at or after this one (``2026-03-02`` also
                keeps that day's hours): a key range, so old history is never read.
            now: acks that no longer hold at ``now`` are left out.
        """
        pk_of = {pid: keys.pipeline_pk(pid) for pid in schedules}
        out = BoardReads()
        sensor_rows = self.table.query_partitions(
            dict.fromkeys(pk_of.values(), begins_with(keys.SENSOR_PREFIX))
        )
        override_rows = self.table.query_partitions(
            dict.fromkeys(pk_of.values(), begins_with(keys.OVERRIDE_PREFIX))
        )
        # "~" sorts after every period character: the range's end is past any period id
        run_rows = self.table.query_partitions(
            {
                pk: between(
                    keys.trigger_prefix(schedules[pid], since_period),
                    keys.trigger_prefix(schedules[pid]) + "~",
                )
                for pid, pk in pk_of.items()
            }
        )
        ack_rows = self.table.query_partitions(
            {
                pk: between(
                    keys.ack_prefix(schedules[pid], since_period),
                    keys.ack_prefix(schedules[pid]) + "~",
                )
                for pid, pk in pk_of.items()
            }
        )
        for pid, pk in pk_of.items():
            out.sensors[pid] = {
                r.key: r for r in (SensorRecord.from_item(i) for i in sensor_rows.get(pk, ()))
            }
            out.overrides[pid] = {
                o.name: o for o in (_override(i) for i in override_rows.get(pk, ()))
            }
            runs, completed = [], {}
            for item in run_rows.get(pk, ()):
                if item.get("status") == RunStatus.COMPLETED.value:
                    completed[keys.parse_trigger_sk(item["SK"])[1]] = item
                else:
                    runs.append(RunRow.from_item(item))
            runs.sort(key=lambda r: r.period, reverse=True)
            out.unfinished[pid], out.completed[pid] = runs, completed
            acks: dict[str, Ack] = {}
            for item in ack_rows.get(pk, ()):
                schedule, period = keys.parse_ack_sk(item["SK"])
                ack = _ack(pid, schedule, period, item, now)
                if ack.active(now):
                    acks[period] = ack
            out.acks[pid] = acks
        return out


def _ack(pid: str, schedule: str, period: str, item: Mapping[str, Any], now: datetime) -> Ack:
    return Ack(
        pipeline_id=pid,
        schedule=schedule,
        period=period,
        by=str(item.get("by", "")),
        reason=str(item.get("reason", "")),
        at=time_attr(item, "at") or now,
        until=time_attr(item, "until"),
    )


def _override(item: Mapping[str, Any]) -> Override:
    name = item.get("name")
    at = time_attr(item, "at")
    return Override(
        name=name if isinstance(name, str) else item["SK"][len(keys.OVERRIDE_PREFIX) :],
        value=item.get("value"),
        by=str(item.get("by", "")),
        at=at if at is not None else datetime.fromtimestamp(0, UTC),
        reason=str(item.get("reason", "")),
    )
