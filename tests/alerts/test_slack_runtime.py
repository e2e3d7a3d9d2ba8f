"""End to end: the embedded runtime's events reach a (fake) Slack as one thread per run."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from interlock.config.models import PipelineConfig
from interlock.local.runtime import EmbeddedRuntime
from interlock.local.simulate import JobBehaviour, SimulatedRunner
from tests.alerts.conftest import START
from tests.scenarios.harness import pipeline

if TYPE_CHECKING:
    from interlock.alerts.fake_slack import FakeSlack
    from interlock.alerts.slack import SlackNotifier
    from interlock.events import Event
    from interlock.ports import VirtualClock
    from interlock.store.factory import Store


def test_two_runs_make_two_threads_with_roots_updated_and_replies_in_order(
    fake: FakeSlack, notifier: SlackNotifier, store: Store, clock: VirtualClock
) -> None:
    # GIVEN a pipeline with a failing job and a retry budget, and an hourly-period world on Slack
    cfg = pipeline(
        "orders",
        job={"type": "command", "config": {"command": "true"}, "maxRetries": 1},
        sla={"deadline": ":50", "expectedDuration": "20m"},
    )
    store.control.put_config(PipelineConfig.model_validate(cfg), now=clock.now())
    runner = SimulatedRunner(clock, JobBehaviour(timedelta(minutes=10), "fail"))
    published: list[Event] = []

    def tee(event: Event) -> None:
        published.append(event)
        notifier.notify(event)

    runtime = EmbeddedRuntime.build(
        store, clock=clock, triggers=lambda _t: runner, notifier=tee, watchdog_interval=None
    )
    store.control.put_sensor("orders", "orders-count", {"count": 12}, now=clock.now())
    for hour in ("08", "09"):
        store.control.put_sensor(
            "orders",
            "orders-landed",
            {"status": "ready", "date": START.date().isoformat(), "hour": hour},
            now=clock.now(),
        )

    # WHEN the runtime runs two hours: each run fails, retries once, fails again
    runtime.run_until(START + timedelta(hours=2))

    # THEN one thread per run, its root updated in place, and alert replies in the events' order
    roots = fake.roots()
    assert len(roots) == 2
    for root, period in zip(roots, ("2026-03-02T08", "2026-03-02T09"), strict=True):
        assert period in root.text
        assert len(root.versions) > 1  # chat.update rewrote the root as the run moved on
        replies = [m.text for m in fake.replies(root.ts)]
        alerts = [e for e in published if e.date == period and e.alerts]
        assert len(replies) == len(alerts) > 0
        for text, event in zip(replies, alerts, strict=True):
            assert event.type.value in text or event.message in text
    assert "fail" in roots[0].text.lower()  # the root shows the run's latest state
