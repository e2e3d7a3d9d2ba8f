"""Pipeline config models: defaults, bounds and cross-field rules (as the original had them, plus ours)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from interlock.config.models import (
    Calendar,
    CheckName,
    GlueJob,
    PipelineConfig,
    Rule,
    TriggerCondition,
)


def minimal(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "pipeline": {"id": "p1"},
        "schedule": {"trigger": {"key": "ready"}},
        "job": {"type": "glue", "config": {"jobName": "etl"}},
    }
    data.update(overrides)
    return data


def test_defaults_follow_the_original() -> None:
    c = PipelineConfig.model_validate(minimal())
    assert isinstance(c.job, GlueJob)
    assert (
        c.job.maxRetries,
        c.job.maxCodeRetries,
        c.job.maxDriftReruns,
        c.job.maxManualReruns,
    ) == (
        0,
        1,
        1,
        1,
    )
    assert c.job.jobPollWindowSeconds == 3600
    assert c.schedule.evaluation.window == timedelta(hours=1)
    assert c.schedule.evaluation.interval == timedelta(minutes=5)
    assert c.schedule.timezone == "UTC"
    assert c.validation.trigger == "ALL"
    assert c.validation.rules == ()
    assert c.dryRun is False
    assert c.schedule_id == "stream"
    assert c.sla_timezone == "UTC"


def test_post_run_defaults() -> None:
    c = PipelineConfig.model_validate(minimal(postRun={"rules": []}))
    assert c.postRun is not None
    assert c.postRun.driftField == "sensor_count"
    assert c.postRun.driftThreshold == 0
    assert c.postRun.sensorTimeout == timedelta(hours=2)


def test_poll_window_zero_means_default_and_bounds_hold() -> None:
    c = PipelineConfig.model_validate(
        minimal(job={"type": "glue", "config": {"jobName": "x"}, "jobPollWindowSeconds": 0})
    )
    assert c.job.jobPollWindowSeconds == 3600
    with pytest.raises(ValidationError, match="out of range 60-86400"):
        PipelineConfig.model_validate(
            minimal(job={"type": "glue", "config": {"jobName": "x"}, "jobPollWindowSeconds": 59})
        )


def test_sla_zone_inherits_the_schedule_zone_unless_set() -> None:
    c = PipelineConfig.model_validate(
        minimal(
            schedule={"timezone": "Europe/Berlin", "trigger": {"key": "k"}},
            sla={"deadline": "10:00"},
        )
    )
    assert c.sla_timezone == "Europe/Berlin"
    c2 = PipelineConfig.model_validate(
        minimal(
            schedule={"timezone": "Europe/Berlin", "trigger": {"key": "k"}},
            sla={"deadline": "10:00", "timezone": "Asia/Tokyo"},
        )
    )
    assert c2.sla_timezone == "Asia/Tokyo"


def test_cron_pipeline_has_cron_schedule_id_and_translated_cron() -> None:
    c = PipelineConfig.model_validate(
        {
            "pipeline": {"id": "c"},
            "schedule": {"cron": "0 6 ? * 2-6 *"},
            "job": {"type": "command", "config": {"command": "true"}},
        }
    )
    assert c.schedule_id == "cron"
    assert c.schedule.cron == "0 6 * * 1-5"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"schedule": {}}, "nothing would ever start this pipeline"),
        (
            {"schedule": {"cron": "0 1 * * *", "include": {"dates": ["2026-01-02"]}}},
            "mutually exclusive",
        ),
        (
            {"sla": {"maxDuration": "1h"}, "schedule": {"cron": "0 1 * * *"}},
            "counts from the first",
        ),
        ({"dryRun": True, "schedule": {"cron": "0 1 * * *"}}, "dryRun observes"),
        ({"sla": {"expectedDuration": "5m"}}, "needs a deadline"),
        ({"sla": {"maxDuration": "25h"}}, "between 1s and 24h"),
        ({"sla": {"maxDuration": "30m", "expectedDuration": "30m"}}, "must be shorter"),
        ({"sla": {"deadline": ":15", "expectedDuration": "1h"}}, "hourly deadline"),
        ({"sla": {"deadline": "10:00", "expectedDuration": "24h"}}, "shorter than 24h"),
        (
            {"schedule": {"cron": "0 6 * * *"}, "sla": {"deadline": ":15"}},
            "needs hourly runs",
        ),
        ({"validation": {"trigger": "any", "rules": []}}, "could never pass"),
        (
            {
                "schedule": {
                    "trigger": {"key": "k"},
                    "evaluation": {"window": "5m", "interval": "10m"},
                }
            },
            "shorter than evaluation.interval",
        ),
        ({"pipeline": {"id": "has space"}}, "may use only letters"),
        ({"pipeline": {"id": "a#b"}}, "may use only letters"),
        ({"job": {"type": "http", "config": {"url": "ftp://x"}}}, "not an http"),
        ({"job": {"type": "command", "config": {"command": "  "}}}, "must not be empty"),
    ],
)
def test_cross_field_rules(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        PipelineConfig.model_validate(minimal(**data))


def test_models_are_frozen_and_refuse_unknown_keys() -> None:
    c = PipelineConfig.model_validate(minimal())
    with pytest.raises(ValidationError):
        c.dryRun = True  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs"):
        PipelineConfig.model_validate(minimal(extra_section={}))


def test_rule_case_and_values() -> None:
    r = Rule.model_validate({"key": "k", "check": "GTE", "field": "n", "value": "1000"})
    assert r.check is CheckName.GTE
    assert Rule(key="k", check=CheckName.AGE_GT, field="t", value="1h30m").threshold == timedelta(
        minutes=90
    )
    with pytest.raises(TypeError):
        _ = r.threshold
    with pytest.raises(ValidationError, match="numeric value"):
        Rule.model_validate({"key": "k", "check": "lt", "field": "n", "value": True})
    with pytest.raises(ValidationError, match="numeric value"):
        Rule.model_validate({"key": "k", "check": "lt", "field": "n", "value": float("nan")})
    with pytest.raises(ValidationError, match="needs a field"):
        Rule.model_validate({"key": "k", "check": "equals", "value": 1})


def test_trigger_condition_reads_like_a_rule() -> None:
    t = TriggerCondition.model_validate(
        {"key": "orders", "check": "exists", "field": "", "value": None}
    )
    assert t.as_rule() == Rule(key="orders", check=CheckName.EXISTS)
    with pytest.raises(ValidationError, match=r"schedule.cron: '0 \* \* \* \*'"):
        TriggerCondition.model_validate({"type": "cron", "expression": "0 * * * *"})
    with pytest.raises(ValidationError, match="HH:MM"):
        TriggerCondition.model_validate({"key": "k", "deadline": "noon"})


def test_a_trigger_gives_one_rule_object_so_compiled_rules_do_not_pile_up() -> None:
    # interlock.rules keeps compiled rules by identity: a new Rule per trigger write (the soak: 1,000
    # a round) filled that cache with copies and pushed the validation rules out.
    from datetime import UTC, datetime

    from interlock import rules

    t = TriggerCondition.model_validate({"key": "ready", "check": "gte", "field": "n", "value": 0})
    assert t.as_rule() is t.as_rule()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(50):
        assert rules.evaluate_rule(t.as_rule(), {"ready": {"n": n}}, now).passed
    kept = [rule for rule, _ in rules._rules.values() if rule == t.as_rule()]
    assert len(kept) == 1
    other = t.model_copy(update={"key": "done"})  # a copy with other fields gets its own rule
    assert other.as_rule().key == "done"
    assert t.as_rule().key == "ready"


def test_calendar_weekdays_and_dates() -> None:
    cal = Calendar.model_validate(
        {"name": "x", "days": ["Saturday", "sun"], "dates": ["2026-12-25"]}
    )
    assert cal.days == ("saturday", "sunday")
    assert cal.is_day_off(date(2026, 11, 28))  # a Saturday
    assert cal.is_day_off(date(2026, 12, 25))
    assert not cal.is_day_off(date(2026, 11, 25))
    with pytest.raises(ValidationError, match="not a weekday"):
        Calendar.model_validate({"name": "x", "days": ["funday"]})
    with pytest.raises(ValidationError, match="not a real date"):
        Calendar.model_validate({"name": "x", "dates": ["2026-02-30"]})
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        Calendar.model_validate({"name": "x", "dates": [20260101]})


def test_repr_is_readable() -> None:
    c = PipelineConfig.model_validate(
        minimal(
            schedule={"cron": "0 8 * * *", "trigger": {"key": "up"}},
            validation={"rules": [{"key": "a", "check": "exists"}]},
            dryRun=True,
        )
    )
    assert repr(c) == (
        "<PipelineConfig 'p1' cron '0 8 * * *' + sensor 'up', 1 rule(s) ALL, job glue dry-run>"
    )


def test_serialises_durations_back_to_strings() -> None:
    c = PipelineConfig.model_validate(minimal(sla={"deadline": "10:00", "expectedDuration": "90m"}))
    dumped = c.model_dump(mode="json")
    assert dumped["sla"]["expectedDuration"] == "1h30m"
    assert dumped["schedule"]["evaluation"] == {"window": "1h", "interval": "5m"}
    # A dumped config validates to the same config (the store keeps configs as JSON).
    assert PipelineConfig.model_validate(dumped) == c
