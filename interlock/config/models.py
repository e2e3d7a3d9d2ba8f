"""Pydantic models of a pipeline YAML file: what Interlock watches, when, and what it triggers.

One file describes one pipeline::

    pipeline:   identity (id, owner, description)
    schedule:   what starts evaluation (cron and/or a trigger sensor), time zone, window, calendars
    sla:        deadlines (daily HH:MM or hourly :MM, expected duration) or a relative maxDuration
    validation: readiness rules, combined with ALL or ANY
    job:        what to trigger (one of nine types, each with its own typed config) and its budgets
    postRun:    rules and drift detection after a successful run
    dryRun:     observe and report only, never trigger

Every model is frozen and refuses unknown keys (the loader adds a "did you mean" hint). Defaults and bounds
follow the original product; the checks it lacked (cron syntax, zones, deadlines, durations, rule value
types) are added here so a bad file is refused when it is validated, not at 3 a.m.

Where the parts live (every name stays importable from here):

    models.py   the pipeline file: rules, schedule, SLA, post-run, PipelineConfig, Calendar
    jobs.py     job: the nine typed job configs, the Job union and JOB_MODELS
    values.py   ConfigModel (the shared base) and the URL/host checks
    kinds.py    CheckName, JobType (plain enums: no pydantic)
    types.py    annotated field types (durations, clock times, zones, crons); text.py their parsers
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from typing import Annotated, Any, Final, Literal

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from interlock.config.jobs import (
    JOB_MODELS,
    AirflowJob,
    AirflowJobConfig,
    CommandJob,
    CommandJobConfig,
    DatabricksJob,
    DatabricksJobConfig,
    EmrJob,
    EmrJobConfig,
    EmrServerlessJob,
    EmrServerlessJobConfig,
    GlueJob,
    GlueJobConfig,
    HttpAuth,
    HttpJob,
    HttpJobConfig,
    Job,
    JobConfig,
    LambdaJob,
    LambdaJobConfig,
    StepFunctionJob,
    StepFunctionJobConfig,
)
from interlock.config.kinds import AGE_CHECKS, NUMERIC_CHECKS, CheckName, JobType
from interlock.config.types import (
    ClockTime,
    CronExpr,
    Deadline,
    Duration,
    IsoDate,
    TimeZoneName,
    case_insensitive_enum,
)
from interlock.config.values import ConfigModel, url_host
from interlock.durations import parse_duration

__all__ = [
    "AGE_CHECKS",
    "JOB_MODELS",
    "NUMERIC_CHECKS",
    "SLA",
    "AirflowJob",
    "AirflowJobConfig",
    "Calendar",
    "CheckName",
    "CommandJob",
    "CommandJobConfig",
    "DatabricksJob",
    "DatabricksJobConfig",
    "EmrJob",
    "EmrJobConfig",
    "EmrServerlessJob",
    "EmrServerlessJobConfig",
    "EvaluationSettings",
    "Exclusion",
    "GlueJob",
    "GlueJobConfig",
    "HttpAuth",
    "HttpJob",
    "HttpJobConfig",
    "Inclusion",
    "Job",
    "JobConfig",
    "JobType",
    "LambdaJob",
    "LambdaJobConfig",
    "PipelineConfig",
    "PipelineMeta",
    "PostRun",
    "Rule",
    "Schedule",
    "StepFunctionJob",
    "StepFunctionJobConfig",
    "TriggerCondition",
    "Validation",
    "url_host",
]


# ----------------------------------------------------------------------------------------- rules


CheckField = Annotated[
    CheckName, WithJsonSchema(case_insensitive_enum([c.value for c in CheckName]))
]
"""A check name as written in YAML (read case-insensitively)."""

RuleValue = str | bool | int | float | None


def _is_number_text(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except (ValueError, OverflowError):
        return False


class Rule(ConfigModel):
    """One readiness check against one sensor.

    ``exists`` passes when the sensor exists (and, if ``field`` is given, when that field is present).
    ``equals`` compares numbers numerically and strings exactly. ``gt/gte/lt/lte`` compare numbers.
    ``age_lt``/``age_gt`` compare the age of a timestamp field (RFC 3339 or epoch) with a duration.
    """

    key: str = Field(min_length=1)
    """Sensor key, as written by producers under ``SENSOR#<key>``."""
    check: CheckField
    """One of exists, equals, gt, gte, lt, lte, age_lt, age_gt."""
    field: str | None = None
    """Field inside the sensor's data. Required for every check but ``exists``."""
    value: RuleValue = None
    """Expected value: a number for gt/gte/lt/lte, a duration (30m, 2h) for age checks, a scalar for equals."""

    @field_validator("check", mode="before")
    @classmethod
    def _lower_check(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _check_value_types(self) -> Rule:
        check = self.check
        if check is CheckName.EXISTS:
            return self
        if not self.field:
            raise ValueError(
                f"@field: check {check.value!r} needs a field: the sensor field to compare"
            )
        if check is CheckName.EQUALS:
            if self.value is None:
                raise ValueError("@value: check 'equals' needs a value to compare with")
        elif check in NUMERIC_CHECKS:
            v = self.value
            ok = (
                (isinstance(v, int) and not isinstance(v, bool))
                or (isinstance(v, float) and math.isfinite(v))
                or (isinstance(v, str) and _is_number_text(v))
            )
            if not ok:
                raise ValueError(
                    f"@value: check {check.value!r} needs a numeric value, got {self.value!r}"
                )
        elif check in AGE_CHECKS:
            if not isinstance(self.value, str):
                raise ValueError(
                    f"@value: check {check.value!r} needs a duration such as 30m or 2h, got {self.value!r}"
                )
            try:
                parse_duration(self.value)
            except ValueError as exc:
                raise ValueError(f"@value: {exc}") from None
        return self

    @property
    def threshold(self) -> timedelta:
        """The duration of an age check (``age_lt``/``age_gt`` only)."""
        if self.check not in AGE_CHECKS or not isinstance(self.value, str):
            raise TypeError(f"{self.check.value} has no duration threshold")
        return parse_duration(self.value)


class Validation(ConfigModel):
    """Readiness rules and how they combine.

    With no rules, ``ALL`` is satisfied at once (the trigger alone decides) and ``ANY`` could never be;
    the loader therefore refuses ``ANY`` with an empty rule list.
    """

    trigger: Annotated[
        Literal["ALL", "ANY"], WithJsonSchema(case_insensitive_enum(["ALL", "ANY"]))
    ] = "ALL"
    """ALL: every rule must pass. ANY: at least one must."""
    rules: tuple[Rule, ...] = ()
    """The readiness rules, evaluated in order."""
    maxClockSkew: Duration = timedelta(minutes=5)
    """How far in the future an age check's timestamp may be (producer clocks drift); a timestamp further
    ahead fails ``age_lt`` and ``age_gt`` (a forged or mis-clocked freshness sensor must not pass)."""

    @field_validator("trigger", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.strip().upper() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _any_needs_rules(self) -> Validation:
        if not timedelta(0) <= self.maxClockSkew <= timedelta(hours=24):
            raise ValueError(
                f"@maxClockSkew: validation.maxClockSkew {_fmt(self.maxClockSkew)} must be between 0s and 24h"
            )
        if self.trigger == "ANY" and not self.rules:
            raise ValueError(
                "@trigger: validation.trigger ANY with no rules could never pass: add rules or use ALL"
            )
        return self


# -------------------------------------------------------------------------------------- schedule


_AS_RULE: Final = "_as_rule"
"""Where a :class:`TriggerCondition` keeps its :meth:`~TriggerCondition.as_rule` (in ``__dict__``)."""


class TriggerCondition(ConfigModel):
    """The sensor write that starts evaluation: a rule on a sensor whose key starts with ``key``."""

    key: str = Field(min_length=1)
    """Sensor key prefix: a write to any sensor whose key starts with this may start a run."""
    check: CheckField = CheckName.EXISTS
    """Check applied to the written sensor (default: it exists)."""
    field: str | None = None
    """Field of the written sensor to check."""
    value: RuleValue = None
    """Value for the check."""
    deadline: Deadline | None = None
    """Close the auto-trigger window at this local time (``HH:MM``) or minute (``:MM``)."""

    @model_validator(mode="before")
    @classmethod
    def _not_a_cron(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("expression" in data or data.get("type") == "cron"):
            expr = data.get("expression", "...")
            raise ValueError(
                "schedule.trigger is a sensor condition (key, check, field, value), not a clock: "
                f"to run on a clock write `schedule.cron: {expr!r}` and remove "
                "schedule.trigger.type/expression (the original ignored them and matched every sensor write)"
            )
        return data

    @field_validator("check", mode="before")
    @classmethod
    def _lower_check(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _check_rule(self) -> TriggerCondition:
        self.as_rule()  # the same value-type checks as a validation rule
        return self

    def as_rule(self) -> Rule:
        """The trigger's condition as a :class:`Rule` on the written sensor.

        The same Rule object on every call: :mod:`interlock.rules` keeps compiled rules by identity
        (up to 16,384), so a new Rule per trigger write (or per board row) added an entry each time and
        pushed the validation rules out; a 60 s soak kept 3,000 such copies. The instance keeps it
        beside its fields (``model_copy(update=...)`` gives a copy whose fields differ by identity, so
        that copy builds its own).
        """
        # An empty field with `exists` is how the original's files spell "no field".
        source = (self.key, self.check, self.field or None, self.value)
        kept = self.__dict__.get(_AS_RULE)
        if kept is not None and all(a is b for a, b in zip(kept[0], source, strict=True)):
            return kept[1]  # type: ignore[no-any-return]
        rule = Rule(key=source[0], check=source[1], field=source[2], value=source[3])
        self.__dict__[_AS_RULE] = (source, rule)  # not a field: equality and dumps ignore it
        return rule


class EvaluationSettings(ConfigModel):
    """How long and how often to evaluate the rules once a run starts."""

    window: Duration = timedelta(hours=1)
    """Give up (VALIDATION_EXHAUSTED) after this long without the rules passing."""
    interval: Duration = timedelta(minutes=5)
    """Wait this long between evaluations."""

    @model_validator(mode="after")
    def _bounds(self) -> EvaluationSettings:
        if self.interval < timedelta(seconds=1):
            raise ValueError("@interval: evaluation.interval must be at least 1s")
        if self.window < self.interval:
            raise ValueError(
                f"@window: evaluation.window ({_fmt(self.window)}) is shorter than evaluation.interval "
                f"({_fmt(self.interval)}): the rules would be evaluated once at most"
            )
        if self.window > timedelta(hours=24):
            raise ValueError("@window: evaluation.window must be at most 24h")
        return self


class Exclusion(ConfigModel):
    """Days on which the pipeline does not run (in the schedule's time zone)."""

    weekends: bool = False
    """Skip Saturdays and Sundays."""
    dates: tuple[IsoDate, ...] = ()
    """Skip these dates (YYYY-MM-DD)."""
    calendar: str | None = None
    """Skip the days of this named calendar (a file in calendars/)."""
    holidays: str | None = None
    """Accepted for compatibility with the original, which never used it; use ``calendar``."""


class Inclusion(ConfigModel):
    """An irregular schedule: the only dates the pipeline is expected to run."""

    dates: tuple[IsoDate, ...] = Field(min_length=1)
    """The expected run dates (YYYY-MM-DD); must not be empty."""


class Schedule(ConfigModel):
    """When evaluation starts and on which days."""

    cron: CronExpr | None = None
    """A 5-field cron expression: each fire starts an evaluation (and a missed one is alerted)."""
    timezone: TimeZoneName = "UTC"
    """IANA time zone for cron, calendars, schedule.time and trigger deadlines."""
    trigger: TriggerCondition | None = None
    """A sensor write that starts an evaluation."""
    evaluation: EvaluationSettings = EvaluationSettings()
    """Evaluation window and interval."""
    exclude: Exclusion | None = None
    """Days not to run."""
    include: Inclusion | None = None
    """Irregular schedule: the only days to run (exclusive with cron)."""
    calendar: str | None = None
    """Same as exclude.calendar (the original's spelling)."""
    time: ClockTime | None = None
    """Local time (HH:MM) before which a missing run is not yet reported as missed."""

    @model_validator(mode="after")
    def _exclusive(self) -> Schedule:
        if self.cron and self.include:
            raise ValueError(
                "@include: schedule.cron and schedule.include are mutually exclusive: a cron runs on its own "
                "days; include.dates lists the days of an irregular schedule"
            )
        if self.calendar and self.exclude and self.exclude.calendar not in (None, self.calendar):
            raise ValueError(
                "@calendar: schedule.calendar and schedule.exclude.calendar name different calendars: keep one"
            )
        return self

    @property
    def schedule_id(self) -> Literal["cron", "stream"]:
        """``cron`` for cron pipelines, ``stream`` for sensor-started ones (part of run identity)."""
        return "cron" if self.cron else "stream"

    @property
    def calendar_name(self) -> str | None:
        """The named calendar whose days are excluded, whichever key names it."""
        return (self.exclude.calendar if self.exclude else None) or self.calendar


# ------------------------------------------------------------------------------------------- sla


class SLA(ConfigModel):
    """When the run must be done.

    ``deadline`` is absolute: ``HH:MM`` each day or ``:MM`` each hour (the data for hour H is due at
    H+1:MM). The warning fires ``expectedDuration`` before it (no warning without one). ``maxDuration``
    is relative: the run must finish within it of the first trigger-sensor arrival.
    """

    deadline: Deadline | None = None
    """Daily ``HH:MM`` or hourly ``:MM`` breach time."""
    expectedDuration: Duration | None = None
    """How long the job usually takes: warn this long before the deadline."""
    maxDuration: Duration | None = None
    """Relative SLA: breach this long after the first trigger sensor arrived (at most 24h)."""
    timezone: TimeZoneName | None = None
    """Zone of the deadline; defaults to schedule.timezone, then UTC."""
    critical: bool = False
    """Marks the SLA as critical in alerts."""

    @model_validator(mode="after")
    def _consistent(self) -> SLA:
        if self.expectedDuration is not None and self.expectedDuration >= timedelta(hours=24):
            raise ValueError("@expectedDuration: sla.expectedDuration must be shorter than 24h")
        if self.deadline is None and self.maxDuration is None:
            raise ValueError("sla needs a deadline (HH:MM or :MM) or a maxDuration (e.g. 2h)")
        if self.maxDuration is not None:
            if self.maxDuration <= timedelta(0) or self.maxDuration > timedelta(hours=24):
                raise ValueError(
                    f"@maxDuration: sla.maxDuration {_fmt(self.maxDuration)} must be between 1s and 24h"
                )
            if self.expectedDuration is not None and self.expectedDuration >= self.maxDuration:
                raise ValueError(
                    f"@expectedDuration: sla.expectedDuration ({_fmt(self.expectedDuration)}) must be shorter than "
                    f"sla.maxDuration ({_fmt(self.maxDuration)})"
                )
        if self.deadline and self.deadline.startswith(":") and self.expectedDuration is not None:
            if self.expectedDuration >= timedelta(hours=1):
                raise ValueError(
                    "@expectedDuration: an hourly deadline (:MM) with expectedDuration of 1h or more would warn before "
                    "the hour's data exists: shorten expectedDuration or use a daily HH:MM deadline"
                )
        return self


# -------------------------------------------------------------------------------------- post-run


class PostRun(ConfigModel):
    """What to check after a successful run."""

    rules: tuple[Rule, ...] = ()
    """Rules that must hold after the run (always ALL)."""
    driftField: str = Field(default="sensor_count", min_length=1)
    """Numeric sensor field compared with the value captured when the job was triggered."""
    driftThreshold: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    """Drift when |current - baseline| is greater than this."""
    sensorTimeout: Duration = timedelta(hours=2)
    """Report POST_RUN_SENSOR_MISSING if no post-run sensor arrives within this after completion."""
    evaluation: dict[str, Any] | None = None
    """How long to wait between job status polls (default 60 s; the original accepted but ignored it)."""


# -------------------------------------------------------------------------------------- pipeline

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class PipelineMeta(ConfigModel):
    """The pipeline's identity."""

    id: str = Field(min_length=1, max_length=64)
    """Unique id: letters, digits, '-', '_' and '.'; the file must be named <id>.yaml."""
    owner: str | None = None
    """Owning team, shown in alerts."""
    description: str | None = None
    """What the pipeline does."""

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(
                f"pipeline id {v!r} may use only letters, digits, '-', '_' and '.' and must start "
                "with a letter or digit"
            )
        return v


class PipelineConfig(ConfigModel):
    """One pipeline: identity, schedule, SLA, readiness rules, job, post-run checks, dry-run."""

    pipeline: PipelineMeta
    """Identity."""
    schedule: Schedule = Schedule()
    """What starts evaluation and on which days."""
    sla: SLA | None = None
    """Deadlines."""
    validation: Validation = Validation()
    """Readiness rules."""
    job: Job
    """What to trigger."""
    postRun: PostRun | None = None
    """Checks after a successful run."""
    dryRun: bool = False
    """Observe and report what would happen; never trigger."""

    @model_validator(mode="after")
    def _startable(self) -> PipelineConfig:
        s = self.schedule
        if not s.cron and s.trigger is None:
            raise ValueError(
                "@schedule: nothing would ever start this pipeline: add schedule.trigger (a sensor "
                "condition) or schedule.cron (a clock)"
            )
        if self.sla and self.sla.maxDuration is not None and s.trigger is None:
            raise ValueError(
                "@sla.maxDuration: sla.maxDuration counts from the first trigger sensor: add schedule.trigger, "
                "or use sla.deadline"
            )
        if self.sla and self.sla.deadline and self.sla.deadline.startswith(":") and s.cron:
            hour_field = s.cron.split()[1]
            if hour_field.isdigit():
                raise ValueError(
                    f"@sla.deadline: an hourly deadline ({self.sla.deadline}) needs hourly runs, but "
                    f"schedule.cron {s.cron!r} fires at one hour of the day: use a daily HH:MM deadline"
                )
        if self.dryRun and s.trigger is None:
            raise ValueError("@dryRun: dryRun observes trigger-sensor writes: add schedule.trigger")
        return self

    @property
    def id(self) -> str:
        """The pipeline id."""
        return self.pipeline.id

    @property
    def schedule_id(self) -> Literal["cron", "stream"]:
        """``cron`` or ``stream``: the schedule part of a run's identity."""
        return self.schedule.schedule_id

    @property
    def sla_timezone(self) -> str:
        """The zone SLA deadlines are read in: sla.timezone, else schedule.timezone."""
        return (self.sla.timezone if self.sla else None) or self.schedule.timezone

    def __repr__(self) -> str:
        s = self.schedule
        start = f"cron {s.cron!r}" if s.cron else ""
        if s.trigger:
            start += (" + " if start else "") + f"sensor {s.trigger.key!r}"
        extra = " dry-run" if self.dryRun else ""
        return (
            f"<PipelineConfig {self.id!r} {start}, {len(self.validation.rules)} rule(s) "
            f"{self.validation.trigger}, job {self.job.type.value}{extra}>"
        )


# -------------------------------------------------------------------------------------- calendar

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


class Calendar(ConfigModel):
    """A named calendar of days off (``calendars/<name>.yaml``)."""

    name: str = Field(min_length=1)
    """The name pipelines use in schedule.exclude.calendar."""
    description: str | None = None
    """What the calendar is."""
    days: tuple[
        Annotated[
            Weekday,
            WithJsonSchema(case_insensitive_enum([*WEEKDAYS, *(d[:3] for d in WEEKDAYS)])),
        ],
        ...,
    ] = ()
    """Weekdays off every week (monday … sunday, or mon … sun)."""
    dates: tuple[IsoDate, ...] = ()
    """Dates off (YYYY-MM-DD)."""

    @field_validator("days", mode="before")
    @classmethod
    def _weekdays(cls, v: Any) -> Any:
        if not isinstance(v, list | tuple):
            return v
        out: list[Any] = []
        for i, d in enumerate(v):
            name = d.strip().lower() if isinstance(d, str) else None
            match = [n for n in WEEKDAYS if n == name or n[:3] == name]
            if not match:
                raise ValueError(
                    f"@{i}: {d!r} is not a weekday: write monday … sunday (or mon … sun)"
                )
            out.append(match[0])
        return out

    def is_day_off(self, day: date) -> bool:
        """Whether ``day`` is off in this calendar."""
        return WEEKDAYS[day.weekday()] in self.days or day in self.dates


def _fmt(d: timedelta) -> str:
    from interlock.durations import format_duration

    return format_duration(d)
