"""interlock.aws.stream_replay without moto: what AWS answers that moto does not (a trimmed range),
and the reading of a batch's range across GetRecords pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from interlock.aws.stream_replay import (
    BatchInfo,
    RangeGoneError,
    StreamReadError,
    StreamReplay,
    read_range,
)

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/prod-interlock-control/stream/2026-12-01T00:00:00.000"
INFO = BatchInfo(ARN, "shardId-1", "200", "400", 3)


def record(seq: int) -> dict[str, Any]:
    return {
        "eventName": "INSERT",
        "dynamodb": {
            "SequenceNumber": str(seq),
            "ApproximateCreationDateTime": datetime(2026, 12, 5, tzinfo=UTC),
            "Keys": {"PK": {"S": "PIPELINE#p"}, "SK": {"S": f"SENSOR#{seq}"}},
        },
    }


class Streams:
    """A ``dynamodbstreams`` client over pages of records (or an error for GetShardIterator)."""

    def __init__(self, pages: list[list[int]], *, error: str = "", closed: bool = True) -> None:
        self.pages, self.error, self.closed = pages, error, closed
        self.meta = SimpleNamespace(region_name="eu-west-1")
        self.asked: dict[str, Any] = {}

    def get_shard_iterator(self, **kw: Any) -> dict[str, Any]:
        self.asked = kw
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "GetShardIterator")
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803
        i = int(ShardIterator)
        page = self.pages[i] if i < len(self.pages) else []
        last = i + 1 >= len(self.pages)
        out: dict[str, Any] = {"Records": [record(s) for s in page]}
        if not (last and self.closed):
            out["NextShardIterator"] = str(i + 1)
        return out


def test_a_range_past_the_retention_is_gone() -> None:
    with pytest.raises(RangeGoneError, match="TrimmedDataAccessException"):
        read_range(Streams([], error="TrimmedDataAccessException"), INFO)


def test_another_stream_error_is_not_a_loss() -> None:
    with pytest.raises(ClientError):
        read_range(Streams([], error="AccessDeniedException"), INFO)


def test_the_range_is_read_from_its_first_record_to_its_last_across_pages() -> None:
    streams = Streams([[200, 300], [], [400, 500]], closed=False)
    got = read_range(streams, INFO)
    assert [r["dynamodb"]["SequenceNumber"] for r in got] == ["200", "300", "400"]
    assert streams.asked["ShardIteratorType"] == "AT_SEQUENCE_NUMBER"
    assert streams.asked["SequenceNumber"] == "200"
    # in the shape the stream-router receives
    assert got[0]["eventSourceARN"] == ARN and got[0]["awsRegion"] == "eu-west-1"
    assert got[0]["dynamodb"]["ApproximateCreationDateTime"] == int(
        datetime(2026, 12, 5, tzinfo=UTC).timestamp()
    )


def test_an_open_shard_that_never_shows_the_end_is_read_again_later() -> None:
    with pytest.raises(StreamReadError, match="2 records read"):
        read_range(Streams([[200, 300]], closed=False), INFO)


def test_a_closed_shard_gives_what_it_kept() -> None:
    got = read_range(Streams([[200, 300]], closed=True), INFO)
    assert len(got) == 2


class Sqs:
    def __init__(self, bodies: list[str], receives: int = 1) -> None:
        self.messages = [
            {"MessageId": str(i), "ReceiptHandle": f"h{i}", "Body": b,
             "Attributes": {"ApproximateReceiveCount": str(receives)}}
            for i, b in enumerate(bodies)
        ]  # fmt: skip
        self.deleted: list[str] = []

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        return {"Attributes": {"ApproximateNumberOfMessages": str(len(self.messages))}}

    def receive_message(self, **_: Any) -> dict[str, Any]:
        return {"Messages": list(self.messages)}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:  # noqa: N803
        self.deleted.append(ReceiptHandle)


def body(info: BatchInfo) -> str:
    return json.dumps(
        {"DDBStreamBatchInfo": {"streamArn": info.stream_arn, "shardId": info.shard_id,
                                "startSequenceNumber": info.start, "endSequenceNumber": info.end,
                                "batchSize": info.batch_size}}
    )  # fmt: skip


def test_a_record_that_fails_stops_the_batch_in_order_and_keeps_the_message() -> None:
    handled: list[str] = []

    def handle(r: Any) -> None:
        if r["dynamodb"]["SequenceNumber"] == "300":
            raise RuntimeError("store down")
        handled.append(r["dynamodb"]["SequenceNumber"])

    sqs = Sqs([body(INFO)])
    report = StreamReplay({"control": "q"}, sqs=sqs, streams=Streams([[200, 300, 400]]),
                          handle=handle).run()  # fmt: skip
    assert handled == ["200"]  # 400 is not handled before 300
    assert (report.failed, report.replayed, sqs.deleted) == (1, 0, [])


def test_a_trimmed_range_is_deleted_and_reported() -> None:
    lost: list[BatchInfo] = []
    sqs = Sqs([body(INFO)])
    report = StreamReplay({"control": "q"}, sqs=sqs,
                          streams=Streams([], error="TrimmedDataAccessException"),
                          handle=lambda r: None, on_gone=lost.append).run()  # fmt: skip
    assert lost == [INFO] and report.gone == [INFO] and sqs.deleted == ["h0"]


# The whole on-failure message Lambda sends for a DynamoDB stream batch, field for field as
# aws-lambda-powertools models it (DynamoDBStreamLambdaOnFailureDestinationModel, from the AWS docs'
# "services-dynamodb-errors" page): a second, independent reading of the shape from_body relies on.
AWS_MESSAGE: dict[str, Any] = {
    "requestContext": {
        "requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
        "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:prod-interlock-stream-router",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 4,
    },
    "responseContext": {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    },
    "version": "1.0",
    "timestamp": "2026-12-05T18:22:26.479Z",
    "DDBStreamBatchInfo": {
        "shardId": "shardId-00000001733356800000-7f1a2b3c",
        "startSequenceNumber": "800000000000012345678901",
        "endSequenceNumber": "800000000000012345678999",
        "approximateArrivalOfFirstRecord": "2026-12-05T18:21:49Z",
        "approximateArrivalOfLastRecord": "2026-12-05T18:21:50Z",
        "batchSize": 3,
        "streamArn": ARN,
    },
}


def test_the_message_lambda_sends_is_read_as_its_batch() -> None:
    from aws_lambda_powertools.utilities.parser import parse
    from aws_lambda_powertools.utilities.parser.models import (
        DynamoDBStreamLambdaOnFailureDestinationModel,
    )

    # the sample is the shape Powertools validates (so a typo in it fails here, not in production)
    parse(event=AWS_MESSAGE, model=DynamoDBStreamLambdaOnFailureDestinationModel)
    info = BatchInfo.from_body(json.dumps(AWS_MESSAGE))
    assert info == BatchInfo(
        ARN, "shardId-00000001733356800000-7f1a2b3c", "800000000000012345678901",
        "800000000000012345678999", 3,
    )  # fmt: skip


def test_the_messages_these_tests_build_are_the_shape_lambda_sends() -> None:
    from aws_lambda_powertools.utilities.parser import parse
    from aws_lambda_powertools.utilities.parser.models import (
        DynamoDBStreamLambdaOnFailureDestinationModel,
    )

    ours = json.loads(body(INFO))["DDBStreamBatchInfo"]
    theirs = AWS_MESSAGE["DDBStreamBatchInfo"]
    # what from_body reads is a subset of what Lambda sends, under the same names
    assert set(ours) <= set(theirs)
    message = {**AWS_MESSAGE, "DDBStreamBatchInfo": {**theirs, **ours}}
    parse(event=message, model=DynamoDBStreamLambdaOnFailureDestinationModel)


def test_a_message_that_is_not_a_batch_description_is_left_for_humans() -> None:
    sqs = Sqs(['{"hello": 1}'])
    report = StreamReplay({"control": "q"}, sqs=sqs, streams=Streams([]),
                          handle=lambda r: None).run()  # fmt: skip
    assert report.given_up == 1 and sqs.deleted == []


def test_a_flood_is_worked_off_over_passes_within_the_budget() -> None:
    # GIVEN more than a page of messages and a pass whose budget is spent after the first page
    now = [0.0]

    class Pages(Sqs):
        def receive_message(self, **_: Any) -> dict[str, Any]:
            now[0] += 30.0  # the page's replays take 30 s
            page, self.messages = self.messages[:10], self.messages[10:]
            return {"Messages": page}

    sqs = Pages([body(INFO)] * 25)
    streams = Streams([[200, 300, 400]])
    report = StreamReplay({"control": "q"}, sqs=sqs, streams=streams, handle=lambda r: None,
                          budget=20.0, clock=lambda: now[0]).run()  # fmt: skip
    # THEN one page was replayed, the rest is left for the next pass (not received: no try spent)
    assert (report.replayed, report.deferred) == (10, True)
    assert len(sqs.messages) == 15
