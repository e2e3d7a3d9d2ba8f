"""Key patterns: the original's formats, round trips through the parsers, and refused pieces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from interlock.store import keys

T = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)


def test_pipeline_keys_round_trip() -> None:
    assert keys.pipeline_pk("gold-revenue") == "PIPELINE#gold-revenue"
    assert keys.pipeline_id("PIPELINE#gold-revenue") == "gold-revenue"
    assert keys.CONFIG_SK == "CONFIG"


@pytest.mark.parametrize("pk", ["gold-revenue", "PIPELINE#", "PIPELINE#a#b", "CONFIG"])
def test_pipeline_id_refuses_malformed_partition_keys(pk: str) -> None:
    with pytest.raises(ValueError):
        keys.pipeline_id(pk)


@pytest.mark.parametrize(
    "build",
    [
        lambda: keys.pipeline_pk("a#b"),
        lambda: keys.pipeline_pk(""),
        lambda: keys.sensor_sk("orders#1"),
        lambda: keys.sensor_sk(""),
        lambda: keys.trigger_sk("cron", "2026-03-02#x"),
        lambda: keys.trigger_sk("", "2026-03-02"),
        lambda: keys.job_sk("cron", "2026#03", 1),
        lambda: keys.job_sk("cron", "2026-03-02", -1),
        lambda: keys.rerun_sk("cron", "2026-03-02", -1),
        lambda: keys.override_sk("dry#run"),
        lambda: keys.event_sk(1, "JOB#X", "u"),
        lambda: keys.event_sk(1, "JOB_FAILED", ""),
        lambda: keys.running_index_sk("a#b", "cron", "2026-03-02"),
        lambda: keys.bookkeeping_key("made-up", "2026-03-02"),
        lambda: keys.bookkeeping_key(keys.FIRST_SENSOR_ARRIVAL, "2026#03"),
    ],
)
def test_hash_or_empty_pieces_are_refused(build: object) -> None:
    assert callable(build)
    with pytest.raises(ValueError):
        build()


def test_sensor_keys_including_bookkeeping_rows() -> None:
    assert keys.sensor_sk("row-count") == "SENSOR#row-count"
    assert keys.parse_sensor_sk("SENSOR#row-count") == "row-count"
    arrival = keys.bookkeeping_key(keys.FIRST_SENSOR_ARRIVAL, "2026-03-02")
    assert arrival == "first-sensor-arrival#2026-03-02"
    assert keys.sensor_sk(arrival) == "SENSOR#first-sensor-arrival#2026-03-02"
    assert keys.parse_bookkeeping_key(arrival) == ("first-sensor-arrival", "2026-03-02")
    assert keys.parse_bookkeeping_key("row-count") is None
    assert keys.parse_bookkeeping_key("orders#2026-03-02") is None
    with pytest.raises(ValueError):
        keys.parse_sensor_sk("SENSOR#")
    with pytest.raises(ValueError):
        keys.parse_sensor_sk("TRIGGER#cron#2026-03-02")


def test_run_keys_round_trip() -> None:
    assert keys.trigger_sk("cron", "2026-03-02") == "TRIGGER#cron#2026-03-02"
    assert keys.parse_trigger_sk("TRIGGER#stream#2026-03-02T08") == ("stream", "2026-03-02T08")
    assert keys.rerun_request_sk("cron", "2026-03-02") == "RERUN_REQUEST#cron#2026-03-02"
    assert keys.parse_rerun_request_sk("RERUN_REQUEST#cron#2026-03-02") == ("cron", "2026-03-02")
    assert keys.dry_run_sk("stream", "2026-03-02") == "DRY_RUN#stream#2026-03-02"
    assert keys.override_sk("dry-run") == "OVERRIDE#dry-run"
    assert keys.ack_sk("cron", "2026-03-02") == "ACK#cron#2026-03-02"
    assert keys.thread_sk("cron", "2026-03-02") == "THREAD#cron#2026-03-02"
    assert keys.running_index_sk("p", "cron", "2026-03-02") == "p#cron#2026-03-02"
    assert keys.parse_running_index_sk("p#cron#2026-03-02") == ("p", "cron", "2026-03-02")


def test_trigger_prefix_of_a_day_matches_its_hours() -> None:
    prefix = keys.trigger_prefix("stream", "2026-03-02")
    assert keys.trigger_sk("stream", "2026-03-02T08").startswith(prefix)
    assert not keys.trigger_sk("cron", "2026-03-02").startswith(prefix)
    with pytest.raises(ValueError):
        keys.trigger_prefix("stream", "2026#")


@pytest.mark.parametrize(
    "sk",
    [
        "TRIGGER#cron",
        "TRIGGER#cron#",
        "TRIGGER##2026-03-02",
        "TRIGGER#cron#2026-03-02#x",
        "RERUN_REQUEST#cron#2026-03-02",
        "trigger#cron#2026-03-02",
    ],
)
def test_parse_trigger_sk_refuses_malformed_keys(sk: str) -> None:
    with pytest.raises(ValueError):
        keys.parse_trigger_sk(sk)


@pytest.mark.parametrize(
    "sk", ["RERUN_REQUEST#cron", "RERUN_REQUEST#a#b#c", "TRIGGER#cron#2026-03-02"]
)
def test_parse_rerun_request_sk_refuses_malformed_keys(sk: str) -> None:
    with pytest.raises(ValueError):
        keys.parse_rerun_request_sk(sk)


def test_job_keys_sort_by_time_and_keep_daily_and_hourly_apart() -> None:
    sk = keys.job_sk("cron", "2026-03-02", 1_772_445_600_000)
    assert sk == "JOB#cron#2026-03-02#1772445600000"
    assert keys.parse_job_sk(sk) == ("cron", "2026-03-02", 1_772_445_600_000)
    daily = keys.job_prefix("cron", "2026-03-02")
    assert daily == "JOB#cron#2026-03-02#"
    assert not keys.job_sk("cron", "2026-03-02T08", 5).startswith(daily)
    # zero padding keeps text order equal to time order
    assert keys.job_sk("cron", "d", 999) < keys.job_sk("cron", "d", 1000)


@pytest.mark.parametrize(
    "sk", ["JOB#cron#2026-03-02", "JOB#cron#2026-03-02#abc", "JOB#cron##1", "SENSOR#x"]
)
def test_parse_job_sk_refuses_malformed_keys(sk: str) -> None:
    with pytest.raises(ValueError):
        keys.parse_job_sk(sk)


def test_rerun_keys_are_zero_padded_and_parse_the_originals_too() -> None:
    assert keys.rerun_sk("cron", "2026-03-02", 3) == "RERUN#cron#2026-03-02#0003"
    assert keys.rerun_prefix("cron", "2026-03-02") == "RERUN#cron#2026-03-02#"
    assert keys.rerun_sk("cron", "d", 9) < keys.rerun_sk("cron", "d", 10)
    assert keys.parse_rerun_sk("RERUN#cron#2026-03-02#0012") == ("cron", "2026-03-02", 12)
    assert keys.parse_rerun_sk("RERUN#cron#2026-03-02#7") == ("cron", "2026-03-02", 7)
    with pytest.raises(ValueError):
        keys.parse_rerun_sk("RERUN#cron#2026-03-02#x")


def test_event_keys() -> None:
    sk = keys.event_sk(1_772_445_600_123, "JOB_FAILED", "ab12cd34")
    assert sk == "1772445600123#JOB_FAILED#ab12cd34"
    assert keys.event_sk(5, "X", "u") == "0000000000005#X#u"
    assert keys.parse_event_sk(sk) == (1_772_445_600_123, "JOB_FAILED", "ab12cd34")
    with pytest.raises(ValueError):
        keys.parse_event_sk("THREAD#cron#2026-03-02")


def test_event_range_excludes_threads_and_is_half_open() -> None:
    low, high = keys.event_range()
    thread = keys.thread_sk("cron", "2026-03-02")
    assert not low <= thread <= high
    low, high = keys.event_range(1000, 2000)
    assert low <= keys.event_sk(1000, "A", "u") <= high
    assert low <= keys.event_sk(1999, "Z", "zzzz") <= high
    assert not low <= keys.event_sk(2000, "A", "u") <= high
    assert not low <= keys.event_sk(999, "Z", "u") <= high


def test_thread_key_of_events_without_a_run() -> None:
    assert keys.thread_sk(None, None) == "THREAD##"
    with pytest.raises(ValueError):
        keys.thread_sk("a#b", None)


def test_events_hour_bucket_is_utc() -> None:
    cet = timezone(timedelta(hours=1))
    assert keys.events_hour_pk(datetime(2026, 3, 2, 0, 30, tzinfo=cet)) == "EVENTS#2026-03-01T23"
    assert keys.events_hour_pk(T) == "EVENTS#2026-03-02T10"
    with pytest.raises(ValueError):
        keys.events_hour_pk(datetime(2026, 3, 2, 10))  # noqa: DTZ001 - naive on purpose


def test_index_partitions() -> None:
    assert keys.CONFIG_INDEX_PK == "CONFIGS"
    assert keys.RUNNING_INDEX_PK == "RUNNING"


def test_times() -> None:
    assert keys.format_time(T) == "2026-03-02T10:00:00Z"
    assert keys.format_time(T + timedelta(microseconds=1500)) == "2026-03-02T10:00:00.001Z"
    cet = timezone(timedelta(hours=1))
    assert keys.parse_time("2026-03-02T11:00:00+01:00") == T
    assert keys.parse_time("2026-03-02T10:00:00.123456789Z") == T + timedelta(microseconds=123456)
    assert keys.parse_time(keys.format_time(T.astimezone(cet))) == T
    for bad in ("2026-03-02T10:00:00", "yesterday", "2026-03-02"):
        with pytest.raises(ValueError):
            keys.parse_time(bad)
    assert keys.epoch_seconds(T) == 1_772_445_600
    assert keys.epoch_ms(T + timedelta(microseconds=999)) == 1_772_445_600_000
    assert keys.from_epoch_ms(1_772_445_600_001) == T + timedelta(milliseconds=1)
    with pytest.raises(ValueError):
        keys.format_time(datetime(2026, 3, 2))  # noqa: DTZ001 - naive on purpose
