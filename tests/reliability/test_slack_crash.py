"""`kill -9` of `interlock run` in the middle of a Slack post, then a restart: every alert posted once.

Real processes: the runtime is ``python -m interlock.cli run`` with ``SLACK_BOT_TOKEN`` and
``SLACK_BASE_URL`` pointing at a :class:`~interlock.alerts.fake_slack.FakeSlack` in this process. Its
job fails, so its first alert (JOB_FAILED) starts a thread: a root post, then a reply. The fake holds
one of those posts open, unanswered, either before Slack did it or after; the test kills the runtime
while it waits, lets the held call end, and starts the runtime again. The ``slack-delivered`` crash
point kills it instead after both posts were answered, before its outbox entry is removed.

Asserted each time: one thread, one reply per alerting event, the outbox empty. Before Slack deliveries
went through an in-flight outbox row, a kill before Slack did the post lost the alert for good, and a
kill after an alert *from the outbox* was posted (at the crash point) posted it again.
"""

from __future__ import annotations

import signal
import sys
import time
from typing import TYPE_CHECKING

import pytest

from interlock.alerts.fake_slack import FakeSlack
from interlock.alerts.outbox import Outbox
from interlock.cli import main
from interlock.store import open_store
from tests.reliability.test_crash_restart import DEADLINE, Runtime, command_pipelines

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with (
        FakeSlack() as server
    ):  # the wall clock's ts, as the runtime's events are on the wall clock
        yield server


def _world(tmp_path: Path) -> tuple[Path, str]:
    pipelines = command_pipelines(tmp_path, [sys.executable, "-c", "raise SystemExit(3)"])
    return pipelines, f"sqlite:///{tmp_path}/run.db"


def _slack_env(fake: FakeSlack) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_CHANNEL": "#data-alerts",
        "SLACK_BASE_URL": fake.url,
    }


def _alerting(url: str) -> list[str]:
    with open_store(url) as store:
        return [e.type.value for e in store.events.for_pipeline("crashy") if e.alerts]


def _queued(url: str) -> int:
    with open_store(url) as store:
        return len(Outbox(store.events.table, "SLACK"))


def _settled(fake: FakeSlack, url: str) -> None:
    """Wait (with a deadline) until the outbox is empty and the thread holds every alert."""
    end = time.monotonic() + DEADLINE
    while True:
        roots = fake.roots()
        replies = fake.replies(roots[0].ts) if roots else []
        if _queued(url) == 0 and roots and len(replies) >= len(_alerting(url)):
            return
        if time.monotonic() > end:
            raise AssertionError(f"not delivered in {DEADLINE}s: {fake!r}, {_queued(url)} queued")
        time.sleep(0.05)  # polling another process's progress, not waiting out a duration


def _assert_once(fake: FakeSlack, url: str) -> None:
    [root] = fake.roots()
    texts = [m.text for m in fake.replies(root.ts)]
    alerting = _alerting(url)
    assert "JOB_FAILED" in alerting, alerting
    assert len(texts) == len(alerting), texts
    for text, kind in zip(texts, alerting, strict=True):
        assert kind in text
    assert _queued(url) == 0


@pytest.mark.parametrize(
    ("after", "posted"),
    [(0, False), (1, False), (1, True)],
    ids=["root-not-posted", "reply-not-posted", "reply-posted"],
)
def test_a_kill_9_during_a_slack_post_neither_loses_nor_doubles_the_alert(
    tmp_path: Path, fake: FakeSlack, after: int, posted: bool
) -> None:
    pipelines, url = _world(tmp_path)
    held = fake.hold_next("chat.postMessage", posted=posted, after=after)
    first = Runtime(pipelines, url, env_extra=_slack_env(fake))
    try:
        assert (
            main(["sensor", "put", "crashy", "ready", "ok=true", "--store", url, "--create"]) == 0
        )
        assert held.wait(DEADLINE), f"no post reached Slack; saw {fake.calls}"
    finally:
        first.kill()  # SIGKILL while the runtime waits inside the post
        fake.release()
    assert len(fake.roots()) == (0 if after == 0 else 1)
    second = Runtime(pipelines, url, env_extra=_slack_env(fake))
    try:
        _settled(fake, url)
    finally:
        second.kill()
    _assert_once(fake, url)


@pytest.mark.parametrize("queued_first", [False, True], ids=["direct", "from-the-outbox"])
def test_a_kill_9_after_slack_answered_does_not_post_again(
    tmp_path: Path, fake: FakeSlack, queued_first: bool
) -> None:
    pipelines, url = _world(tmp_path)
    env = _slack_env(fake)
    if queued_first:  # refused once (nothing posted): queued, and delivered by the next flush
        fake.fail_next(1, error="not_in_channel", method="chat.postMessage")
    first = Runtime(pipelines, url, crash_at="slack-delivered", env_extra=env)
    try:
        assert (
            main(["sensor", "put", "crashy", "ready", "ok=true", "--store", url, "--create"]) == 0
        )
        assert first.exited() == -signal.SIGKILL
    finally:
        first.kill()
    assert _queued(url) == 1  # posted, but its entry is still there
    second = Runtime(pipelines, url, env_extra=env)
    try:
        _settled(fake, url)
    finally:
        second.kill()
    _assert_once(fake, url)
    assert len(fake.posts()) == 1 + len(_alerting(url))  # the root and each reply, once
