"""SlackNotifier against FakeSlack through a real slack-sdk WebClient: one thread per run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from interlock.alerts.slack import SlackNotifier
from interlock.events import EventType
from interlock.store.events import EventStore
from tests.alerts.conftest import CHANNEL, START

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from interlock.alerts.fake_slack import FakeSlack
    from interlock.ports import VirtualClock
    from interlock.store.events import SlackThread
    from interlock.store.factory import Store
    from tests.alerts.conftest import EmitEvent, MakeNotifier

T = EventType


def test_one_thread_per_run_root_updated_in_place_replies_in_order(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent, store: Store
) -> None:
    # GIVEN a run that is triggered, warned about, fails and is then rerun
    sequence = [T.JOB_TRIGGERED, T.SLA_WARNING, T.JOB_FAILED, T.RERUN_ACCEPTED, T.JOB_COMPLETED]

    # WHEN each event reaches the notifier after it was stored
    for event_type in sequence:
        notifier.notify(emit(event_type))

    # THEN one root was posted, by the first alert, and it shows the run's state then
    roots = fake.roots()
    assert len(roots) == 1
    root = roots[0]
    assert root.channel == fake.channel_id(CHANNEL)
    assert "gold-revenue" in root.versions[0] and "2026-03-02" in root.versions[0]
    assert "running" in root.versions[0]  # folded from the stored JOB_TRIGGERED
    assert "SLA: warning" in root.versions[0]
    # every later event updated that root in place
    assert [u.args["ts"] for u in fake.updates()] == [root.ts] * 3
    assert "failed" in root.versions[1]
    assert "rerunning" in root.versions[2]
    assert "completed" in root.text and "Last update: JOB_COMPLETED" in root.text
    # replies, in order, in the root's thread
    replies = fake.replies(root.ts)
    assert [r.text.split("*")[1] for r in replies] == [
        "SLA_WARNING",
        "JOB_FAILED",
        "RERUN_ACCEPTED",
        "JOB_COMPLETED",
    ]
    assert all(r.channel == root.channel for r in replies)
    # the thread is remembered in the store
    thread = store.events.get_thread("gold-revenue", "cron", "2026-03-02")
    assert thread is not None and thread.ts == root.ts and thread.channel == root.channel


def test_reply_has_severity_emoji_deadline_and_action_hint(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent
) -> None:
    notifier.notify(
        emit(
            T.SLA_BREACH,
            message="gold-revenue missed its 10:00 SLA.",
            detail={"deadline": "10:00", "breachAt": "2026-03-02T10:00:00Z", "status": "RUNNING"},
        )
    )
    notifier.notify(emit(T.JOB_FAILED, message="The job failed."))

    root = fake.roots()[0]
    breach, failed = fake.replies(root.ts)
    assert breach.text.startswith("🚨 *SLA_BREACH* | gold-revenue | 2026-03-02")
    assert "gold-revenue missed its 10:00 SLA." in breach.text
    assert "Deadline 10:00, breach at 2026-03-02T10:00:00Z · Status: RUNNING" in breach.text
    assert "→ ack with `interlock ack gold-revenue --period 2026-03-02 --reason …`" in breach.text
    assert (
        "→ rerun with `interlock rerun gold-revenue --period 2026-03-02 --reason …`" in failed.text
    )
    assert breach.blocks is not None and breach.blocks[0]["type"] == "section"


def test_two_runs_get_two_threads(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent
) -> None:
    notifier.notify(emit(T.SLA_WARNING, date="2026-03-01"))
    notifier.notify(emit(T.SLA_WARNING, date="2026-03-02"))
    notifier.notify(emit(T.JOB_FAILED, date="2026-03-01"))
    notifier.notify(emit(T.SLA_WARNING, "silver-cdr", date="2026-03-02"))

    roots = fake.roots()
    assert len(roots) == 3
    first, second, other = roots
    assert "2026-03-01" in first.text and "2026-03-02" in second.text and "silver-cdr" in other.text
    assert [r.text.split("*")[1] for r in fake.replies(first.ts)] == ["SLA_WARNING", "JOB_FAILED"]
    assert len(fake.replies(second.ts)) == 1
    assert len(fake.replies(other.ts)) == 1


def test_ack_is_posted_in_the_thread_and_acknowledged_alerts_are_not(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent
) -> None:
    notifier.notify(emit(T.SLA_BREACH))
    notifier.notify(
        emit(
            T.SLA_ACKNOWLEDGED,
            actor="alice",
            message="alice acknowledged the SLA breach.",
            detail={"reason": "upstream late, vendor ticket 42", "until": "2026-03-02T12:00:00Z"},
        )
    )
    posts_before = len(fake.posts())
    # the SLA monitor re-fires the breach, marked acknowledged: stored, root refreshed, no new alert
    notifier.notify(emit(T.SLA_BREACH, detail={"acknowledged": True}))

    root = fake.roots()[0]
    replies = fake.replies(root.ts)
    assert [r.text.split("*")[1] for r in replies] == ["SLA_BREACH", "SLA_ACKNOWLEDGED"]
    ack = replies[1].text
    assert (
        "Acknowledged by alice until 2026-03-02T12:00:00Z: upstream late, vendor ticket 42" in ack
    )
    assert len(fake.posts()) == posts_before
    assert "SLA: acknowledged by alice until 2026-03-02T12:00:00Z" in root.text
    assert len(fake.updates()) == 2


def test_non_alerting_events_update_the_root_but_post_no_reply(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent
) -> None:
    # before the run's first alert there is no thread, so a non-alerting event posts nothing
    notifier.notify(emit(T.VALIDATION_PASSED))
    assert fake.calls == []

    notifier.notify(emit(T.VALIDATION_EXHAUSTED))
    root = fake.roots()[0]
    notifier.notify(emit(T.JOB_TRIGGERED))

    assert len(fake.posts()) == 2  # root + the VALIDATION_EXHAUSTED reply
    assert len(fake.replies(root.ts)) == 1
    assert [u.args["ts"] for u in fake.updates()] == [root.ts]
    assert "running" in root.text and "Last update: JOB_TRIGGERED" in root.text


def test_pipeline_level_events_post_standalone_messages(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent
) -> None:
    notifier.notify(emit(T.CONFIG_INVALID, date=None, detail={"file": "gold.yaml"}))
    notifier.notify(emit(T.DRY_RUN_SWITCHED, date=None, actor="bob"))

    posts = fake.posts()
    assert len(posts) == 2
    assert all("thread_ts" not in p.args for p in posts)
    assert fake.updates() == []
    assert posts[0].args["text"].startswith("🚨 *CONFIG_INVALID* | gold-revenue | —")


def test_a_restarted_notifier_keeps_the_same_thread(
    fake: FakeSlack, make_notifier: MakeNotifier, emit: EmitEvent
) -> None:
    make_notifier().notify(emit(T.SLA_WARNING))
    make_notifier().notify(emit(T.JOB_TRIGGERED))
    restarted = make_notifier()
    restarted.notify(emit(T.JOB_FAILED))

    roots = fake.roots()
    assert len(roots) == 1
    assert [r.text.split("*")[1] for r in fake.replies(roots[0].ts)] == [
        "SLA_WARNING",
        "JOB_FAILED",
    ]
    # the root's state survived the restart: the SLA warning still shows beside the failure
    assert "failed" in roots[0].text and "SLA: warning" in roots[0].text


def test_a_deleted_root_starts_a_new_thread(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent
) -> None:
    notifier.notify(emit(T.SLA_WARNING))
    old = fake.roots()[0]
    old.deleted = True  # someone deleted the root by hand

    notifier.notify(emit(T.JOB_FAILED))

    new = fake.roots()
    assert len(new) == 1 and new[0].ts != old.ts
    assert [r.text.split("*")[1] for r in fake.replies(new[0].ts)] == ["JOB_FAILED"]
    assert len(notifier.outbox) == 0


class _RacingEvents(EventStore):
    """An event store where another notifier records the run's thread just after this one looked."""

    def __init__(self, store: Store, winner: str, channel: str) -> None:
        super().__init__(store.tables["events"])
        self.winner, self.channel, self.raced = winner, channel, False

    def get_thread(self, pid: str, schedule: str | None, period: str | None) -> SlackThread | None:
        if not self.raced:
            self.raced = True
            self.put_thread(pid, schedule, period, ts=self.winner, channel=self.channel, now=START)
            return None
        return super().get_thread(pid, schedule, period)


def test_losing_the_race_to_start_a_thread_uses_the_winners(
    fake: FakeSlack, client: WebClient, store: Store, clock: VirtualClock, emit: EmitEvent
) -> None:
    winner = client.chat_postMessage(channel=CHANNEL, text="root by the other notifier")
    events = _RacingEvents(store, str(winner["ts"]), str(winner["channel"]))
    notifier = SlackNotifier(client, CHANNEL, events, clock)

    notifier.notify(emit(T.SLA_BREACH))

    [root] = fake.roots()  # our duplicate root was withdrawn
    assert root.ts == winner["ts"]
    assert "SLA: breached" in root.text
    assert [r.text.split("*")[1] for r in fake.replies(root.ts)] == ["SLA_BREACH"]
