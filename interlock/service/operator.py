"""Operator actions, applied: what ``interlock rerun|ack|dry-run``, the TUI and notebooks call.

Each action reads what it needs from the store, plans with the pure functions of
:mod:`interlock.lifecycle.operator`, and applies the plan through the
:class:`~interlock.service.executor.Executor` (the only writer, STYLE rule 2)::

    Operator.rerun / ack / dry_run
      ├── store.control.get_config           unknown pipeline ⇒ OperatorError naming close matches
      ├── read state                         rerun budget (store.reruns) · dry-run override
      ├── plan_rerun / plan_ack / plan_dry_run   (pure; refusals raise OperatorError)
      └── Executor.apply                     store row (request / ack / override) + one audited event
                                             whose ``actor`` is the operator

A rerun request is only a request: the controller decides on it when the row reaches the router (calendar,
budget, circuit breaker) and publishes RERUN_ACCEPTED or RERUN_REJECTED. The executor here has no
executions port: an operator action never starts a run itself.
"""

from __future__ import annotations

import difflib
import getpass
import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from interlock.lifecycle.actions import PublishEvent
from interlock.lifecycle.operator import (
    OperatorError,
    RerunBudget,
    check_period,
    check_rerun_reason,
    current_period,
    plan_ack,
    plan_dry_run,
    plan_rerun,
    rerun_budget,
)
from interlock.records import RerunReason
from interlock.service.executor import Executor, OutcomeStatus
from interlock.service.reads import dry_run_now, rerun_facts

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from interlock.config.models import Calendar, PipelineConfig
    from interlock.events import EventType
    from interlock.lifecycle.actions import Decision
    from interlock.ports import Clock, EventBus
    from interlock.store.factory import Store

__all__ = [
    "ACTOR_ENV",
    "Operator",
    "OperatorError",
    "OperatorResult",
    "RerunBudget",
    "RerunOutlook",
    "current_actor",
]

ACTOR_ENV: Final = "INTERLOCK_ACTOR"
"""Environment variable naming the operator (overrides the OS user), e.g. in a shared bastion session."""
_SUGGESTIONS: Final = 3


def current_actor(store: Store | None = None) -> str:
    """Who is operating: ``$INTERLOCK_ACTOR`` if set; on a DynamoDB store the AWS caller identity
    (STS ``GetCallerIdentity``: the role session acting, e.g. ``…:assumed-role/OnCall/alice``); else
    ``user@host`` of the OS session.

    Args:
        store: the store acted on (its driver may know a better identity than the OS user).

    Returns:
        The actor recorded in request/ack/override rows and in the events' ``actor``.
    """
    named = os.environ.get(ACTOR_ENV, "").strip()
    if named:
        return named
    identity = getattr(store.backend, "caller_identity", None) if store is not None else None
    if callable(identity):
        arn = identity()
        if isinstance(arn, str) and arn:
            return arn
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name (e.g. a container user without a passwd entry)
        user = "unknown"
    return f"{user}@{socket.gethostname() or 'localhost'}"


class _NoExecutions:
    """The executions port of the operator's executor: operator plans never start executions."""

    def start(self, name: str, input: Mapping[str, Any]) -> str:  # noqa: A002 - the port's word
        raise RuntimeError(f"an operator action tried to start execution {name!r}; it must not")


@dataclass(frozen=True, slots=True)
class OperatorResult:
    """What an operator action did.

    Attributes:
        pipeline_id: the pipeline.
        action: ``rerun``, ``ack``, ``dry-run on`` or ``dry-run off``.
        period: the run's period (``None`` for dry-run switches, which are not about one run).
        message: one line for people.
        applied: whether anything was written (``False``: already in the wanted state).
        event: the event published, if any.
        by: who acted.
        budget: for reruns, the budget before the request (the controller decides on the request).
    """

    pipeline_id: str
    action: str
    period: str | None
    message: str
    applied: bool
    event: EventType | None
    by: str
    budget: RerunBudget | None = None

    def __repr__(self) -> str:
        where = f" {self.period}" if self.period else ""
        done = "applied" if self.applied else "no change"
        event = f" → {self.event}" if self.event else ""
        return f"<OperatorResult {self.action} {self.pipeline_id}{where} {done}{event}: {self.message}>"


@dataclass(frozen=True, slots=True)
class RerunOutlook:
    """What a rerun request made now would meet (see :meth:`Operator.rerun_outlook`).

    Attributes:
        pipeline_id: the pipeline.
        period: the period the request would name.
        reason: the request's reason.
        verdict: ``accepted``, ``rejected``, ``excluded`` (calendar) or ``dry-run`` (nothing starts).
        message: the controller's words for it (e.g. "rerun rejected for p: … never ran …").
        budget: the run's rerun budget, counted for ``reason``.
    """

    pipeline_id: str
    period: str
    reason: str
    verdict: str
    message: str
    budget: RerunBudget

    @property
    def will_start(self) -> bool:
        """Whether the controller would start a rerun."""
        return self.verdict == "accepted"


class Operator:
    """Operator actions on pipelines, audited as events (see the module docstring).

    Args:
        store: the store holding configs, runs, reruns and control rows.
        bus: where the audit events go (locally :class:`~interlock.service.bus.StoreBus`).
        clock: the current time.
        actor: who acts; :func:`current_actor` if ``None``.
    """

    def __init__(
        self, store: Store, *, bus: EventBus, clock: Clock, actor: str | None = None
    ) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock
        self.actor = actor if actor is not None else current_actor(store)
        self._executor = Executor(store, bus, _NoExecutions(), clock, actor=self.actor)

    def __repr__(self) -> str:
        return f"<Operator {self.actor} on {self.store!r}>"

    # ------------------------------------------------------------------------------------ reading

    def config(self, pipeline_id: str) -> PipelineConfig:
        """A pipeline's config from the store.

        Raises:
            OperatorError: no such pipeline (the message names close matches).
            InvalidConfigError: the stored row is unusable.
        """
        config = self.store.control.get_config(pipeline_id)
        if config is not None:
            return config
        stored = self.store.control.all_configs()
        known = sorted({*stored.configs, *stored.invalid})
        close = difflib.get_close_matches(pipeline_id, known, n=_SUGGESTIONS)
        if close:
            hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
        elif known:
            hint = f"{len(known)} pipelines are stored, e.g. {', '.join(known[:_SUGGESTIONS])}"
        else:
            hint = "no pipeline configs are stored yet (interlock config push adds them)"
        raise OperatorError(f"no pipeline {pipeline_id!r} in the store: {hint}")

    def current_period(self, pipeline_id: str) -> str:
        """The period an action on ``pipeline_id`` means when none is named (see :func:`current_period`).

        Raises:
            OperatorError: no such pipeline.
        """
        return current_period(self.config(pipeline_id), self.clock.now())

    def budget(
        self, pipeline_id: str, period: str | None = None, *, reason: str = RerunReason.MANUAL
    ) -> RerunBudget:
        """The rerun budget of one run, counted for ``reason`` (drift counts are always included).

        Args:
            pipeline_id: the pipeline.
            period: the run's period (default: :meth:`current_period`).
            reason: the non-drift reason whose rows ``manual_used`` counts (drift reasons count as
                ``manual``).

        Raises:
            OperatorError: no such pipeline, a malformed period, an empty reason or ``job-fail-retry``.
        """
        config = self.config(pipeline_id)
        return self._budget(config, self._period(config, period), check_rerun_reason(reason))

    def rerun_outlook(
        self,
        pipeline_id: str,
        period: str | None = None,
        *,
        reason: str = RerunReason.MANUAL,
        calendars: Mapping[str, Calendar] | None = None,
    ) -> RerunOutlook:
        """What the controller would decide for a rerun request made now, without writing anything.

        The same facts and the same pure decision the controller uses (:func:`rerun_facts`,
        :func:`~interlock.lifecycle.reruns.decide_rerun`, or its dry-run twin), so a face can say
        "this will be rejected: budget spent" before asking for confirmation.

        Raises:
            OperatorError: no such pipeline, an empty reason, or a malformed period.
        """
        from interlock.lifecycle import dryrun, reruns
        from interlock.lifecycle.router import RerunRequested

        config = self.config(pipeline_id)
        period_id = self._period(config, period)
        text = check_rerun_reason(reason)
        schedule = config.schedule.schedule_id
        request = RerunRequested(pipeline_id, schedule, period_id, text, sequence="outlook")
        facts = rerun_facts(self.store, config, schedule, period_id, text)
        now = self.clock.now()
        if self._is_dry_run(config):
            excluded = reruns.period_exclusion(config, period_id, calendars or {})
            decision = dryrun.decide_dry_run_rerun(
                config, request, facts, excluded=excluded, now=now
            )
            verdict = "dry-run"
        else:
            decision = reruns.decide_rerun(
                config, request, facts, calendars=calendars or {}, now=now
            )
            verdict = decision.next or "rejected"
        return RerunOutlook(
            pipeline_id=pipeline_id,
            period=period_id,
            reason=text,
            verdict=verdict,
            message=decision.reason,
            budget=self._budget(config, period_id, text),
        )

    def is_dry_run(self, pipeline_id: str) -> bool:
        """Whether the pipeline is in dry run: the override if set, else its config (see
        :func:`~interlock.lifecycle.operator.effective_dry_run`).

        Raises:
            OperatorError: no such pipeline.
        """
        return self._is_dry_run(self.config(pipeline_id))

    # ------------------------------------------------------------------------------------ actions

    def rerun(
        self, pipeline_id: str, *, period: str | None = None, reason: str = RerunReason.MANUAL
    ) -> OperatorResult:
        """Ask the controller to rerun a period (it accepts or rejects, audited either way).

        A spent budget does not stop the request; the result's message says the controller will reject
        it, and :attr:`OperatorResult.budget` lets a face warn before confirming.

        Raises:
            OperatorError: no such pipeline, an empty reason, or a malformed period.
        """
        config = self.config(pipeline_id)
        period_id = self._period(config, period)
        text = check_rerun_reason(reason)
        budget = self._budget(config, period_id, text)
        decision = plan_rerun(
            config,
            period=period_id,
            reason=text,
            by=self.actor,
            now=self.clock.now(),
            budget=budget,
        )
        return self._apply(config, "rerun", period_id, decision, budget=budget)

    def ack(
        self,
        pipeline_id: str,
        *,
        period: str | None = None,
        reason: str,
        until: datetime | timedelta | None = None,
    ) -> OperatorResult:
        """Acknowledge a run's SLA alerts.

        Args:
            pipeline_id: the pipeline.
            period: the run's period (default: :meth:`current_period`).
            reason: why.
            until: when the acknowledgement lapses: an instant, a duration from now, or ``None`` for
                the rest of the run.

        Raises:
            OperatorError: no such pipeline or SLA, an empty reason, ``until`` not in the future, or a
                malformed period.
        """
        config = self.config(pipeline_id)
        now = self.clock.now()
        period_id = self._period(config, period)
        lapse = now + until if isinstance(until, timedelta) else until
        decision = plan_ack(
            config, period=period_id, by=self.actor, reason=reason, until=lapse, now=now
        )
        return self._apply(config, "ack", period_id, decision)

    def dry_run(self, pipeline_id: str, on: bool, *, reason: str) -> OperatorResult:
        """Switch a pipeline into (``on``) or out of dry run; a no-op when it is already so.

        Raises:
            OperatorError: no such pipeline, or an empty reason.
        """
        config = self.config(pipeline_id)
        decision = plan_dry_run(
            config,
            on,
            by=self.actor,
            reason=reason,
            now=self.clock.now(),
            current=self._is_dry_run(config),
        )
        return self._apply(config, f"dry-run {'on' if on else 'off'}", None, decision)

    # ------------------------------------------------------------------------------------ helpers

    def _period(self, config: PipelineConfig, period: str | None) -> str:
        now = self.clock.now()
        if period is None:
            return current_period(config, now)
        return check_period(config, period, now)

    def _budget(self, config: PipelineConfig, period: str, reason: str) -> RerunBudget:
        entries = self.store.reruns.attempts(config.id, config.schedule.schedule_id, period)
        return rerun_budget(config, (e.reason for e in entries), reason)

    def _is_dry_run(self, config: PipelineConfig) -> bool:
        return dry_run_now(self.store.control, config)

    def _apply(
        self,
        config: PipelineConfig,
        action: str,
        period: str | None,
        decision: Decision,
        *,
        budget: RerunBudget | None = None,
    ) -> OperatorResult:
        result = self._executor.apply(decision)
        applied = bool(result.outcomes) and all(
            o.status is OutcomeStatus.APPLIED for o in result.outcomes
        )
        events = [a.type for a in result.applied if isinstance(a, PublishEvent)]
        return OperatorResult(
            pipeline_id=config.id,
            action=action,
            period=period,
            message=decision.reason,
            applied=applied,
            event=events[0] if events else None,
            by=self.actor,
            budget=budget,
        )
