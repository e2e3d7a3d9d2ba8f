"""Fixtures for alert tests: a FakeSlack server, a real slack-sdk WebClient, a SQLite store, a virtual clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry import FixedValueRetryIntervalCalculator

from interlock.alerts.fake_slack import FakeSlack
from interlock.alerts.slack import SlackNotifier, slack_retry_handlers
from interlock.events import Event, EventType
from interlock.ports import VirtualClock
from interlock.store.factory import open_store

if TYPE_CHECKING:
    from pathlib import Path

    from interlock.store.factory import Store

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CHANNEL = "#data-alerts"


@pytest.fixture(autouse=True)
def _no_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_CHANNEL", "SLACK_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def fake(clock: VirtualClock) -> Iterator[FakeSlack]:
    # Slack's ts values follow the same (virtual) time as the events, as they would in production
    with FakeSlack(clock=lambda: clock.now().timestamp()) as server:
        yield server


@pytest.fixture
def store(tmp_path: Path, clock: VirtualClock) -> Iterator[Store]:
    # the store's TTL clock is the virtual one, or rows of 2026-03-02 would expire on the wall clock
    with open_store(f"sqlite:///{tmp_path}/s.db", now=lambda: clock.now().timestamp()) as opened:
        yield opened


class Sleeps:
    """Records the waits slack-sdk's retry handlers ask for, without waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(fake: FakeSlack, sleeps: Sleeps) -> WebClient:
    # the real client against the fake; retries with no delay (server errors) and no jitter (429)
    handlers = slack_retry_handlers(
        interval=FixedValueRetryIntervalCalculator(0.0), sleep=sleeps, jitter=lambda: 0.0
    )
    return WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=handlers)


MakeNotifier = Callable[[], SlackNotifier]


@pytest.fixture
def make_notifier(client: WebClient, store: Store, clock: VirtualClock) -> MakeNotifier:
    """A new SlackNotifier over the same client, store and clock (a new one acts as a restart)."""

    def make() -> SlackNotifier:
        return SlackNotifier(client, CHANNEL, store.events, clock)

    return make


@pytest.fixture
def notifier(make_notifier: MakeNotifier) -> SlackNotifier:
    return make_notifier()


EmitEvent = Callable[..., Event]


@pytest.fixture
def emit(store: Store, clock: VirtualClock) -> EmitEvent:
    """Store an event as the bus does (store first) a minute after the last, and return it."""

    def make(
        type_: EventType,
        pipeline: str = "gold-revenue",
        date: str | None = "2026-03-02",
        *,
        schedule: str | None = "cron",
        **kwargs: Any,
    ) -> Event:
        clock.advance(timedelta(minutes=1))
        event = Event.create(
            type_,
            pipeline,
            schedule_id=schedule if date else None,
            date=date,
            now=clock.now(),
            **kwargs,
        )
        store.events.append(event)
        return event

    return make
