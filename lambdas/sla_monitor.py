"""sla-monitor: EventBridge Scheduler fires (SLA warning/breach timers and cron fires) → the controller."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from interlock.aws.runtime import AwsRuntime

if TYPE_CHECKING:
    from collections.abc import Callable

logger = Logger(service="interlock-sla-monitor")


def build(runtime: AwsRuntime) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The handler over ``runtime`` (its core is wired now: the cold start pays, not the first event)."""
    runtime.controller  # noqa: B018 - built for its side effect

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.append_keys(pipeline=event.get("pipelineId"), period=event.get("period"),
                           timer=event.get("kind"))  # fmt: skip
        runtime.refresh_configs()
        handled = runtime.on_timer(event)
        logger.info(
            "timer handled", reason=handled.reason or None, decisions=len(handled.decisions)
        )
        return {"kind": handled.kind, "decisions": len(handled.decisions), "reason": handled.reason}

    return handler


handler = build(AwsRuntime.from_env("sla_monitor"))
