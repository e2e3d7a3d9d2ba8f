"""Stream records the stream-router gave up on, read again from the stream and handled (the watchdog).

When a batch of the control or job-log stream keeps failing, Lambda's event source mapping gives up
and sends the batch's *metadata* to the mapping's on-failure destination (the ``stream_dlq`` SQS queue
of the table), never the records::

    {"requestContext": {"condition": "RetryAttemptsExhausted", ...}, "timestamp": "...",
     "DDBStreamBatchInfo": {"streamArn": "...", "shardId": "...", "startSequenceNumber": "...",
                            "endSequenceNumber": "...", "batchSize": 3,
                            "approximateArrivalOfFirstRecord": "...", ...}}

Nothing else ever reads those records again, so each watchdog pass, before its usual work::

    per queue  GetQueueAttributes (ApproximateNumberOfMessages): 0 → done (one call per empty queue)
               ReceiveMessage (≤ 10 a call, ApproximateReceiveCount, a visibility of VISIBILITY),
               again while a full page of new messages came back and the pass has spent less than
               BUDGET on replays (a flood is worked off over passes; the watchdog's own checks run)
    per message
      received more than MAX_RECEIVES times ─▶ log an error, leave it (the DLQ-depth alarm stays on)
      GetShardIterator AT_SEQUENCE_NUMBER start, GetRecords until past end
        the range is gone (TrimmedDataAccessException: past the 24 h retention; or an unknown
        stream or shard) ─▶ log an error, ``on_gone(info)``, delete the message
      each record, in order ─▶ ``handle(record)`` (the stream-router's own path)
        one raises ─▶ stop; the message stays (it is visible again after VISIBILITY, next pass)
      every record handled ─▶ DeleteMessage

Records are idempotent (exactly-once per period, DESIGN): a range replayed after the stream-router had
handled part of it, or a message delivered twice, changes nothing more.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from interlock.aws._clients import error_code
from interlock.exceptions import InterlockError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "MAX_RECEIVES",
    "BatchInfo",
    "RangeGoneError",
    "ReplayReport",
    "StreamReadError",
    "StreamReplay",
    "read_range",
]

log = logging.getLogger(__name__)

MAX_RECEIVES: Final = 5
"""A message received more often than this is left for humans (its records failed that many times)."""
VISIBILITY: Final = 120
"""Seconds a received message stays hidden (twice the watchdog's 60 s timeout: one pass owns it)."""
BUDGET: Final = 20.0
"""Seconds of replay after which a pass takes no new page of messages (the watchdog's timeout is 60 s)."""
MAX_EMPTY_READS: Final = 5
"""GetRecords answers without records, in a row, before the range is called unreadable for now."""
_GONE_CODES: Final = frozenset({"TrimmedDataAccessException", "ResourceNotFoundException"})


class StreamReadError(InterlockError):
    """The records of a failed batch could not all be read now (retried on a later pass)."""


class RangeGoneError(InterlockError):
    """The records of a failed batch can no longer be read (past retention, or no such shard)."""


@dataclass(frozen=True)
class BatchInfo:
    """A failed batch as Lambda describes it (``DDBStreamBatchInfo``).

    Attributes:
        stream_arn: the stream.
        shard_id: the shard.
        start: the first record's sequence number.
        end: the last record's sequence number.
        batch_size: how many records the batch held.
    """

    stream_arn: str
    shard_id: str
    start: str
    end: str
    batch_size: int

    @classmethod
    def from_body(cls, body: str) -> BatchInfo:
        """The batch named by an on-failure destination message.

        Raises:
            ValueError: the body is not a DynamoDB stream batch description.
        """
        try:
            info = json.loads(body)["DDBStreamBatchInfo"]
            return cls(
                stream_arn=str(info["streamArn"]),
                shard_id=str(info["shardId"]),
                start=str(info["startSequenceNumber"]),
                end=str(info["endSequenceNumber"]),
                batch_size=int(info.get("batchSize", 0)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a DynamoDB stream on-failure message: {body[:200]!r}") from exc

    def __str__(self) -> str:
        return f"{self.stream_arn} {self.shard_id} {self.start}..{self.end} ({self.batch_size})"


def _lambda_shape(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record in the shape the stream-router's Lambda receives."""
    out = dict(record)
    ddb = dict(record.get("dynamodb", {}))
    created = ddb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        ddb["ApproximateCreationDateTime"] = int(created.timestamp())
    out["dynamodb"] = ddb
    out.setdefault("eventSource", "aws:dynamodb")
    out.setdefault("awsRegion", region)
    out.setdefault("eventSourceARN", stream_arn)
    return out


def read_range(streams: Any, info: BatchInfo) -> list[dict[str, Any]]:
    """The records of ``info``'s batch, oldest first, in the Lambda shape.

    Args:
        streams: a ``dynamodbstreams`` client.
        info: the batch.

    Raises:
        RangeGoneError: the records are past the stream's retention, or the stream or shard is unknown.
        StreamReadError: an open shard did not show the range's end (retried on a later pass).
        Exception: another error of the stream (retried on a later pass).
    """
    start, end = int(info.start), int(info.end)
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=info.stream_arn,
            ShardId=info.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info.start,
        ).get("ShardIterator")
    except Exception as exc:
        if error_code(exc) in _GONE_CODES:
            raise RangeGoneError(f"{info}: {error_code(exc)}") from exc
        raise
    region = str(streams.meta.region_name)
    records: list[dict[str, Any]] = []
    empty = 0
    while iterator:
        response = streams.get_records(ShardIterator=iterator, Limit=1000)
        batch = response.get("Records", [])
        for record in batch:
            seq = int(record["dynamodb"]["SequenceNumber"])
            if seq > end:
                return records
            if seq >= start:
                records.append(_lambda_shape(record, info.stream_arn, region))
                if seq == end:
                    return records
        empty = 0 if batch else empty + 1
        if empty >= MAX_EMPTY_READS:
            # an open shard that has not shown the range's end: read again on a later pass
            raise StreamReadError(f"{info}: {len(records)} records read, the range's end not yet")
        iterator = response.get("NextShardIterator")
    return records  # a closed shard ended before ``end``: what it kept


@dataclass
class ReplayReport:
    """What one replay did.

    Attributes:
        replayed: messages whose every record was handled (deleted).
        records: records handled.
        failed: messages left in the queue (a record failed; retried on a later pass).
        gone: messages whose range can no longer be read (logged, deleted).
        given_up: messages received more than :data:`MAX_RECEIVES` times (logged, left for humans).
        deferred: the budget was spent with messages left to read (the next pass goes on).
    """

    replayed: int = 0
    records: int = 0
    failed: int = 0
    gone: list[BatchInfo] = field(default_factory=list)
    given_up: int = 0
    deferred: bool = False


class StreamReplay:
    """Reads the stream DLQs and replays the batches they name (see the module docstring).

    Args:
        queues: the DLQ URL of each table (logical name → URL).
        sqs: an SQS client.
        streams: a ``dynamodbstreams`` client.
        handle: one record → handled (raises when it fails: the stream-router's record path).
        on_gone: called for a batch whose records can no longer be read (after the error is logged).
        budget: seconds after which no new page of messages is received (:data:`BUDGET`).
        clock: monotonic seconds (the budget's clock).
    """

    def __init__(
        self,
        queues: Mapping[str, str],
        *,
        sqs: Any,
        streams: Any,
        handle: Callable[[Mapping[str, Any]], object],
        on_gone: Callable[[BatchInfo], None] | None = None,
        budget: float = BUDGET,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queues = dict(queues)
        self.sqs = sqs
        self.streams = streams
        self.handle = handle
        self.on_gone = on_gone
        self.budget = budget
        self.clock = clock
        self._started = 0.0

    def run(self) -> ReplayReport:
        """Every queue once (a failing queue is logged and skipped: the pass goes on)."""
        report = ReplayReport()
        self._started = self.clock()
        for table, url in self.queues.items():
            try:
                self._queue(table, url, report)
            except Exception:
                log.exception("stream DLQ of %s could not be read (%s)", table, url)
        return report

    def _queue(self, table: str, url: str, report: ReplayReport) -> None:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        if int(attributes.get("ApproximateNumberOfMessages", "0")) == 0:
            return
        seen: set[str] = set()
        while True:
            if self.clock() - self._started >= self.budget:
                report.deferred = True
                log.warning("stream DLQ of %s: replay budget spent; the rest next pass", table)
                return
            messages = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,  # long polling asks every SQS server: a short poll can miss one
                VisibilityTimeout=VISIBILITY,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            ).get("Messages", [])
            fresh = [m for m in messages if m["MessageId"] not in seen]
            for message in fresh:
                seen.add(message["MessageId"])
                self._message(table, url, message, report)
            if len(fresh) < 10:
                return  # no full page: the rest (if any) on the next pass, no empty wait now

    def _message(self, table: str, url: str, message: dict[str, Any], report: ReplayReport) -> None:
        receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            info = BatchInfo.from_body(message.get("Body", ""))
        except ValueError as exc:
            log.error("stream DLQ of %s: %s; left in the queue for a human", table, exc)
            report.given_up += 1
            return
        if receives > MAX_RECEIVES:
            log.error(
                "stream DLQ of %s: batch %s failed %d replays; left in the queue for a human"
                " (a record the controller cannot process: see the watchdog's earlier errors)",
                table, info, receives - 1,
            )  # fmt: skip
            report.given_up += 1
            return
        try:
            records = read_range(self.streams, info)
        except RangeGoneError as exc:
            log.error(
                "stream DLQ of %s: the records of batch %s can no longer be read (%s); they are lost",
                table, info, exc.__cause__ or exc,
            )  # fmt: skip
            report.gone.append(info)
            if self.on_gone is not None:
                self.on_gone(info)
            self._delete(url, message)
            return
        except Exception:
            log.exception("stream DLQ of %s: batch %s could not be read (replay %d of %d)",
                          table, info, receives, MAX_RECEIVES)  # fmt: skip
            report.failed += 1
            return
        if len(records) != info.batch_size:
            log.warning("stream DLQ of %s: batch %s holds %d records", table, info, len(records))
        for record in records:
            try:
                self.handle(record)
            except Exception:
                seq = record.get("dynamodb", {}).get("SequenceNumber")
                log.exception(
                    "stream DLQ of %s: record %s of batch %s failed again (replay %d of %d)",
                    table, seq, info, receives, MAX_RECEIVES,
                )  # fmt: skip
                report.failed += 1
                return
            report.records += 1
        self._delete(url, message)
        report.replayed += 1
        log.info("stream DLQ of %s: batch %s replayed (%d records)", table, info, len(records))

    def _delete(self, url: str, message: dict[str, Any]) -> None:
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
