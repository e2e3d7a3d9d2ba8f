"""The job a pipeline triggers: one typed ``config`` per job type, and the budgets every job shares.

``job.type`` selects the model (a discriminated union, :data:`Job`); :data:`JOB_MODELS` maps each type
name to it, for the loader's messages. Every model is frozen and refuses unknown keys.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from interlock.config.kinds import JobType
from interlock.config.types import Duration, TimeoutDuration, case_insensitive_enum
from interlock.config.values import ConfigModel, check_pattern, check_url

__all__ = [
    "JOB_MODELS",
    "AirflowJob",
    "AirflowJobConfig",
    "CommandJob",
    "CommandJobConfig",
    "DatabricksJob",
    "DatabricksJobConfig",
    "EmrJob",
    "EmrJobConfig",
    "EmrServerlessJob",
    "EmrServerlessJobConfig",
    "GlueJob",
    "GlueJobConfig",
    "HttpAuth",
    "HttpJob",
    "HttpJobConfig",
    "Job",
    "JobConfig",
    "LambdaJob",
    "LambdaJobConfig",
    "StepFunctionJob",
    "StepFunctionJobConfig",
]


HttpMethod = Annotated[
    Literal["GET", "POST", "PUT", "PATCH", "DELETE"],
    WithJsonSchema(case_insensitive_enum(["GET", "POST", "PUT", "PATCH", "DELETE"])),
]

_STATE_MACHINE_ARN = re.compile(
    r"arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_.-]{1,80}"
)
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
_LAMBDA_FUNCTION = re.compile(
    r"(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?"
    r"[A-Za-z0-9_-]{1,140}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?"
)
_EMR_CLUSTER = re.compile(r"j-[A-Z0-9]{1,255}")
_DATABRICKS_JOB_ID = re.compile(r"\d{1,19}")


class HttpAuth(ConfigModel):
    """How the ``databricks`` and ``airflow`` triggers authenticate; sent on the start **and** on
    every status poll.

    Exactly one of: ``bearer`` (a token, usually ``${INTERLOCK_...}``), ``username`` with
    ``password`` (basic auth), or ``secret`` (an AWS Secrets Manager secret id or ARN whose value is a
    token, or JSON with ``token``, or with ``username`` and ``password``).
    """

    bearer: str | None = Field(default=None, min_length=1)
    """A bearer token (write ``${INTERLOCK_NAME}`` to read it from the environment)."""
    username: str | None = Field(default=None, min_length=1)
    """Basic auth user."""
    password: str | None = None
    """Basic auth password (write ``${INTERLOCK_NAME}``)."""
    secret: str | None = Field(default=None, min_length=1)
    """A Secrets Manager secret id or ARN holding the token or the user and password."""

    @model_validator(mode="after")
    def _one_kind(self) -> HttpAuth:
        kinds = [self.bearer is not None, self.username is not None, self.secret is not None]
        if sum(kinds) != 1:
            raise ValueError("auth needs exactly one of bearer, username (with password), secret")
        if (self.username is None) != (self.password is None):
            raise ValueError("auth: basic auth needs both username and password")
        return self


class CommandJobConfig(ConfigModel):
    """Run a local command (no shell)."""

    command: str | tuple[str, ...]
    """The program and its arguments: a list, or a string split on whitespace."""
    env: dict[str, str] = {}
    """Extra environment variables."""
    cwd: str | None = None
    """Working directory."""
    timeout: TimeoutDuration | None = None
    """Kill the command after this long."""

    @field_validator("command")
    @classmethod
    def _non_empty(cls, v: str | tuple[str, ...]) -> str | tuple[str, ...]:
        if (isinstance(v, str) and not v.strip()) or (isinstance(v, tuple) and not v):
            raise ValueError("command must not be empty")
        return v


class HttpJobConfig(ConfigModel):
    """Call an HTTP endpoint."""

    url: str
    """The endpoint (http or https)."""
    method: HttpMethod = "POST"
    """HTTP method."""
    headers: dict[str, str] = {}
    """Request headers."""
    body: str | dict[str, Any] | None = None
    """Request body: a string, or a mapping sent as JSON."""
    timeout: TimeoutDuration | None = None
    """Request timeout (seconds or a duration)."""

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.strip().upper() if isinstance(v, str) else v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v, "url")


class AirflowJobConfig(ConfigModel):
    """Start an Airflow DAG run through the stable REST API (Airflow 2: ``v1``, Airflow 3: ``v2``)."""

    url: str
    """Airflow base URL (the API is under ``<url>/api/v1`` or ``<url>/api/v2``)."""
    dagId: str = Field(min_length=1)
    """The DAG to run."""
    apiVersion: Literal["v1", "v2"] = "v1"
    """``v1`` for Airflow 2, ``v2`` for Airflow 3."""
    auth: HttpAuth | None = None
    """Authentication, sent on the start and on every status poll."""
    headers: dict[str, str] = {}
    """Request headers (e.g. Authorization); also sent when polling the run's status."""
    body: dict[str, Any] | None = None
    """The DAG run's ``conf``."""
    timeout: TimeoutDuration | None = None
    """Request timeout."""

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v, "url")


class GlueJobConfig(ConfigModel):
    """Start an AWS Glue job run."""

    jobName: str = Field(min_length=1, max_length=255)
    """The Glue job name."""
    arguments: dict[str, str] = {}
    """Job arguments (``--key: value``); ``--par_day``/``--par_hour`` are added per run."""


class EmrJobConfig(ConfigModel):
    """Add a step to a running EMR cluster."""

    clusterId: str = Field(min_length=1)
    """The cluster (j-XXXXXXXX)."""
    stepName: str = Field(min_length=1)
    """Name of the step."""
    command: str = Field(min_length=1)
    """The step's jar (``...jar``) or a command run with command-runner.jar (``spark-submit ...``)."""
    arguments: dict[str, str] = {}
    """Step arguments: ``--key: value`` adds two words, ``key: value`` one ``key=value`` word."""

    @field_validator("clusterId")
    @classmethod
    def _cluster(cls, v: str) -> str:
        return check_pattern(v, _EMR_CLUSTER, "clusterId", "j-2AXXXXXXGAPLF")


class EmrServerlessJobConfig(ConfigModel):
    """Start an EMR Serverless job run."""

    applicationId: str = Field(min_length=1)
    """The EMR Serverless application."""
    jobName: str = Field(min_length=1)
    """Name of the job run."""
    executionRoleArn: str
    """IAM role the job runs as."""
    jobDriver: dict[str, Any]
    """The job driver (sparkSubmit or hive) as the AWS API takes it."""
    configurationOverrides: dict[str, Any] | None = None
    """Configuration overrides as the AWS API takes them."""

    @field_validator("executionRoleArn")
    @classmethod
    def _role(cls, v: str) -> str:
        return check_pattern(v, _ROLE_ARN, "executionRoleArn", "arn:aws:iam::123456789012:role/etl")


class StepFunctionJobConfig(ConfigModel):
    """Start an AWS Step Functions execution."""

    stateMachineArn: str = Field(min_length=1)
    """The state machine to start."""
    arguments: dict[str, Any] = {}
    """The execution input."""

    @field_validator("stateMachineArn")
    @classmethod
    def _arn(cls, v: str) -> str:
        example = "arn:aws:states:eu-west-1:123456789012:stateMachine:load-orders"
        return check_pattern(v, _STATE_MACHINE_ARN, "stateMachineArn", example)


class DatabricksJobConfig(ConfigModel):
    """Run a Databricks job now (Jobs API 2.1 ``run-now``)."""

    workspaceUrl: str
    """Workspace URL."""
    jobId: str | int
    """The job's numeric id."""
    auth: HttpAuth | None = None
    """Authentication, sent on the start and on every status poll."""
    headers: dict[str, str] = {}
    """Request headers (Authorization); also sent when polling."""
    arguments: dict[str, str] = {}
    """Notebook parameters."""
    timeout: TimeoutDuration | None = None
    """Request timeout."""

    @field_validator("workspaceUrl")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v, "workspaceUrl")

    @field_validator("jobId")
    @classmethod
    def _job_id(cls, v: str | int) -> str | int:
        if isinstance(v, int):
            if v < 0:
                raise ValueError(f"jobId {v} must be a job's numeric id")
            return v
        return check_pattern(
            v.strip(), _DATABRICKS_JOB_ID, "jobId", "123456789 (the job's numeric id)"
        )


class LambdaJobConfig(ConfigModel):
    """Invoke an AWS Lambda function (synchronously by default)."""

    functionName: str = Field(min_length=1)
    """Function name or ARN."""
    payload: str | dict[str, Any] | None = None
    """Invocation payload: a JSON string or a mapping."""
    invocationType: Literal["RequestResponse", "Event"] = "RequestResponse"
    """``RequestResponse`` waits for the function's result; ``Event`` queues it (async)."""

    @field_validator("functionName")
    @classmethod
    def _function(cls, v: str) -> str:
        example = "load-orders or arn:aws:lambda:eu-west-1:123456789012:function:load-orders"
        return check_pattern(v, _LAMBDA_FUNCTION, "functionName", example)


class _JobBase(ConfigModel):
    maxRetries: int = Field(default=0, ge=0, le=10)
    """Automatic retries after a job failure (0-10)."""
    maxCodeRetries: int = Field(default=1, ge=0, le=3)
    """Retries when the failure is permanent, e.g. a code error (0-3)."""
    maxDriftReruns: int = Field(default=1, ge=0, le=5)
    """Reruns for data drift and late data, shared (0-5)."""
    maxManualReruns: int = Field(default=1, ge=0, le=5)
    """Reruns for each other reason, e.g. manual (0-5)."""
    jobPollWindowSeconds: int = 3600
    """Stop polling the job after this many seconds (60-86400; 0 means the default, 3600)."""
    pollInterval: Duration | None = None
    """How long to wait between job status polls (default 60 s; the original accepted but ignored it)."""

    @field_validator("jobPollWindowSeconds")
    @classmethod
    def _poll_window(cls, v: int) -> int:
        if v == 0:
            return 3600
        if not 60 <= v <= 86400:
            raise ValueError(f"jobPollWindowSeconds {v} is out of range 60-86400")
        return v


class CommandJob(_JobBase):
    """A ``command`` job."""

    type: Literal[JobType.COMMAND]
    config: CommandJobConfig


class HttpJob(_JobBase):
    """An ``http`` job."""

    type: Literal[JobType.HTTP]
    config: HttpJobConfig


class AirflowJob(_JobBase):
    """An ``airflow`` job."""

    type: Literal[JobType.AIRFLOW]
    config: AirflowJobConfig


class GlueJob(_JobBase):
    """A ``glue`` job."""

    type: Literal[JobType.GLUE]
    config: GlueJobConfig


class EmrJob(_JobBase):
    """An ``emr`` job."""

    type: Literal[JobType.EMR]
    config: EmrJobConfig


class EmrServerlessJob(_JobBase):
    """An ``emr-serverless`` job."""

    type: Literal[JobType.EMR_SERVERLESS]
    config: EmrServerlessJobConfig


class StepFunctionJob(_JobBase):
    """A ``step-function`` job."""

    type: Literal[JobType.STEP_FUNCTION]
    config: StepFunctionJobConfig


class DatabricksJob(_JobBase):
    """A ``databricks`` job."""

    type: Literal[JobType.DATABRICKS]
    config: DatabricksJobConfig


class LambdaJob(_JobBase):
    """A ``lambda`` job."""

    type: Literal[JobType.LAMBDA]
    config: LambdaJobConfig


Job = Annotated[
    CommandJob
    | HttpJob
    | AirflowJob
    | GlueJob
    | EmrJob
    | EmrServerlessJob
    | StepFunctionJob
    | DatabricksJob
    | LambdaJob,
    Field(discriminator="type"),
]
"""The job to trigger: ``type`` selects the shape of ``config``."""

JobConfig = (
    CommandJobConfig
    | HttpJobConfig
    | AirflowJobConfig
    | GlueJobConfig
    | EmrJobConfig
    | EmrServerlessJobConfig
    | StepFunctionJobConfig
    | DatabricksJobConfig
    | LambdaJobConfig
)

JOB_MODELS: dict[str, type[_JobBase]] = {
    JobType.COMMAND.value: CommandJob,
    JobType.HTTP.value: HttpJob,
    JobType.AIRFLOW.value: AirflowJob,
    JobType.GLUE.value: GlueJob,
    JobType.EMR.value: EmrJob,
    JobType.EMR_SERVERLESS.value: EmrServerlessJob,
    JobType.STEP_FUNCTION.value: StepFunctionJob,
    JobType.DATABRICKS.value: DatabricksJob,
    JobType.LAMBDA.value: LambdaJob,
}
