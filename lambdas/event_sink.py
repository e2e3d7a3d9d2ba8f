"""event-sink: every Interlock event (and INFRA_ALARM envelopes) → one events-table row, full detail.

EventBridge delivers at least once; the row's key is derived from the event id, so a redelivery is
stored once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from interlock.aws.runtime import AwsRuntime

if TYPE_CHECKING:
    from collections.abc import Callable

logger = Logger(service="interlock-event-sink")


def build(runtime: AwsRuntime) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The handler over ``runtime``."""

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        detail = event.get("detail") or {}
        logger.append_keys(pipeline=detail.get("pipelineId"), period=detail.get("date"),
                           event_type=event.get("detail-type"))  # fmt: skip
        return {"sk": runtime.sink(event)}

    return handler


handler = build(AwsRuntime.from_env("event_sink"))
