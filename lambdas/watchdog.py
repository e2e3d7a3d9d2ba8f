"""watchdog: stream DLQ batches replayed, then the scheduled watchdog pass (index Queries, never a
Scan) and lost cron timers set again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from interlock.aws.runtime import AwsRuntime

if TYPE_CHECKING:
    from collections.abc import Callable

logger = Logger(service="interlock-watchdog")


def build(runtime: AwsRuntime) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The handler over ``runtime`` (its core is wired now: the cold start pays, not the first event)."""
    runtime.controller  # noqa: B018 - built for its side effect

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        runtime.refresh_configs()
        handled = runtime.watchdog()
        out: dict[str, Any] = {"decisions": len(handled.decisions)}
        replay = runtime.last_replay
        if replay is not None:  # the stream DLQs replayed first (interlock.aws.stream_replay)
            out["dlq"] = {
                "replayed": replay.replayed,
                "records": replay.records,
                "failed": replay.failed,
                "lost": len(replay.gone),
                "leftForHumans": replay.given_up,
                "deferred": replay.deferred,
            }
        logger.info("watchdog pass", **out)
        return out

    return handler


handler = build(AwsRuntime.from_env("watchdog"))
