"""The watchdog's due index on the control table: one ``WATCH`` row per pipeline (see
:mod:`interlock.store.control`'s docstring, "The watch row"), mixed into
:class:`~interlock.store.control.ControlStore`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from interlock.records import (
    time_attr,
)
from interlock.store import keys
from interlock.store.table import (
    ConflictError,
    absent,
    equals,
    query_all,
    sk_eq,
    sk_lt,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from interlock.store.table import Condition, Item, Table

_GSI1PK, _GSI1SK = "GSI1PK", "GSI1SK"

__all__ = ["WatchRows"]


class WatchRows:
    """The watch-row operations of :class:`~interlock.store.control.ControlStore`."""

    table: Table

    def watch(self, pid: str, due: datetime) -> str:
        """Mark the pipeline due at ``due`` in the watchdog's index (replacing its due time).

        Returns:
            The stored ``dueAt``.
        """
        text = keys.watch_time(due)
        self.table.put(_watch_row(pid, text))
        return text

    def advance_watch(self, pid: str, due: datetime | None, *, seen: str | None) -> bool:
        """Move the pipeline's due time to ``due`` (``None``: drop the row) iff it is still ``seen``.

        Args:
            pid: the pipeline.
            due: the next due time, or ``None`` when nothing can fall due until a row changes.
            seen: the ``dueAt`` the caller read (``None``: there was no row, and there must still be
                none).

        Returns:
            ``False`` when the row changed meanwhile (a mark won; it is kept).
        """
        condition: Condition = absent() if seen is None else equals("dueAt", seen)
        try:
            if due is None:
                if seen is not None:
                    self.table.delete(keys.pipeline_pk(pid), keys.WATCH_SK, condition=condition)
                return True
            self.table.put(_watch_row(pid, keys.watch_time(due)), condition=condition)
        except ConflictError:
            return False
        return True

    def sweep_state(self) -> tuple[datetime | None, str | None]:
        """The watchdog's sweep row: when the next sweep chunk is due (``None``: never swept) and
        the last pipeline id the sweep under way has read (``None``: start from the first)."""
        item = self.table.get(keys.pipeline_pk(keys.SWEEP_PIPELINE), keys.WATCH_SK)
        if item is None:
            return None, None
        after = item.get("after")
        return time_attr(item, "dueAt"), after if isinstance(after, str) else None

    def set_sweep_state(self, due: datetime, after: str | None = None) -> None:
        """Record when the next sweep chunk is due and where it resumes (a row outside the index:
        passes read it by key)."""
        item: Item = {
            "PK": keys.pipeline_pk(keys.SWEEP_PIPELINE),
            "SK": keys.WATCH_SK,
            "dueAt": keys.watch_time(due),
        }
        if after is not None:
            item["after"] = after
        self.table.put(item)

    def watches_of(self, pids: Iterable[str]) -> dict[str, str]:
        """The ``dueAt`` of each of ``pids`` that has a watch row, in one bulk read."""
        pks = {keys.pipeline_pk(pid): pid for pid in pids}
        if not pks:
            return {}
        rows = self.table.query_partitions(dict.fromkeys(pks, sk_eq(keys.WATCH_SK)))
        out: dict[str, str] = {}
        for pk, items in rows.items():
            for item in items:
                due = item.get("dueAt")
                if isinstance(due, str):
                    out[pks[pk]] = due
        return out

    def get_watch(self, pid: str) -> str | None:
        """The pipeline's ``dueAt`` (``None``: no row)."""
        item = self.table.get(keys.pipeline_pk(pid), keys.WATCH_SK)
        due = None if item is None else item.get("dueAt")
        return due if isinstance(due, str) else None

    def due_watches(self, now: datetime, *, limit: int | None = None) -> dict[str, str]:
        """The pipelines due at ``now`` (``dueAt`` ≤ ``now``) with their ``dueAt``: one index Query.

        Args:
            now: the instant.
            limit: at most this many, the longest due first (``None``: all).
        """
        # "$" sorts right after "#": every "<now>#<pid>" is below the bound, every later due above it
        bound = keys.watch_time(now) + "$"
        out: dict[str, str] = {}
        for item in query_all(
            self.table, keys.WATCH_INDEX_PK, sk_lt(bound), index=keys.INDEX, page_size=limit
        ):
            pk, due = item.get("PK"), item.get("dueAt")
            if isinstance(pk, str) and pk.startswith(keys.PIPELINE_PREFIX) and isinstance(due, str):
                out[pk[len(keys.PIPELINE_PREFIX) :]] = due
            if limit is not None and len(out) >= limit:
                break
        return out

    def all_watches(self) -> dict[str, str]:
        """Every pipeline's ``dueAt`` (the watchdog's sweep compares them with every config)."""
        out: dict[str, str] = {}
        for item in query_all(self.table, keys.WATCH_INDEX_PK, index=keys.INDEX):
            pk, due = item.get("PK"), item.get("dueAt")
            if isinstance(pk, str) and pk.startswith(keys.PIPELINE_PREFIX) and isinstance(due, str):
                out[pk[len(keys.PIPELINE_PREFIX) :]] = due
        return out


def _watch_row(pid: str, due: str) -> Item:
    """The pipeline's watch row, due at ``due`` (a :func:`~interlock.store.keys.watch_time` text)."""
    return {
        "PK": keys.pipeline_pk(pid),
        "SK": keys.WATCH_SK,
        "dueAt": due,
        _GSI1PK: keys.WATCH_INDEX_PK,
        _GSI1SK: keys.watch_index_sk(due, pid),
    }
