"""orchestrator: the Task resource of ``deploy/statemachine.asl.json``.

The orchestrator decides, the executor applies, the output goes back to the state machine; a transient
trigger failure raises ``Interlock.TriggerRetry`` so the Trigger state's Retry waits its backoff.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from interlock.aws.runtime import AwsRuntime

if TYPE_CHECKING:
    from collections.abc import Callable

logger = Logger(service="interlock-orchestrator")


def build(runtime: AwsRuntime) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The handler over ``runtime`` (its core is wired now: the cold start pays, not the first event)."""
    runtime.orchestrator  # noqa: B018 - built for its side effect

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.append_keys(pipeline=event.get("pipelineId"), period=event.get("period"),
                           mode=event.get("mode"))  # fmt: skip
        output = runtime.on_task(event)
        logger.info("task done", state=output.get("state"))
        return output

    return handler


handler = build(AwsRuntime.from_env("orchestrator"))
