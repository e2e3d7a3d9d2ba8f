"""Slack alerts: one thread per run, its root message kept up to date, a reply per alert, nothing lost.

The only module that imports ``slack_sdk`` (install ``interlock[slack]``). Flow of one event::

    notify(event)
      ├─ an earlier event of the same run waits in the outbox, or Slack is backing off ─▶ queue behind it
      └─ deliver(event)
           ├─ no schedule/period (pipeline-level) ──▶ chat.postMessage, standalone (alerts only)
           ├─ run has no thread yet:  not an alert ──▶ nothing (the thread starts with the first alert)
           │                          alert ───────▶ chat.postMessage root (run state) ─▶ put_thread(ts)
           ├─ run has a thread ────────────────────▶ chat.update root in place (run state, last update)
           └─ alert, not acknowledged ─────────────▶ chat.postMessage reply (thread_ts = root ts)
         on failure (after slack-sdk's own retries) ──▶ outbox (durable rows in the events table)

    flush()  (every runtime tick) ─▶ deliver queued events oldest first; a failed one blocks only its
                                     own run's later events; an outage stops the pass and backs off

Retries are slack-sdk's (:func:`slack_retry_handlers`): connection errors, HTTP 500/503 and 429 with
``Retry-After``. A Retry-After longer than ``max_rate_limit_wait`` is not slept through; the event goes
to the outbox instead, so a runtime tick never blocks for a minute.

No alert twice. Slack has no idempotency key, so a ``chat.postMessage`` whose answer never came (a
timeout, a reset connection, a 5xx: Slack may have posted it) is never re-sent blindly:

* every post carries message ``metadata``: ``event_type`` ``interlock_run`` (a thread's root),
  ``interlock_alert`` (a reply or a standalone alert), ``event_payload.event_id`` = :func:`event_key`;
* slack-sdk's retry handlers are wrapped (:class:`NoBlindResend`, also around the handlers of a client
  built elsewhere) so they re-send a post only after failures that cannot have posted it (429,
  connection refused, unknown host);
* after an ambiguous failure the notifier looks the post up (:meth:`SlackNotifier._find`):
  ``conversations.replies`` of the thread, or for a root / standalone post ``conversations.history``
  from the event's time (less ``lookup_skew``), both with ``include_all_metadata``; found, its ts is
  used and nothing is posted; not found, it is posted again (up to ``resends`` times in place);
* a lookup Slack cannot answer (an outage) leaves the event in the outbox marked ``maybePosted``, and
  the lookup comes first when it is flushed; the alert-dispatcher does the same for an SQS redelivery.

The lookups need the bot scopes ``channels:history`` (public channel) or ``groups:history`` (private),
and ``channels:read`` / ``groups:read`` when the channel is given by name rather than id. Without them
a lookup is refused, logged, and the alert is posted again: at least once, as before.

Nothing lost or doubled on a crash: an event Slack must hear of is written to the outbox *in flight*
before the first request and removed after the last answer; a process killed in between leaves the
entry, and the next flush (of the restarted runtime) delivers it as above, looking its posts up first.
The root's state is kept on the run's thread row (``runEvent``, ``slaEvent``, ``lastEvent`` …), so a
restarted notifier renders the same root and keeps using the same thread.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import random
import re
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.error import URLError

from interlock.alerts.base import AlertConfigError, should_alert
from interlock.alerts.format import RunView, reply_message, root_message, standalone_message
from interlock.alerts.outbox import Outbox, run_key
from interlock.exceptions import InterlockError
from interlock.service.crashpoint import crash_point
from interlock.store import keys
from interlock.store.events import SlackThread
from interlock.store.table import ConflictError, exists

try:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError, SlackClientError
    from slack_sdk.http_retry import (
        BackoffRetryIntervalCalculator,
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
        RetryHandler,
    )
    from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "Slack alerts need slack-sdk: install interlock[slack] (pip install 'interlock[slack]')"
    ) from exc

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from datetime import datetime

    from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryIntervalCalculator, RetryState
    from slack_sdk.web import SlackResponse

    from interlock.alerts.format import Message
    from interlock.events import Event
    from interlock.ports import Clock
    from interlock.store.events import EventStore
    from interlock.store.factory import Store

__all__ = [
    "ALERT_METADATA",
    "ROOT_METADATA",
    "BoundedRateLimitRetryHandler",
    "NoBlindResend",
    "SlackDeliveryError",
    "SlackNotifier",
    "event_key",
    "guard_retry_handlers",
    "slack_retry_handlers",
]

log = logging.getLogger(__name__)

TOKEN_ENV: Final = "SLACK_BOT_TOKEN"
CHANNEL_ENV: Final = "SLACK_CHANNEL"
BASE_URL_ENV: Final = "SLACK_BASE_URL"
# Slack's own words for "try again later": treated like an HTTP 5xx (an outage, not this message's fault).
_OUTAGE_ERRORS: Final = frozenset(
    {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}
)
# Errors after which Slack says some of the operation may have been done.
_MAYBE_DONE_ERRORS: Final = frozenset({"fatal_error", "internal_error", "request_timeout"})
# chat.update on a root someone deleted: start a new thread rather than block the run's alerts for ever.
_ROOT_GONE: Final = frozenset({"message_not_found", "cant_update_message"})
# Methods that must not be re-sent after a failure that may have done them (Slack has no idempotency key).
_NOT_IDEMPOTENT: Final = frozenset({"chat.postMessage"})
# Message metadata event types: a thread's root, and a reply or standalone alert.
ROOT_METADATA: Final = "interlock_run"
ALERT_METADATA: Final = "interlock_alert"
_CHANNEL_ID: Final = re.compile(r"[CGD][A-Z0-9]{6,}")
_PAGE: Final = 200


class SlackDeliveryError(InterlockError):
    """A Slack call failed after slack-sdk's retries.

    Attributes:
        method: the Web API method (``chat.postMessage`` …).
        error: Slack's error code (``channel_not_found``) or what went wrong (``HTTP 500``).
        outage: whether Slack itself is unavailable (5xx, 429, network), so trying other messages now
            is pointless; ``False`` for errors about this request (bad channel, bad token).
        ambiguous: whether Slack may have done the request although it failed (no answer, a reset
            connection, a 5xx): a post must be looked up before it is sent again.
    """

    def __init__(self, method: str, error: str, *, outage: bool, ambiguous: bool = False) -> None:
        self.method, self.error, self.outage, self.ambiguous = method, error, outage, ambiguous
        super().__init__(f"{method}: {error}")


def event_key(event: Event) -> str:
    """A stable id of ``event`` for Slack message metadata: a hash of its type and detail envelope.

    The same event (from the outbox, an SQS redelivery, another process) always gives the same key.
    """
    body = json.dumps({"type": event.type.value, **event.to_detail()}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:24]


def _unsent(error: BaseException) -> bool:
    """Whether a client-side failure certainly happened before Slack got the request."""
    reason = error.reason if isinstance(error, URLError) else error
    return isinstance(reason, (ConnectionRefusedError, socket.gaierror))


# ----------------------------------------------------------------------------------------- retries


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(float(values[0]), 0.0)
            except ValueError:
                break
    return 1.0


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack-sdk's 429 handler, waiting out ``Retry-After`` only when it is short.

    slack-sdk's handler always sleeps ``Retry-After`` plus up to a second of jitter. A long wait would
    block the runtime's tick, and the outbox already keeps the alert safe, so longer waits are left to
    :meth:`SlackNotifier.flush`. The sleep and the jitter are injectable so tests never wait.

    Args:
        max_retry_count: retries per request.
        max_wait: the longest ``Retry-After`` (seconds) waited out in place.
        sleep: how to wait.
        jitter: seconds added to each wait (spreads retries of several clients).
    """

    def __init__(
        self,
        max_retry_count: int = 2,
        *,
        max_wait: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.sleep = sleep
        self.jitter = jitter

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return (
            super()._can_retry(state=state, request=request, response=response, error=error)
            and response is not None
            and _retry_after(response) <= self.max_wait
        )

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        wait = _retry_after(response) if response is not None else 1.0
        state.next_attempt_requested = True
        self.sleep(wait + self.jitter())
        state.increment_current_attempt()


def _method(request: HttpRequest) -> str:
    return request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class NoBlindResend(RetryHandler):
    """Wraps a slack-sdk retry handler so that a post is never re-sent after a failure that may have
    posted it: no answer, a reset connection, a timeout, a 5xx.

    Other methods (reads, ``chat.update``) and unambiguous failures of a post (429, connection refused,
    unknown host) are left to the wrapped handler. :class:`SlackNotifier` looks an ambiguous post up
    before sending it again.

    Args:
        inner: the handler to wrap.
    """

    def __init__(self, inner: RetryHandler) -> None:
        super().__init__(inner.max_retry_count, inner.interval_calculator)
        self.inner = inner

    def __repr__(self) -> str:
        return f"<NoBlindResend {type(self.inner).__name__}>"

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _method(request) in _NOT_IDEMPOTENT and _maybe_done(response, error):
            return False
        return self.inner.can_retry(state=state, request=request, response=response, error=error)

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:  # pragma: no cover - can_retry above does not call it
        return self.can_retry(state=state, request=request, response=response, error=error)

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        self.inner.prepare_for_next_attempt(
            state=state, request=request, response=response, error=error
        )


def _maybe_done(response: HttpResponse | None, error: Exception | None) -> bool:
    if response is not None:
        return response.status_code >= 500
    return error is not None and not _unsent(error)


def guard_retry_handlers(handlers: list[RetryHandler]) -> list[RetryHandler]:
    """``handlers``, each wrapped in :class:`NoBlindResend` (once)."""
    return [h if isinstance(h, NoBlindResend) else NoBlindResend(h) for h in handlers]


def slack_retry_handlers(
    *,
    max_retries: int = 2,
    interval: RetryIntervalCalculator | None = None,
    max_rate_limit_wait: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> list[RetryHandler]:
    """slack-sdk retry handlers for alerts: connection errors, HTTP 500/503, and 429 with Retry-After.

    Args:
        max_retries: retries per request for each kind of failure.
        interval: the wait between retries of connection and server errors (default: slack-sdk's
            exponential backoff with jitter, 0.5 s, 1 s …).
        max_rate_limit_wait: the longest Retry-After waited out in place (see
            :class:`BoundedRateLimitRetryHandler`).
        sleep: how a rate-limit retry waits.
        jitter: seconds added to each rate-limit wait.

    Returns:
        Handlers to pass as ``WebClient(retry_handlers=...)``, each in :class:`NoBlindResend` (a post
        is retried in place only after failures that cannot have posted it).
    """
    backoff = interval if interval is not None else BackoffRetryIntervalCalculator(0.5)
    return guard_retry_handlers(
        [
            ConnectionErrorRetryHandler(max_retry_count=max_retries, interval_calculator=backoff),
            ServerErrorRetryHandler(max_retry_count=max_retries, interval_calculator=backoff),
            BoundedRateLimitRetryHandler(
                max_retries, max_wait=max_rate_limit_wait, sleep=sleep, jitter=jitter
            ),
        ]
    )


@dataclass(frozen=True, slots=True)
class _Posted:
    ts: str
    channel: str


# ---------------------------------------------------------------------------------------- notifier


class SlackNotifier:
    """Posts alerts to Slack, one thread per run (DESIGN §4), through a durable outbox.

    Args:
        client: a ``slack_sdk.WebClient`` (give it :func:`slack_retry_handlers`); its retry handlers
            are wrapped in :class:`NoBlindResend` in place, so none re-sends a post blindly.
        channel: the channel to post in (a name such as ``#data-alerts`` or an id).
        events: the event store: run threads are kept there (``put_thread``/``get_thread``), and so is
            the outbox, in the events table.
        clock: the time for thread rows, outbox rows and the outage backoff.
        outbox: where undeliverable events wait (default: ``OUTBOX#SLACK`` in the events table).
        history: how far back to read a run's events when its thread starts, to show its state.
        backoff: after an outage, how long to queue without trying Slack (doubles up to ``max_backoff``).
        max_backoff: the longest such pause.
        resends: after an ambiguous failure of a post that a lookup did not find, how many times to
            post it again in place (then the outbox keeps it).
        lookup_skew: how far before an event's time a root lookup reads the channel's history (the
            clocks of Interlock and Slack may differ by this much).
        lookup_pages: the most pages (of 200 messages) one lookup reads.
    """

    def __init__(
        self,
        client: WebClient,
        channel: str,
        events: EventStore,
        clock: Clock,
        *,
        outbox: Outbox | None = None,
        history: timedelta = timedelta(days=3),
        backoff: timedelta = timedelta(seconds=10),
        max_backoff: timedelta = timedelta(minutes=5),
        resends: int = 2,
        lookup_skew: timedelta = timedelta(minutes=10),
        lookup_pages: int = 10,
    ) -> None:
        client.retry_handlers = guard_retry_handlers(client.retry_handlers)
        self.client = client
        self.channel = channel
        self.events = events
        self.clock = clock
        self.outbox = outbox if outbox is not None else Outbox(events.table, "SLACK")
        self.history = history
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.resends = resends
        self.lookup_skew = lookup_skew
        self.lookup_pages = lookup_pages
        self._channel_ids: dict[str, str] = {}
        self._pause: timedelta | None = None
        self._retry_at: datetime | None = None

    def __repr__(self) -> str:
        return f"<SlackNotifier {self.channel} via {self.client.base_url}>"

    @classmethod
    def from_env(
        cls,
        store: Store,
        clock: Clock,
        *,
        environ: Mapping[str, str] | None = None,
        retry_handlers: list[RetryHandler] | None = None,
        timeout: int = 10,
    ) -> SlackNotifier | None:
        """A notifier from ``SLACK_BOT_TOKEN``, ``SLACK_CHANNEL`` and optional ``SLACK_BASE_URL``.

        Args:
            store: the store whose events table keeps threads and the outbox.
            clock: the clock.
            environ: the environment to read (default: ``os.environ``).
            retry_handlers: slack-sdk retry handlers (default: :func:`slack_retry_handlers`).
            timeout: seconds per HTTP request.

        Returns:
            The notifier, or ``None`` when no token is set (alerts then go to the console).

        Raises:
            AlertConfigError: a token is set but no channel.
        """
        env = os.environ if environ is None else environ
        token = env.get(TOKEN_ENV, "").strip()
        if not token:
            return None
        channel = env.get(CHANNEL_ENV, "").strip()
        if not channel:
            raise AlertConfigError(
                f"{TOKEN_ENV} is set but {CHANNEL_ENV} is not: set {CHANNEL_ENV} to the channel for "
                "alerts (e.g. #data-alerts), or unset the token to print alerts to the console"
            )
        base_url = env.get(BASE_URL_ENV, "").strip() or WebClient.BASE_URL
        client = WebClient(
            token=token,
            base_url=base_url if base_url.endswith("/") else base_url + "/",
            timeout=timeout,
            retry_handlers=retry_handlers if retry_handlers is not None else slack_retry_handlers(),
        )
        return cls(client, channel, store.events, clock)

    # ------------------------------------------------------------------------------------ the port

    def notify(self, event: Event) -> None:
        """Deliver ``event`` now, or queue it durably when it cannot be (never raises for Slack).

        Raises:
            StoreError: the store failed (the event could be neither delivered nor queued).
        """
        now = self.clock.now()
        if self._retry_at is not None and now < self._retry_at:
            self.outbox.add(event, now=now)  # Slack is backing off after an outage
            return
        if self.outbox.holds(run_key(event)):
            # an earlier event of this run waits: keep the thread in order by queueing behind it
            self.outbox.add(event, now=now)
            self.flush()
            return
        if not self._has_work(event):
            return
        # durable before Slack hears of it: a process killed from here on leaves the entry in flight,
        # and the next flush delivers it (looking it up first), so it is neither lost nor doubled
        entry = self.outbox.add(event, now=now, in_flight=True)
        try:
            self._deliver(event)
        except SlackDeliveryError as exc:
            log.warning("Slack delivery of %r failed (%s); queued in the outbox", event, exc)
            self.outbox.failed(entry, str(exc), maybe_posted=exc.ambiguous)
            self._failed(exc)
        else:
            crash_point("slack-delivered")  # reliability tests: posted, its entry not yet removed
            self.outbox.remove(entry)
            self._recovered()

    __call__ = notify

    def flush(self) -> int:
        """Deliver queued events, oldest first, keeping each run's order.

        A failure blocks only the later events of its own run; an outage (5xx, 429, network) ends the
        pass and pauses tries for a while (see ``backoff``).

        Returns:
            How many queued events were delivered.

        Raises:
            StoreError: the store failed.
        """
        if self._retry_at is not None and self.clock.now() < self._retry_at:
            return 0
        delivered = 0
        blocked: set[str] = set()
        for entry in self.outbox.pending():
            if entry.run_key in blocked:
                continue
            if not entry.maybe_posted and not self.outbox.begin(entry):
                continue  # delivered meanwhile by another process
            try:
                self._deliver(entry.event, unsure=entry.maybe_posted)
            except SlackDeliveryError as exc:
                self.outbox.failed(entry, str(exc), maybe_posted=exc.ambiguous)
                self._failed(exc)
                if exc.outage:
                    log.warning("Slack is unavailable (%s); alerts wait in the outbox", exc)
                    break
                log.warning("queued %r still fails (%s)", entry.event, exc)
                blocked.add(entry.run_key)
                continue
            crash_point("slack-delivered")
            self.outbox.remove(entry)
            self._recovered()
            delivered += 1
        return delivered

    # ------------------------------------------------------------------------------------ delivery

    def _failed(self, exc: SlackDeliveryError) -> None:
        if not exc.outage:
            return
        pause = self.backoff if self._pause is None else min(self._pause * 2, self.max_backoff)
        self._pause = pause
        self._retry_at = self.clock.now() + pause

    def _recovered(self) -> None:
        self._pause = self._retry_at = None

    def deliver(self, event: Event, *, unsure: bool = False) -> None:
        """Deliver ``event`` now, without the outbox: a failure raises (the alert-dispatcher's SQS
        message is then retried and, in the end, dead-lettered, rather than queued here).

        Args:
            event: the event.
            unsure: an earlier delivery of it may have posted it (an SQS redelivery): look its
                messages up before posting them.

        Raises:
            SlackDeliveryError: Slack refused or failed.
        """
        self._deliver(event, unsure=unsure)

    def _has_work(self, event: Event) -> bool:
        """Whether delivering ``event`` would call Slack: an alert, or an update of its run's thread."""
        if should_alert(event):
            return True
        if not event.schedule_id or not event.date:
            return False
        return self.events.get_thread(event.pipeline_id, event.schedule_id, event.date) is not None

    def _deliver(self, event: Event, *, unsure: bool = False) -> None:
        alert = should_alert(event)
        if not event.schedule_id or not event.date:
            if alert:
                self._post(
                    self.channel, standalone_message(event), event, ALERT_METADATA, unsure=unsure
                )
            return
        thread = self.events.get_thread(event.pipeline_id, event.schedule_id, event.date)
        if thread is None and not alert:
            return  # the thread starts with the run's first alert
        view = self._view(event, thread is not None)
        root = root_message(view)
        if thread is None:
            thread = self._start_thread(event, root, unsure=unsure)
        else:
            thread = self._update_root(event, thread, root, unsure=unsure)
        self._keep_view(event, view)
        if alert:
            self._post(
                thread.channel,
                reply_message(event),
                event,
                ALERT_METADATA,
                thread_ts=thread.ts,
                unsure=unsure,
            )

    def _view(self, event: Event, has_thread: bool) -> RunView:
        if has_thread:
            row = self.events.table.get(*self._thread_key(event))
            kept = RunView.from_item(row, event) if row is not None else None
            if kept is not None:
                return kept.apply(event)
        # a new thread: fold the run's stored events so the root shows where the run is
        since = event.timestamp - self.history
        run = [
            e
            for e in self.events.for_pipeline(event.pipeline_id, since=since, newest_first=False)
            if e.schedule_id == event.schedule_id
            and e.date == event.date
            and e.timestamp <= event.timestamp
        ]
        if event not in run:
            run.append(event)
        return RunView.of(run)

    def _thread_key(self, event: Event) -> tuple[str, str]:
        return keys.pipeline_pk(event.pipeline_id), keys.thread_sk(event.schedule_id, event.date)

    def _keep_view(self, event: Event, view: RunView) -> None:
        try:
            self.events.table.update(
                *self._thread_key(event), set=view.to_item(), condition=exists()
            )
        except ConflictError:  # the row expired between calls: the next event rebuilds the view
            log.info("thread row of %r is gone; not keeping its view", event)

    def _start_thread(self, event: Event, root: Message, *, unsure: bool = False) -> SlackThread:
        posted = self._post(self.channel, root, event, ROOT_METADATA, unsure=unsure)
        ts, channel = posted.ts, posted.channel
        pid, schedule, period = event.pipeline_id, event.schedule_id, event.date
        if self.events.put_thread(
            pid, schedule, period, ts=ts, channel=channel, now=self.clock.now()
        ):
            return SlackThread(ts=ts, channel=channel)
        # another notifier started this run's thread first: use it, and withdraw our duplicate root
        existing = self.events.get_thread(pid, schedule, period)
        self._withdraw(channel, ts)
        if existing is None:  # pragma: no cover - the row expired in between; ours will do
            self.events.put_thread(
                pid, schedule, period, ts=ts, channel=channel, now=self.clock.now()
            )
            return SlackThread(ts=ts, channel=channel)
        return self._update_root(event, existing, root)

    def _update_root(
        self, event: Event, thread: SlackThread, root: Message, *, unsure: bool = False
    ) -> SlackThread:
        try:
            self._call(
                "chat.update",
                channel=thread.channel,
                ts=thread.ts,
                text=root.text,
                blocks=root.blocks,
            )
        except SlackDeliveryError as exc:
            if exc.error not in _ROOT_GONE:
                raise
            log.warning("the root of %r's thread is gone (%s); starting a new thread", event, exc)
            self.events.table.delete(*self._thread_key(event))
            return self._start_thread(event, root, unsure=unsure)
        return thread

    def _withdraw(self, channel: str, ts: str) -> None:
        try:
            self._call("chat.delete", channel=channel, ts=ts)
        except SlackDeliveryError as exc:  # a stray root is untidy, not unsafe
            log.warning("could not delete duplicate root %s in %s: %s", ts, channel, exc)

    # ------------------------------------------------------------------------- posting, once

    def _post(
        self,
        channel: str,
        message: Message,
        event: Event,
        kind: str,
        *,
        thread_ts: str | None = None,
        unsure: bool = False,
    ) -> _Posted:
        """Post ``message`` for ``event`` once: an ambiguous failure is looked up before a re-send.

        Args:
            channel: where to post (a name or an id).
            message: what to post.
            event: the event it is for (its :func:`event_key` goes into the message metadata).
            kind: :data:`ROOT_METADATA` or :data:`ALERT_METADATA`.
            thread_ts: the thread's root, for a reply.
            unsure: an earlier try may have posted it: look it up first.

        Raises:
            SlackDeliveryError: the post failed (``ambiguous`` when it may have been posted).
        """
        if unsure and (found := self._find(event, kind, channel, thread_ts)) is not None:
            log.info("%r was already posted (%s); not posting it again", event, found.ts)
            return found
        payload = {
            "event_id": event_key(event),
            "event": event.type.value,
            "pipeline": event.pipeline_id,
            "period": event.date or "",
        }
        args: dict[str, Any] = {
            "channel": channel,
            "text": message.text,
            "blocks": message.blocks,
            "metadata": {"event_type": kind, "event_payload": payload},
        }
        if thread_ts is not None:
            args["thread_ts"] = thread_ts
        resends = self.resends
        while True:
            try:
                response = self._call("chat.postMessage", **args)
            except SlackDeliveryError as exc:
                if not exc.ambiguous:
                    raise
                log.warning("posting %r may or may not have worked (%s); looking it up", event, exc)
                found = self._find(event, kind, channel, thread_ts)
                if found is not None:
                    return found
                if resends <= 0:
                    raise
                resends -= 1
                continue
            posted = _Posted(ts=str(response["ts"]), channel=str(response["channel"]))
            self._channel_ids[channel] = posted.channel
            return posted

    def _find(self, event: Event, kind: str, channel: str, thread_ts: str | None) -> _Posted | None:
        """The message of ``kind`` posted for ``event``, if Slack has it.

        A reply is looked for in its thread (``conversations.replies``), a root or standalone post in
        the channel's history from the event's time less ``lookup_skew`` (``conversations.history``),
        both with ``include_all_metadata``.

        Returns:
            Where it is, or ``None`` when it is not there or cannot be looked for (missing scopes:
            logged; the caller then posts it, at least once).

        Raises:
            SlackDeliveryError: Slack is unavailable (``ambiguous``: the post may still be there).
        """
        key = event_key(event)
        method = "conversations.replies" if thread_ts is not None else "conversations.history"
        try:
            if thread_ts is not None:
                where, args = channel, {"channel": channel, "ts": thread_ts}
            else:
                cid = self._channel_id(channel)
                if cid is None:
                    log.warning(
                        "cannot look up %r: channel %s not found (give its id, or grant "
                        "channels:read/groups:read); posting it",
                        event,
                        channel,
                    )
                    return None
                oldest = (event.timestamp - self.lookup_skew).timestamp()
                where, args = cid, {"channel": cid, "oldest": f"{oldest:.6f}"}
            for page in self._pages(method, args, "messages"):
                for message in page:
                    meta = message.get("metadata")
                    if not isinstance(meta, dict) or meta.get("event_type") != kind:
                        continue
                    fields = meta.get("event_payload")
                    if isinstance(fields, dict) and fields.get("event_id") == key:
                        return _Posted(ts=str(message["ts"]), channel=where)
        except SlackDeliveryError as exc:
            if exc.outage:
                raise SlackDeliveryError(
                    exc.method, exc.error, outage=True, ambiguous=True
                ) from exc
            log.warning(
                "cannot look up %r (%s: grant the bot channels:history or groups:history); "
                "posting it",
                event,
                exc,
            )
        return None

    def _channel_id(self, channel: str) -> str | None:
        """The id of ``channel`` (reads take ids only): as given, learnt from a post, or listed."""
        if _CHANNEL_ID.fullmatch(channel):
            return channel
        if channel in self._channel_ids:
            return self._channel_ids[channel]
        name = channel.lstrip("#")
        args = {"types": "public_channel,private_channel", "exclude_archived": True}
        for page in self._pages("conversations.list", args, "channels"):
            for found in page:
                if found.get("name") == name and isinstance(found.get("id"), str):
                    self._channel_ids[channel] = found["id"]
                    return str(found["id"])
        return None

    def _pages(self, method: str, args: dict[str, Any], field: str) -> Iterator[list[Any]]:
        """The pages of a cursor-paginated read, at most ``lookup_pages`` of them."""
        cursor = ""
        for _ in range(self.lookup_pages):
            params = {**args, "limit": _PAGE, "include_all_metadata": True}
            if cursor:
                params["cursor"] = cursor
            response = self._call(method, params=params)
            items = response.get(field)
            yield items if isinstance(items, list) else []
            meta = response.get("response_metadata")
            cursor = str(meta.get("next_cursor") or "") if isinstance(meta, dict) else ""
            if not cursor:
                return
        log.warning("%s: stopped after %d pages", method, self.lookup_pages)

    def _call(
        self, method: str, *, params: dict[str, Any] | None = None, **args: Any
    ) -> SlackResponse:
        """One Web API call (slack-sdk retries inside), its failure translated (STYLE rule 13).

        Writes send ``args`` as JSON; reads send ``params`` as a query string.
        """
        try:
            if params is not None:
                return self.client.api_call(method, http_verb="GET", params=params)
            return self.client.api_call(method, json=args)
        except SlackApiError as exc:
            status = int(exc.response.status_code)
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            outage = status == 429 or status >= 500 or error in _OUTAGE_ERRORS
            raise SlackDeliveryError(
                method,
                str(error or f"HTTP {status}"),
                outage=outage,
                ambiguous=status >= 500 or error in _MAYBE_DONE_ERRORS,
            ) from exc
        except SlackClientError as exc:  # a request refused before it was sent
            raise SlackDeliveryError(method, f"{type(exc).__name__}: {exc}", outage=True) from exc
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
            raise SlackDeliveryError(
                method, f"{type(exc).__name__}: {exc}", outage=True, ambiguous=not _unsent(exc)
            ) from exc
