"""Tests for the event catalogue and the Event model (``interlock.events``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from interlock.events import (
    CATALOGUE,
    INFRASTRUCTURE,
    SOURCE,
    Event,
    EventSpec,
    EventType,
    Severity,
    _build_catalogue,
    catalogue_markdown,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
REPO_ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- catalogue


def test_catalogue_has_one_spec_per_type_in_enum_order() -> None:
    assert list(CATALOGUE) == list(EventType)
    for event_type, spec in CATALOGUE.items():
        assert spec.type is event_type


def test_catalogue_refuses_duplicate_specs() -> None:
    spec = CATALOGUE[EventType.SLA_MET]
    with pytest.raises(ValueError, match="SLA_MET is catalogued twice"):
        _build_catalogue([spec, spec])


def test_catalogue_is_read_only() -> None:
    with pytest.raises(TypeError):
        CATALOGUE[EventType.SLA_MET] = CATALOGUE[EventType.SLA_BREACH]  # type: ignore[index]


def test_never_emitted_data_drift_is_left_out_and_our_types_are_in() -> None:
    names = {t.value for t in EventType}
    assert "DATA_DRIFT" not in names
    assert {"SLA_ACKNOWLEDGED", "DRY_RUN_SWITCHED", "RERUN_REQUESTED", "CONFIG_INVALID"} <= names
    assert (
        len([n for n in names if n.startswith("DRY_RUN_")]) == 10
    )  # the original's 9 + DRY_RUN_SWITCHED


def test_enum_values_equal_their_names() -> None:
    # consumers' EventBridge rules match the detail-type string, so a typo in a value would drop events
    assert all(t.value == t.name for t in EventType)


@pytest.mark.parametrize(
    ("event_type", "severity", "alerts"),
    [
        (EventType.SLA_BREACH, Severity.CRITICAL, True),
        (EventType.SLA_WARNING, Severity.WARNING, True),
        (EventType.SLA_MET, Severity.INFO, True),
        (EventType.JOB_TRIGGERED, Severity.INFO, False),
        (EventType.VALIDATION_PASSED, Severity.INFO, False),
        (EventType.POST_RUN_BASELINE_CAPTURED, Severity.INFO, False),
        (EventType.POST_RUN_PASSED, Severity.INFO, False),
        (EventType.JOB_FAILED, Severity.CRITICAL, True),
        (EventType.RELATIVE_SLA_BREACH, Severity.CRITICAL, True),
        (EventType.POST_RUN_DRIFT, Severity.WARNING, True),
        (EventType.WATCHDOG_DEGRADED, Severity.WARNING, True),
        (EventType.RERUN_REQUESTED, Severity.INFO, False),
        (EventType.SLA_ACKNOWLEDGED, Severity.INFO, True),
        (EventType.CONFIG_INVALID, Severity.CRITICAL, True),
    ],
)
def test_severity_and_alert_routing(
    event_type: EventType, severity: Severity, alerts: bool
) -> None:
    spec = CATALOGUE[event_type]
    assert spec.severity is severity
    assert spec.alerts is alerts


def test_exactly_these_types_stay_out_of_slack() -> None:
    silent = {t for t, spec in CATALOGUE.items() if not spec.alerts}
    assert silent == {
        EventType.JOB_TRIGGERED,
        EventType.VALIDATION_PASSED,
        EventType.POST_RUN_BASELINE_CAPTURED,
        EventType.POST_RUN_PASSED,
        EventType.RERUN_REQUESTED,
    }


def test_the_original_red_types_are_critical() -> None:
    red = {
        "SLA_BREACH",
        "VALIDATION_EXHAUSTED",
        "RETRY_EXHAUSTED",
        "SFN_TIMEOUT",
        "JOB_POLL_EXHAUSTED",
        "SCHEDULE_MISSED",
        "JOB_FAILED",
        "INFRA_FAILURE",
    }
    for name in red:
        assert CATALOGUE[EventType(name)].severity is Severity.CRITICAL, name


@pytest.mark.parametrize("spec", list(CATALOGUE.values()), ids=lambda s: str(s.type))
def test_spec_texts_are_table_safe_sentences(spec: EventSpec) -> None:
    assert spec.summary[0].isupper() and spec.summary.endswith(".")
    assert "\n" not in spec.summary and "|" not in spec.summary
    assert spec.emitted_by.strip()
    assert len(set(spec.detail_fields)) == len(spec.detail_fields)
    assert all(re.fullmatch(r"[a-z][A-Za-z]*", name) for name in spec.detail_fields)


def test_dry_run_events_are_published_by_the_stream_router_except_the_operator_switch() -> None:
    for t in EventType:
        if t.startswith("DRY_RUN_") and t is not EventType.DRY_RUN_SWITCHED:
            assert CATALOGUE[t].emitted_by == "stream-router", t
    assert CATALOGUE[EventType.DRY_RUN_SWITCHED].emitted_by == "operator"


# ---------------------------------------------------------------- Event validation


def _envelope(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "pipelineId": "gold-revenue",
        "scheduleId": "cron",
        "date": "2026-03-02",
        "message": "pipeline gold-revenue: SLA_BREACH",
        "timestamp": "2026-03-02T10:00:00.000Z",
        "detail": {},
    }
    base.update(overrides)
    return base


def test_naive_timestamp_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValidationError, match="has no time zone"):
        Event.create(EventType.SLA_BREACH, "gold-revenue", now=datetime(2026, 3, 2, 10))


def test_naive_timestamp_string_is_refused() -> None:
    with pytest.raises(ValidationError, match="has no time zone"):
        Event.from_detail(_envelope(timestamp="2026-03-02T10:00:00"), EventType.SLA_BREACH)


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ValidationError, match="type"):
        Event.create("DATA_DRIFT", "gold-revenue", now=NOW)
    with pytest.raises(ValidationError, match="type"):
        Event.from_detail(_envelope(), "JOB_TIMEOUT")


def test_extra_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="deadline"):
        Event.from_detail(_envelope(deadline="10:00"), EventType.SLA_BREACH)


def test_envelope_carrying_its_own_type_is_refused() -> None:
    with pytest.raises(ValueError, match="detail-type separately"):
        Event.from_detail(_envelope(type="SLA_MET"), EventType.SLA_BREACH)


@pytest.mark.parametrize(
    "period", ["2026-3-2", "2026-02-30", "2026-03-02T24", "2026-03-02T7", "today"]
)
def test_malformed_period_is_refused(period: str) -> None:
    with pytest.raises(ValidationError, match="is not a run period"):
        Event.create(EventType.JOB_TRIGGERED, "gold-revenue", now=NOW, date=period)


@pytest.mark.parametrize("period", ["2026-03-02", "2026-03-02T00", "2026-03-02T23", None])
def test_daily_hourly_and_missing_periods_are_accepted(period: str | None) -> None:
    assert Event.create(EventType.JOB_TRIGGERED, "p", now=NOW, date=period).date == period


def test_empty_pipeline_id_is_refused() -> None:
    with pytest.raises(ValidationError, match="pipeline_id|pipelineId"):
        Event.create(EventType.WATCHDOG_DEGRADED, "", now=NOW)


def test_event_is_frozen() -> None:
    event = Event.create(EventType.SLA_MET, "gold-revenue", now=NOW)
    with pytest.raises(ValidationError):
        event.message = "changed"  # type: ignore[misc]


def test_both_field_names_and_camel_case_aliases_are_accepted() -> None:
    by_alias = Event.model_validate({**_envelope(), "type": "SLA_MET"})
    by_name = Event(
        type=EventType.SLA_MET,
        pipeline_id="gold-revenue",
        schedule_id="cron",
        date="2026-03-02",
        message="pipeline gold-revenue: SLA_BREACH",
        timestamp=NOW,
    )
    assert by_alias == by_name


def test_timestamp_is_normalised_to_utc_milliseconds() -> None:
    paris = timezone(timedelta(hours=1))
    event = Event.create(
        EventType.SLA_MET, "p", now=datetime(2026, 3, 2, 11, 0, 0, 123456, tzinfo=paris)
    )
    assert event.timestamp == datetime(2026, 3, 2, 10, 0, 0, 123000, tzinfo=UTC)
    assert event.timestamp.utcoffset() == timedelta(0)


# ---------------------------------------------------------------- Event behaviour


def test_create_derives_message_and_looks_up_severity_and_alerts() -> None:
    event = Event.create(EventType.SLA_BREACH, "gold-revenue", now=NOW, date="2026-03-02")
    assert event.message.startswith("SLA_BREACH for gold-revenue: ")
    assert CATALOGUE[EventType.SLA_BREACH].summary in event.message
    assert event.severity is Severity.CRITICAL
    assert event.alerts is True
    quiet = Event.create(
        EventType.JOB_TRIGGERED, "gold-revenue", now=NOW, message="triggered glue job"
    )
    assert quiet.message == "triggered glue job"
    assert quiet.severity is Severity.INFO
    assert quiet.alerts is False


def test_create_copies_detail() -> None:
    detail = {"reason": "manual"}
    event = Event.create(EventType.RERUN_REQUESTED, "p", now=NOW, detail=detail)
    detail["reason"] = "changed"
    assert event.detail == {"reason": "manual"}


def test_to_detail_envelope_shape() -> None:
    event = Event.create(
        EventType.SFN_TIMEOUT,
        "gold-revenue",
        now=datetime(2026, 3, 2, 10, 0, 5, 42000, tzinfo=UTC),
        schedule_id="stream",
        date="2026-03-02T09",
        message="stale run",
        detail={"source": "watchdog", "ttlExpired": 1772445600},
    )
    assert event.to_detail() == {
        "pipelineId": "gold-revenue",
        "scheduleId": "stream",
        "date": "2026-03-02T09",
        "message": "stale run",
        "timestamp": "2026-03-02T10:00:05.042Z",
        "detail": {"source": "watchdog", "ttlExpired": 1772445600},
    }


def test_to_detail_includes_actor_only_when_set() -> None:
    acked = Event.create(
        EventType.SLA_ACKNOWLEDGED,
        "gold-revenue",
        now=NOW,
        actor="alice@example.com",
        detail={"reason": "upstream late", "until": "2026-03-02T12:00:00Z"},
    )
    assert acked.to_detail()["actor"] == "alice@example.com"
    assert "actor" not in Event.create(EventType.SLA_MET, "gold-revenue", now=NOW).to_detail()


def test_detail_round_trip() -> None:
    original = Event.create(
        EventType.DRY_RUN_SWITCHED,
        "silver-cdr-hour",
        now=datetime(2026, 3, 2, 8, 22, 31, 987654, tzinfo=UTC),
        schedule_id="stream",
        date="2026-03-02T08",
        actor="bob",
        detail={"dryRun": True, "reason": "testing new rules"},
    )
    envelope = original.to_detail()
    restored = Event.from_detail(envelope, str(original.type))
    assert restored == original
    assert restored.to_detail() == envelope


def test_from_detail_uses_received_at_when_the_envelope_has_no_timestamp() -> None:
    # CloudWatch's input transformer builds INFRA_ALARM envelopes without a timestamp
    envelope = {"pipelineId": INFRASTRUCTURE, "message": "dlq-depth: ALARM — threshold crossed"}
    event = Event.from_detail(envelope, EventType.INFRA_ALARM, received_at=NOW)
    assert event.timestamp == NOW
    assert event.detail == {}
    assert event.schedule_id is None and event.date is None
    with pytest.raises(ValidationError, match="timestamp"):
        Event.from_detail(envelope, EventType.INFRA_ALARM)


def test_from_detail_accepts_go_nanosecond_timestamps_and_null_detail() -> None:
    envelope = _envelope(timestamp="2026-03-02T10:00:00.123456789Z", detail=None)
    event = Event.from_detail(envelope, EventType.SLA_BREACH)
    assert event.timestamp == datetime(2026, 3, 2, 10, 0, 0, 123000, tzinfo=UTC)
    assert event.detail == {}


def test_repr() -> None:
    event = Event.create(EventType.SLA_BREACH, "gold-revenue", now=NOW, date="2026-03-02")
    assert repr(event) == "<Event SLA_BREACH gold-revenue 2026-03-02 at 2026-03-02T10:00:00Z>"
    degraded = Event.create(EventType.WATCHDOG_DEGRADED, INFRASTRUCTURE, now=NOW)
    assert repr(degraded) == "<Event WATCHDOG_DEGRADED INFRASTRUCTURE at 2026-03-02T10:00:00Z>"


def test_source_constant() -> None:
    assert SOURCE == "interlock"


# ---------------------------------------------------------------- generated docs


def test_markdown_lists_every_type_once_in_catalogue_order() -> None:
    text = catalogue_markdown()
    names = re.findall(r"^\| `(\w+)` \|", text, flags=re.MULTILINE)
    assert names == [t.value for t in EventType]
    assert "interlock events catalogue --markdown" in text
    assert "must not be edited by hand" in text
    assert text.endswith("|\n")


def test_markdown_row_shows_severity_alerts_emitter_and_fields() -> None:
    row = next(
        line for line in catalogue_markdown().splitlines() if line.startswith("| `SFN_TIMEOUT`")
    )
    cells = [cell.strip() for cell in row.strip("|").split(" | ")]
    spec = CATALOGUE[EventType.SFN_TIMEOUT]
    assert cells == [
        "`SFN_TIMEOUT`",
        "critical",
        "yes",
        "watchdog",
        spec.summary,
        "`source`, `actionHint`, `ttlExpired`",
    ]
    no_detail = next(
        line for line in catalogue_markdown().splitlines() if line.startswith("| `JOB_TRIGGERED`")
    )
    assert " | info | no | " in no_detail
    assert no_detail.endswith("| — |")


def test_markdown_is_deterministic() -> None:
    assert catalogue_markdown() == catalogue_markdown()


def test_docs_events_md_is_up_to_date() -> None:
    path = REPO_ROOT / "docs" / "events.md"
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    assert committed == catalogue_markdown(), (
        "docs/events.md is out of date with interlock/events.py; regenerate it with "
        "`interlock events catalogue --markdown > docs/events.md`"
    )


# ---------------------------------------------------------------- on-call guide


def test_every_event_type_has_an_on_call_entry() -> None:
    from interlock.events import ON_CALL

    assert list(ON_CALL) == list(EventType)
    for event_type, guide in ON_CALL.items():
        assert guide.meaning.endswith((".", ")")), event_type
        assert guide.action.strip(), event_type


def test_oncall_markdown_shows_what_to_do_for_each_alert_and_the_captures() -> None:
    from interlock.events import oncall_markdown

    text = oncall_markdown({"board": "BOARD\n\n\n\nFOOTER\n", "slack-thread": "ROOT\n  ↳ REPLY\n"})
    assert "### Following in Slack" in text and "```text\nROOT\n  ↳ REPLY\n```" in text
    section = text.split("\n### SLA_BREACH\n", 1)[1].split("\n### ", 1)[0]
    assert "*critical* · from the sla-monitor" in section
    assert "**What to do.**" in section and "interlock ack PIPELINE" in section
    assert "```text\nBOARD\n\nFOOTER\n```" in text  # a screen's empty rows collapse to one
    assert "\n### JOB_TRIGGERED\n" not in text  # not an alert: in the table of quiet events
    assert "| `JOB_TRIGGERED` |" in text


def test_slack_hints_live_in_the_on_call_guide() -> None:
    from interlock.alerts.format import action_hint
    from interlock.events import ON_CALL, Event

    now = datetime(2026, 3, 2, 10, tzinfo=UTC)
    for event_type, guide in ON_CALL.items():
        if guide.hint is None or event_type is EventType.RERUN_REJECTED:
            continue
        event = Event.create(event_type, "p", schedule_id="cron", date="2026-03-02", now=now)
        assert action_hint(event) == guide.hint.format(p="p", d="2026-03-02")
