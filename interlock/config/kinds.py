"""The names a pipeline file chooses from: rule checks and job types (plain enums, no pydantic).

Kept apart from :mod:`interlock.config.models` so that the rules engine, the trigger registry and
everything that only *reads* a validated config can name a check or a job type without importing pydantic
(the models re-export every name here).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AGE_CHECKS", "NUMERIC_CHECKS", "CheckName", "JobType"]


class CheckName(StrEnum):
    """The checks a rule can make."""

    EXISTS = "exists"
    EQUALS = "equals"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    AGE_LT = "age_lt"
    AGE_GT = "age_gt"


NUMERIC_CHECKS = frozenset({CheckName.GT, CheckName.GTE, CheckName.LT, CheckName.LTE})
AGE_CHECKS = frozenset({CheckName.AGE_LT, CheckName.AGE_GT})


class JobType(StrEnum):
    """The kinds of job Interlock can trigger."""

    COMMAND = "command"
    HTTP = "http"
    AIRFLOW = "airflow"
    GLUE = "glue"
    EMR = "emr"
    EMR_SERVERLESS = "emr-serverless"
    STEP_FUNCTION = "step-function"
    DATABRICKS = "databricks"
    LAMBDA = "lambda"
