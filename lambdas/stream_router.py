"""stream-router: DynamoDB Streams of the control and job-log tables → the controller.

Partial batch failures are reported by SequenceNumber (Powertools ``BatchProcessor``); REMOVE records
and controller rows (keys not ``PIPELINE#…``) are skipped, never failed.
"""

from __future__ import annotations

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

    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

logger = Logger(service="interlock-stream-router")


def build(runtime: AwsRuntime) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The handler over ``runtime`` (its core is wired now: the cold start pays, not the first event)."""
    runtime.controller  # noqa: B018 - built for its side effect
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

    def record_handler(record: DynamoDBRecord) -> None:
        handled = runtime.on_stream_record(record.raw_event)
        if handled is not None:
            logger.info("record handled", kind=handled.kind, reason=handled.reason or None,
                        decisions=len(handled.decisions))  # fmt: skip

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        runtime.refresh_configs()
        return dict(
            process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )
        )

    return handler


handler = build(AwsRuntime.from_env("stream_router"))
