"""The AWS runtime: what one Lambda container builds once per cold start, and the calls its handler makes.

This is the **one** module that wires the core for the Lambdas (``lambdas/*.py`` import nothing else of
the core's wiring), through :func:`interlock.service.wiring.build_services` (as the embedded runtime does) with AWS adapters::

    Settings.from_env(needs)     every variable the handler needs, checked at cold start (a missing one
                                 fails it, naming the variable; SLACK_CHANNEL_ID absent = Slack off)
    AwsRuntime(settings)
      store         DynamoDBStore (*_TABLE names, else {ENVIRONMENT}-interlock-*)
      bus           EventBridgeBus(EVENT_BUS_NAME)
      executions    StepFunctionsExecutions(STATE_MACHINE_ARN)
      timers        SchedulerTimers(SCHEDULER_GROUP_NAME, SLA_MONITOR_ARN, SCHEDULER_ROLE_ARN)
      executor      Executor(store, bus, executions, clock, lock_ttl = SFN timeout + 30 min, timers)
      controller    Controller(store, executor, calendars)          (stream-router, sla-monitor, watchdog)
      orchestrator  Orchestrator(store, DurableStarts(runners))      (the state machine's Task resource)
      notifier      SlackNotifier (alert-dispatcher; slack_sdk imported only there)

    on_stream_record(record)   REMOVE and non-PIPELINE# rows skipped; a malformed record raises (its
                               SequenceNumber is reported); CONFIG rows drop the cached config, and an
                               invalid one publishes CONFIG_INVALID
    on_task(payload)           orchestrator decides, executor applies, output returned (or
                               Interlock.TriggerRetry raised for the state machine's backoff)
    on_timer(payload)          a Scheduler fire (SLA alert, cron fire; any other kind is refused)
    watchdog()                 stream DLQs replayed (interlock.aws.stream_replay), then the watchdog
                               pass; stale runs' executions stopped; lost cron timers set
    sink(event)                one events-table row per EventBridge event id (redelivery stored once)
    dispatch(body)             one Slack delivery; a failure raises so SQS retries (then dead-letters)

**Config cache.** The controller caches configs per container. A CONFIG record on the stream drops
that pipeline's entry in the container that sees it; every container also drops its whole cache when
it is older than ``CONFIG_TTL`` (60 s, ``CONFIG_CACHE_SECONDS``), so other warm containers catch up.

**Calendars.** Named calendars are bundled with the Lambda code: ``CALENDARS_PATH`` names a directory of
calendar YAML files in the zip (the Terraform module's ``calendars_path``), read once per cold start.
Without it no named calendar is known and a config that names one is refused where it is read.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

from interlock.aws.bus import EventBridgeBus
from interlock.aws.executions import StepFunctionsExecutions
from interlock.aws.timers import SchedulerTimers
from interlock.events import EventType
from interlock.exceptions import InterlockError
from interlock.store import codec, keys
from interlock.store.factory import Store

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from interlock.alerts.slack import SlackNotifier
    from interlock.aws.stream_replay import BatchInfo, ReplayReport
    from interlock.config.models import Calendar
    from interlock.ports import Clock, EventBus
    from interlock.service.controller import Controller, Handled
    from interlock.service.executor import Executor
    from interlock.service.orchestrator import Orchestrator
    from interlock.service.wiring import Services
    from interlock.triggers.base import TriggerRunner

# The core's decision machinery (controller, executor, orchestrator, lifecycle) is imported where it is
# first used, not here: the event-sink and alert-dispatcher never load it (a shorter cold start).

__all__ = [
    "CONFIG_TTL",
    "NEEDS",
    "AwsRuntime",
    "MalformedRecordError",
    "MissingSettingError",
    "Settings",
    "TriggerRetry",
    "lock_ttl_for",
]

log = logging.getLogger(__name__)

CONFIG_TTL: Final = timedelta(seconds=60)
"""How long a warm container trusts its cached configs without having seen a CONFIG record."""
DEFAULT_SFN_TIMEOUT_SECONDS: Final = 14400
"""The state machine's default ``TimeoutSeconds`` (the Terraform module's ``sfn_timeout_seconds``)."""
LOCK_MARGIN: Final = timedelta(minutes=30)
"""How much longer than the execution timeout a run row stays locked before the watchdog calls it stale."""

TABLES: Final = ("control", "joblog", "rerun", "events")
_SCHEDULER: Final = ("SLA_MONITOR_ARN", "SCHEDULER_ROLE_ARN", "SCHEDULER_GROUP_NAME")
_CORE_TABLES: Final = ("control", "joblog", "rerun")

NEEDS: Final[Mapping[str, tuple[str, ...]]] = {
    "stream_router": (*_CORE_TABLES, "STATE_MACHINE_ARN", "EVENT_BUS_NAME", *_SCHEDULER),
    "orchestrator": (*_CORE_TABLES, "EVENT_BUS_NAME"),
    "sla_monitor": (*_CORE_TABLES, "STATE_MACHINE_ARN", "EVENT_BUS_NAME", *_SCHEDULER),
    "watchdog": (*_CORE_TABLES, "STATE_MACHINE_ARN", "EVENT_BUS_NAME", *_SCHEDULER),
    "event_sink": ("events",),
    "alert_dispatcher": ("events",),
}
"""What each handler needs: table names (logical) and environment variables."""


class MissingSettingError(InterlockError):
    """A variable the handler needs is not set: the cold start fails, naming it."""


class MalformedRecordError(InterlockError):
    """A stream record the router cannot read (reported as a batch item failure)."""


class TriggerRetry(Exception):  # noqa: N818 - the name Step Functions matches is set below
    """Raised out of the orchestrator Lambda so the Trigger state's Retry waits its backoff."""


# Lambda reports ``type(exc).__name__`` as the errorType, which Step Functions matches in Retry
# (interlock.lifecycle.run.TRIGGER_RETRY_ERROR; a test keeps the two equal).
TriggerRetry.__name__ = "Interlock.TriggerRetry"


def lock_ttl_for(sfn_timeout_seconds: int) -> timedelta:
    """The run lock TTL that agrees with the state machine's timeout (timeout + 30 min)."""
    return timedelta(seconds=sfn_timeout_seconds) + LOCK_MARGIN


@dataclass(frozen=True)
class Settings:
    """The environment a handler runs with (upstream-deploy §1.5, plus ``ENVIRONMENT`` and ``*_TABLE``).

    Attributes:
        environ: the variables.
    """

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @classmethod
    def from_env(cls, handler: str, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings for ``handler`` (a key of :data:`NEEDS`), every needed variable checked.

        Raises:
            MissingSettingError: a needed variable is unset or empty (the message names it).
        """
        settings = cls(dict(os.environ if environ is None else environ))
        for need in NEEDS[handler]:
            if need in TABLES:
                settings.table(need)
            else:
                settings.require(need)
        return settings

    def get(self, name: str) -> str | None:
        """The variable's value, ``None`` when unset or blank."""
        value = self.environ.get(name, "").strip()
        return value or None

    def require(self, name: str) -> str:
        """The variable's value.

        Raises:
            MissingSettingError: it is unset or blank.
        """
        value = self.get(name)
        if value is None:
            raise MissingSettingError(
                f"environment variable {name} is not set (the handler needs it)"
            )
        return value

    def table(self, logical: str) -> str:
        """The physical name of a table: ``<LOGICAL>_TABLE``, else ``{ENVIRONMENT}-interlock-<logical>``.

        Raises:
            MissingSettingError: neither is set.
        """
        var = f"{logical.upper()}_TABLE"
        explicit = self.get(var)
        if explicit is not None:
            return explicit
        environment = self.get("ENVIRONMENT")
        if environment is None:
            raise MissingSettingError(
                f"environment variable {var} is not set (nor ENVIRONMENT, which names every table)"
            )
        return f"{environment}-interlock-{logical}"

    @property
    def sfn_timeout_seconds(self) -> int:
        """``SFN_TIMEOUT_SECONDS`` (default 14400).

        Raises:
            MissingSettingError: it is not a positive whole number.
        """
        raw = self.get("SFN_TIMEOUT_SECONDS")
        if raw is None:
            return DEFAULT_SFN_TIMEOUT_SECONDS
        if not raw.isdigit() or int(raw) <= 0:
            raise MissingSettingError(f"SFN_TIMEOUT_SECONDS must be a positive number, got {raw!r}")
        return int(raw)

    @property
    def events_ttl_days(self) -> int:
        """``EVENTS_TTL_DAYS`` (default 90)."""
        raw = self.get("EVENTS_TTL_DAYS") or "90"
        return int(raw) if raw.isdigit() and int(raw) > 0 else 90

    @property
    def config_ttl(self) -> timedelta:
        """``CONFIG_CACHE_SECONDS`` (default :data:`CONFIG_TTL`)."""
        raw = self.get("CONFIG_CACHE_SECONDS")
        return timedelta(seconds=int(raw)) if raw and raw.isdigit() else CONFIG_TTL


class _SystemClock:
    """The wall clock: a Lambda is a front-end edge, where the wall clock enters (STYLE rule 14)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class _NoExecutions:
    """The orchestrator never starts executions; a decision that tries is a programming error."""

    def start(self, name: str, input: Mapping[str, Any]) -> str:  # noqa: A002 - the port's word
        raise InterlockError(f"this handler starts no executions (asked to start {name!r})")


def _record_keys(record: Mapping[str, Any]) -> tuple[str, str]:
    ddb = record.get("dynamodb")
    raw = ddb.get("Keys") if isinstance(ddb, dict) else None
    if not isinstance(raw, dict):
        return "", ""
    try:
        plain = codec.unmarshal_item(raw)
    except (ValueError, TypeError, AttributeError):
        return "", ""
    return str(plain.get("PK", "")), str(plain.get("SK", ""))


class AwsRuntime:
    """The store, ports and core of one Lambda container (see the module docstring).

    Args:
        settings: the environment.
        clock: the clock (default: the wall clock).
        clients: boto3 clients by service name (``dynamodb``, ``dynamodbstreams``, ``stepfunctions``,
            ``scheduler``, ``events``, ``secretsmanager``, ``sqs``); any not given is built on first use.
        triggers: the trigger runner of a job type (default: :func:`interlock.triggers.runner_for`,
            one runner per type kept for the container's life).
        calendars: named calendars (default: read from ``CALENDARS_PATH`` if set).
        store: the store (default: DynamoDB, tables named by the settings).
        bus: the event bus (default: EventBridge, ``EVENT_BUS_NAME``).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        clients: Mapping[str, Any] | None = None,
        triggers: Callable[[str], TriggerRunner] | None = None,
        calendars: Mapping[str, Calendar] | None = None,
        store: Store | None = None,
        bus: EventBus | None = None,
    ) -> None:
        if store is not None:
            self.__dict__["store"] = store  # the cached_property's slot: given, not built
        if bus is not None:
            self.__dict__["bus"] = bus
        self.settings = settings
        self.clock: Clock = clock or _SystemClock()
        self.clients = dict(clients or {})
        self._triggers = triggers
        self._runners: dict[str, TriggerRunner] = {}
        self._calendars = calendars
        self._config_read_at: datetime | None = None
        self.last_replay: ReplayReport | None = None
        """What the last :meth:`replay_stream_failures` did (``None``: no DLQ configured)."""

    def __repr__(self) -> str:
        return f"<AwsRuntime {self.settings.get('ENVIRONMENT') or 'explicit tables'}>"

    @classmethod
    def from_env(cls, handler: str, environ: Mapping[str, str] | None = None) -> AwsRuntime:
        """A handler's cold start: settings checked (:meth:`Settings.from_env`), clients built lazily.

        Raises:
            MissingSettingError: a needed variable is missing (the message names it).
        """
        return cls(Settings.from_env(handler, environ))

    # ------------------------------------------------------------------------------- wiring

    @cached_property
    def store(self) -> Store:
        """The DynamoDB store (tables named by the settings)."""
        from interlock.store.dynamodb import DynamoDBStore

        names = {}
        for logical in TABLES:
            try:
                names[logical] = self.settings.table(logical)
            except MissingSettingError:
                continue  # a table this handler does not need
        backend = DynamoDBStore(
            self.settings.get("ENVIRONMENT") or "interlock",
            client=self.clients.get("dynamodb"),
            streams_client=self.clients.get("dynamodbstreams"),
            table_names=names,
        )
        return Store(backend, url=f"dynamodb://{backend.environment}")

    @cached_property
    def bus(self) -> EventBus:
        """EventBridge (``EVENT_BUS_NAME``)."""
        return EventBridgeBus(
            self.settings.require("EVENT_BUS_NAME"), client=self.clients.get("events")
        )

    @cached_property
    def executions(self) -> StepFunctionsExecutions:
        """Step Functions (``STATE_MACHINE_ARN``)."""
        return StepFunctionsExecutions(
            self.settings.require("STATE_MACHINE_ARN"), client=self.clients.get("stepfunctions")
        )

    @cached_property
    def timers(self) -> SchedulerTimers:
        """EventBridge Scheduler (``SCHEDULER_GROUP_NAME``, ``SLA_MONITOR_ARN``, ``SCHEDULER_ROLE_ARN``)."""
        return SchedulerTimers(
            self.settings.require("SCHEDULER_GROUP_NAME"),
            self.settings.require("SLA_MONITOR_ARN"),
            self.settings.require("SCHEDULER_ROLE_ARN"),
            client=self.clients.get("scheduler"),
        )

    @cached_property
    def calendars(self) -> Mapping[str, Calendar]:
        """Named calendars (``CALENDARS_PATH``, bundled with the code)."""
        if self._calendars is not None:
            return self._calendars
        path = self.settings.get("CALENDARS_PATH")
        if path is None:
            return {}
        from interlock.config.loader import load_calendars

        return load_calendars(path)

    @cached_property
    def services(self) -> Services:
        """The core's services over the AWS ports, wired by :func:`~interlock.service.wiring.build_services`
        like every runtime's (the orchestrator starts no execution and sets no timer; job starts are
        remembered, since Tasks run at least once; job polls back off)."""
        from interlock.lifecycle.run import JOB_POLL_MAX_INTERVAL
        from interlock.service.wiring import build_services

        wants_runs = self.settings.get("STATE_MACHINE_ARN") is not None
        wants_timers = self.settings.get("SCHEDULER_GROUP_NAME") is not None
        return build_services(
            self.store,
            clock=self.clock,
            executions=self.executions if wants_runs else _NoExecutions(),
            timers=self.timers if wants_timers else None,
            triggers=self._runner,
            bus=self.bus,
            calendars=self.calendars,
            lock_ttl=lock_ttl_for(self.settings.sfn_timeout_seconds),
            poll_backoff=JOB_POLL_MAX_INTERVAL,
        )

    @property
    def executor(self) -> Executor:
        """The executor (the only writer)."""
        return self.services.executor

    @property
    def controller(self) -> Controller:
        """The controller (stream records, timers, watchdog)."""
        return self.services.controller

    @property
    def orchestrator(self) -> Orchestrator:
        """The state machine's Task resource."""
        return self.services.orchestrator

    def _runner(self, job_type: str) -> TriggerRunner:
        if self._triggers is not None:
            return self._triggers(job_type)
        if job_type not in self._runners:
            from interlock.triggers import runner_for

            options: dict[str, Any] = {}
            if str(job_type) == "http":
                options["allow_private"] = self.settings.get("DISABLE_SSRF_PROTECTION") == "true"
            self._runners[job_type] = runner_for(job_type, **options)
        return self._runners[job_type]

    # ---------------------------------------------------------------------------- config cache

    def refresh_configs(self) -> None:
        """Drop every cached config once it is older than the TTL (other containers' CONFIG writes)."""
        now = self.clock.now()
        if self._config_read_at is None or now - self._config_read_at >= self.settings.config_ttl:
            self.controller.forget()
            self._config_read_at = now

    # --------------------------------------------------------------------------------- handlers

    def on_stream_record(self, record: Mapping[str, Any]) -> Handled | None:
        """Handle one DynamoDB Streams record (control or job-log table).

        Returns:
            What the controller did, or ``None`` for a skipped record (REMOVE, a non-``PIPELINE#`` row).

        Raises:
            MalformedRecordError: the record cannot be read.
            Exception: what a port raised while applying (the record is retried).
        """
        from interlock.lifecycle.router import Malformed, route

        if record.get("eventName") == "REMOVE":
            return None
        pk, sk = _record_keys(record)
        if not pk.startswith(keys.PIPELINE_PREFIX):
            return (
                None  # controller rows (RUNTIME, JOBSTART, …) also stream; they mean nothing here
            )
        routed = route(record)
        if isinstance(routed, Malformed):
            raise MalformedRecordError(f"{pk} / {sk}: {routed.reason}")
        handled = self.controller.on_record(record, self.clock.now())
        if handled.kind == "config" and handled.reason:
            self._config_invalid(pk[len(keys.PIPELINE_PREFIX) :], handled.reason)
        return handled

    def _config_invalid(self, pid: str, reason: str) -> None:
        from interlock.envelope import (
            Event,
        )  # pydantic: paid by the rare invalid config, not the import

        log.warning("invalid CONFIG of %s skipped: %s", pid, reason)
        self.bus.publish(
            Event.create(
                EventType.CONFIG_INVALID,
                pid,
                now=self.clock.now(),
                message=f"stored config of {pid} is invalid and is skipped: {reason}",
                detail={"problems": [reason]},
            )
        )

    def on_task(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """One Task of the state machine: decide, apply, answer.

        Raises:
            TriggerRetry: a transient trigger failure with retries left (after its job-log row).
            OrchestratorError: a payload the orchestrator cannot act on.
        """
        from interlock.service.wiring import TaskRetry

        try:
            output, _ = self.services.run_task(payload)
        except TaskRetry as retry:
            raise TriggerRetry(retry.cause) from None
        return output

    def on_timer(self, payload: Mapping[str, Any]) -> Handled:
        """A Scheduler fire (SLA alert or cron fire).

        Only those two kinds: the module schedules nothing else for the sla-monitor, and its role is
        granted what they need (no UpdateItem: a run's status is set by run tasks, reruns and the
        watchdog). A ``watchdog`` payload, which the embedded runtime's timers carry, is refused here:
        in AWS the watchdog function runs the pass, with the grants it needs.
        """
        from interlock.lifecycle.sla_monitor import TIMER_KIND
        from interlock.service.controller import Handled

        kind = payload.get("kind")
        if kind not in ("cron", TIMER_KIND):
            return Handled(
                "timer", reason=f"timer kind {kind!r} is not an SLA alert or a cron fire"
            )
        return self.controller.on_timer(payload, self.clock.now())

    def watchdog(self) -> Handled:
        """The watchdog pass, after the stream records the stream-router gave up on are replayed
        (:meth:`replay_stream_failures`); then stale runs' executions stopped, lost cron timers set
        again."""
        from interlock.lifecycle.actions import PublishEvent, SetRunStatus
        from interlock.lifecycle.router import execution_name

        self.replay_stream_failures()
        now = self.clock.now()
        handled = self.controller.watchdog(now)
        for decision, result in handled.decisions:
            if result.stopped is not None:
                continue
            if not any(
                isinstance(a, PublishEvent) and a.type is EventType.SFN_TIMEOUT
                for a in decision.actions
            ):
                continue
            for action in decision.actions:
                if isinstance(action, SetRunStatus) and action.attempt is not None:
                    name = execution_name(
                        action.pipeline_id, action.schedule_id, action.period, action.attempt
                    )
                    self.executions.stop(
                        self.executions.execution_arn(name), cause="run lock expired (watchdog)"
                    )
        # only the pipelines the pass read (each cron pipeline is due once per fire, every one on a
        # sweep): a lost timer is set again within a fire, without a Scheduler call per pipeline
        self.ensure_cron_timers(now, only=handled.watched)
        return handled

    def replay_stream_failures(self) -> ReplayReport | None:
        """Read the stream DLQs (``STREAM_DLQ_CONTROL_URL``, ``STREAM_DLQ_JOBLOG_URL``) and hand the
        records of each failed batch to :meth:`on_stream_record`, the stream-router's path
        (:mod:`interlock.aws.stream_replay`). A batch past the stream's retention is lost: the error
        is logged, a WATCHDOG_DEGRADED names it, and this pass sweeps every pipeline (what the lost
        records carried is found by the sweep's checks, not six hours later).

        Returns:
            What was replayed, or ``None`` when no DLQ is configured.
        """
        from interlock.aws.stream_replay import StreamReplay

        queues = {
            table: url
            for table, url in (
                ("control", self.settings.get("STREAM_DLQ_CONTROL_URL")),
                ("joblog", self.settings.get("STREAM_DLQ_JOBLOG_URL")),
            )
            if url is not None
        }
        if not queues:
            return None
        streams = self.clients.get("dynamodbstreams") or getattr(
            self.store.backend, "streams_client", None
        )
        replay = StreamReplay(
            queues,
            sqs=self._client("sqs"),
            streams=streams if streams is not None else self._client("dynamodbstreams"),
            handle=self.on_stream_record,
            on_gone=self._stream_range_lost,
        )
        report = self.last_replay = replay.run()
        if report.replayed or report.failed or report.gone or report.given_up:
            log.info(
                "stream DLQs: %d batches replayed (%d records), %d failed again, %d lost, %d left"
                " for humans",
                report.replayed, report.records, report.failed, len(report.gone), report.given_up,
            )  # fmt: skip
        return report

    def _client(self, service: str) -> Any:
        if service not in self.clients:
            from interlock.aws._clients import build_client

            self.clients[service] = build_client(service, region=None, endpoint_url=None)
        return self.clients[service]

    def _stream_range_lost(self, info: BatchInfo) -> None:
        from interlock.envelope import Event
        from interlock.events import INFRASTRUCTURE

        now = self.clock.now()
        self.store.control.set_sweep_state(now)  # this pass sweeps every pipeline
        self.bus.publish(
            Event.create(
                EventType.WATCHDOG_DEGRADED,
                INFRASTRUCTURE,
                now=now,
                message=(
                    f"stream records the stream-router gave up on are past the stream's retention"
                    f" and were not replayed: {info}; a sweep of every pipeline was started"
                ),
                detail={"errors": [f"stream records lost: {info}"]},
            )
        )

    def ensure_cron_timers(self, now: datetime, *, only: Iterable[str] | None = None) -> list[str]:
        """Set the cron timer of every cron pipeline whose timer is not set (lost, or never set).

        Args:
            now: the instant.
            only: these pipelines only (``None``: every stored config).

        Returns:
            The pipelines whose timer was set.
        """
        from interlock.service.controller import cron_timer_name
        from interlock.store.control import InvalidConfigError

        if only is None:
            configs = self.store.control.all_configs().configs
        else:
            configs = {}
            for pid in only:
                try:
                    config = self.controller.config(pid)
                except InvalidConfigError:
                    continue
                if config is not None:
                    configs[pid] = config
        set_now: list[str] = []
        for pid, config in configs.items():
            if config.schedule.cron is None or self.timers.is_set(cron_timer_name(pid)):
                continue
            self.controller.ensure_cron_timer(config, now)
            set_now.append(pid)
        return set_now

    def sink(self, event: Mapping[str, Any]) -> str:
        """Store one EventBridge event (Interlock's, or an INFRA_ALARM envelope) with its whole detail.

        Returns:
            The events-table sort key (the same for a redelivery of the same event id).

        Raises:
            ValueError: the event is not an Interlock event envelope.
        """
        from interlock.envelope import Event  # pydantic: paid by the first event, not the import

        received = _event_time(event.get("time")) or self.clock.now()
        detail = event.get("detail")
        if not isinstance(detail, dict):
            raise ValueError(f"EventBridge event without a detail object: {event.get('id')!r}")
        parsed = Event.from_detail(detail, str(event.get("detail-type")), received_at=received)
        uid = None
        if event.get("id"):
            uid = hashlib.sha256(str(event["id"]).encode()).hexdigest()[:12]
        return self.store.events.append(parsed, uid=uid)

    @cached_property
    def notifier(self) -> SlackNotifier | None:
        """The Slack notifier, or ``None`` when ``SLACK_CHANNEL_ID`` or a token is missing."""
        channel = self.settings.get("SLACK_CHANNEL_ID")
        if channel is None:
            log.warning("SLACK_CHANNEL_ID is not set: Slack alerts are off")
            return None
        from interlock.aws.secrets import slack_token

        token = slack_token(self.settings.environ, client=self.clients.get("secretsmanager"))
        if token is None:
            log.warning("neither SLACK_SECRET_ARN nor SLACK_BOT_TOKEN is set: Slack alerts are off")
            return None
        from slack_sdk import WebClient

        from interlock.alerts.slack import SlackNotifier, slack_retry_handlers
        from interlock.store.events import EventStore

        base = self.settings.get("SLACK_BASE_URL") or WebClient.BASE_URL
        client = WebClient(
            token=token,
            base_url=base if base.endswith("/") else base + "/",
            timeout=10,
            retry_handlers=slack_retry_handlers(),
        )
        events = EventStore(self.store.tables["events"], ttl_days=self.settings.events_ttl_days)
        return SlackNotifier(client, channel, events, self.clock)

    def dispatch(self, body: Mapping[str, Any], *, redelivered: bool = False) -> bool:
        """Deliver one alert (an EventBridge envelope from the alert queue) to Slack.

        Args:
            body: the EventBridge envelope.
            redelivered: SQS delivered it before (and that try failed, maybe after Slack posted
                it): its messages are looked up in Slack before they are posted.

        Returns:
            Whether Slack was called (``False``: Slack is off).

        Raises:
            SlackDeliveryError: Slack refused or failed (the message is retried by SQS).
            ValueError: the body is not an Interlock event envelope.
        """
        notifier = self.notifier
        if notifier is None:
            return False
        detail = body.get("detail")
        if not isinstance(detail, dict):
            raise ValueError("alert message without a detail object")
        from interlock.envelope import Event  # pydantic: paid by the first alert, not the import

        received = _event_time(body.get("time")) or self.clock.now()
        event = Event.from_detail(detail, str(body.get("detail-type")), received_at=received)
        notifier.deliver(event, unsure=redelivered)
        return True

    def flush_outbox(self) -> int:
        """Deliver alerts queued in the outbox (by an earlier failure), oldest first."""
        notifier = self.notifier
        return 0 if notifier is None else notifier.flush()


def _event_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return keys.parse_time(value)
    except ValueError:
        return None
