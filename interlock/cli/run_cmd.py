"""``interlock run``: the embedded runtime on this machine, over a SQLite (or DynamoDB) store.

It loads and validates the pipelines, writes them to the store (as ``config push`` does), then loops:
handle new sensor and job-log records from the change feed, step the runs that are due, sleep until the
next wake-up or the poll interval. Everything it needs to resume lives in the store, so it can be stopped
at any point (Ctrl-C, SIGTERM) and started again. Events print to stdout; logs go to stderr as JSON lines.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import signal
import sys
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interlock.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    UsageError,
    err,
    open_store_for,
    print_problem,
)
from interlock.clock import SystemClock, wall_clock
from interlock.exceptions import ConfigError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from interlock.config.loader import Project
    from interlock.triggers.base import TriggerRunner

log = logging.getLogger("interlock.run")


class _JsonFormatter(logging.Formatter):
    """One JSON object per log line: time, level, logger, message and any ``extra`` fields."""

    _STANDARD = set(vars(logging.makeLogRecord({})))

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in self._STANDARD})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


@contextmanager
def _json_logging(verbose: bool) -> Iterator[None]:
    """JSON lines on stderr for the ``interlock`` loggers while the runtime runs; restored after.

    Restoring matters when ``main()`` is called in-process (tests, notebooks): the logger tree is global.
    """
    logger = logging.getLogger("interlock")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    handler = logging.StreamHandler()
    handler.setFormatter(_JsonFormatter())
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


MAX_POLL = 3600.0
"""The longest ``--poll`` interval accepted (seconds)."""


def check_poll(poll: float) -> None:
    """Refuse a ``--poll`` that is not a finite number of seconds in (0, 3600] (exit 2)."""
    if not math.isfinite(poll) or not 0 < poll <= MAX_POLL:
        raise UsageError(
            f"--poll {poll!r} must be a number of seconds above 0 and at most {MAX_POLL:g}"
        )


def cmd_run(args: argparse.Namespace) -> int:
    """Run the embedded runtime until interrupted (or for one tick with ``--once``)."""
    from interlock.config.loader import load_project

    check_poll(args.poll)
    try:
        project = load_project(args.pipelines, calendars=args.calendars)
    except ConfigError as exc:
        for p in exc.problems:
            print_problem(err(), p)
        return EXIT_BAD_INPUT
    with _json_logging(args.verbose):
        return _run(args, project)


def _run(args: argparse.Namespace, project: Project) -> int:
    from interlock.alerts import ConsoleNotifier
    from interlock.alerts.factory import make_notifier
    from interlock.local.runtime import EmbeddedRuntime
    from interlock.triggers import runner_for

    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    runners: dict[str, TriggerRunner] = {}
    job_state: list[Path] = []

    def triggers(job_type: str) -> TriggerRunner:
        # One runner per job type for the whole run. A command runner keeps each job's lock and exit
        # status next to the store, so a restarted runtime adopts the jobs a killed one started.
        if job_type not in runners:
            options: dict[str, Any] = {}
            if job_type in ("http", "databricks", "airflow") and args.allow_private:
                options["allow_private"] = True
            if job_type == "command":
                options["state_dir"] = job_state[0]
            runners[job_type] = runner_for(job_type, **options)
        return runners[job_type]

    try:
        with open_store_for(args, create=True) as store:
            job_state.append(job_state_dir(store))
            now = wall_clock()
            for config in project.pipelines.values():
                store.control.put_config(config, now=now)
            clock = SystemClock()
            console = ConsoleNotifier(sys.stdout, all_events=True)
            alerts = make_notifier(store, clock, stream=sys.stdout)
            notifier: Any = (
                console if isinstance(alerts, ConsoleNotifier) else _Fanout(console, alerts)
            )
            runtime = EmbeddedRuntime.build(
                store,
                clock=clock,
                triggers=triggers,
                notifier=notifier,
                calendars=project.calendars,
            )
            log.info(
                "running",
                extra={"store": store.url, "pipelines": sorted(project.pipelines)},
            )
            _loop(runtime, stop, poll=args.poll, once=args.once)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for runner in runners.values():
            close = getattr(runner, "close", None)
            if close is not None:
                close()
    log.info("stopped")
    return EXIT_OK


def job_state_dir(store: Any) -> Path:
    """Where ``command`` jobs keep their lock and exit status: next to a SQLite file
    (``<db>.jobs/``), else ``./.interlock/jobs-<hash of the store URL>/``."""
    path = getattr(store.backend, "path", None)
    if isinstance(path, Path):
        return path.with_name(path.name + ".jobs")
    digest = hashlib.sha256(str(store.url).encode()).hexdigest()[:16]
    return Path(".interlock") / f"jobs-{digest}"


class _Fanout:
    """Every event to the console, alerts to Slack too; ``flush`` re-delivers Slack's outbox."""

    def __init__(self, console: Any, alerts: Any) -> None:
        self.console = console
        self.alerts = alerts

    def __call__(self, event: Any) -> None:
        self.console.notify(event)
        self.alerts.notify(event)

    def flush(self) -> int:
        return int(self.alerts.flush())


def _loop(runtime: Any, stop: threading.Event, *, poll: float, once: bool) -> None:
    while not stop.is_set():
        report = runtime.tick()
        if report.records or report.stepped:
            log.debug(
                "tick",
                extra={"records": report.records, "stepped": list(report.stepped)},
            )
        if once:
            return
        wait = poll
        if report.next_wake is not None:
            wait = min(wait, max(0.0, (report.next_wake - wall_clock()).total_seconds()))
        stop.wait(wait)
