"""alert-dispatcher: the alert queue (SQS) → Slack, one thread per run.

The outbox is flushed on every invocation; a message whose Slack post fails is reported by messageId,
so SQS retries it (and dead-letters it after the queue's redrive count) instead of it being swallowed.
A redelivered message (``ApproximateReceiveCount`` > 1) is looked up in Slack before it is posted:
the failed try may have posted it (a lost answer), and Slack has no idempotency key.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from interlock.aws.runtime import AwsRuntime

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

logger = Logger(service="interlock-alert-dispatcher")


def build(runtime: AwsRuntime) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The handler over ``runtime``."""
    processor = BatchProcessor(event_type=EventType.SQS)

    def record_handler(record: SQSRecord) -> None:
        # a redelivered message may have been posted by the try that failed: look it up first
        received = str(record.raw_event.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        redelivered = received.isdigit() and int(received) > 1
        runtime.dispatch(json.loads(record.body), redelivered=redelivered)

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        flushed = runtime.flush_outbox()
        if flushed:
            logger.info("outbox flushed", delivered=flushed)
        return dict(
            process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )
        )

    return handler


handler = build(AwsRuntime.from_env("alert_dispatcher"))
