"""What the AWS trigger runners share: lazily built boto3 clients and error classification.

Each AWS runner (glue, emr, emr-serverless, step-function, lambda) takes the same options::

    GlueRunner()                                   # boto3's default session (env, profile, role)
    GlueRunner(region="eu-west-1", endpoint_url="http://localhost:4566")   # LocalStack, a VPC endpoint
    GlueRunner(session=my_session)                 # the AWS runtime passes its own session
    GlueRunner(client_factory=lambda service: client)   # tests: any object with the API's methods

A client is built on first use, not at construction, and boto3 is imported only then: importing
:mod:`interlock.triggers` never imports boto3 (the core does not need it).

**Failure classes** (:func:`classify_aws_error`): a call that was throttled, hit a 5xx, a capacity or
concurrency limit, or a network error or timeout is ``transient`` (the retry budget decides); anything
else the service refused with a 4xx (not found, access denied, invalid parameter, missing credentials
or region) is ``permanent`` and is not retried (DESIGN.md section 9).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from interlock.triggers.base import FailureClass, TriggerError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from interlock.schedule import Period

__all__ = [
    "TRANSIENT_ERROR_CODES",
    "AwsRunner",
    "aws_error",
    "classify_aws_error",
    "period_arguments",
]

TRANSIENT_ERROR_CODES = frozenset(
    {
        # throttling
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
        "EC2ThrottledException",
        # capacity and concurrency
        "ConcurrentRunsExceededException",
        "ResourceNumberLimitExceededException",
        "ExecutionLimitExceeded",
        "ServiceQuotaExceededException",
        "ResourceNotReadyException",
        "ResourceConflictException",
        "CodeArtifactUserPendingException",
        "InsufficientCapacityException",
        "LimitExceededException",
        # the service's own trouble
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "InternalServerException",
        "InternalServiceException",
        "InternalServiceError",
        "ServiceException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "OperationTimeoutException",
        "EC2UnexpectedException",
    }
)
"""AWS error codes that an identical later call may not get (throttling, capacity, 5xx)."""


def classify_aws_error(exc: BaseException) -> FailureClass:
    """Whether a failed AWS call may succeed if repeated.

    Args:
        exc: what boto3 raised.

    Returns:
        ``transient`` for throttling, capacity, 5xx, network errors and timeouts; ``permanent`` for
        other 4xx answers (not found, access denied, validation) and for a client that cannot be
        built (no credentials, no region, bad parameters).
    """
    from botocore import exceptions as boto_errors  # type: ignore[import-untyped]

    if isinstance(exc, boto_errors.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in TRANSIENT_ERROR_CODES:
            return FailureClass.TRANSIENT
        if isinstance(status, int) and (status >= 500 or status == 429):
            return FailureClass.TRANSIENT
        return FailureClass.PERMANENT
    network = (boto_errors.ConnectionError, boto_errors.HTTPClientError, TimeoutError)
    if isinstance(exc, network):
        return FailureClass.TRANSIENT
    return FailureClass.PERMANENT


def aws_error(exc: BaseException, what: str) -> TriggerError:
    """A :class:`TriggerError` for a failed AWS call, classified by :func:`classify_aws_error`.

    Args:
        exc: what boto3 raised.
        what: the call, as the message should name it (``glue StartJobRun orders-etl``).

    Returns:
        The error (raise it ``from exc``).
    """
    failure = classify_aws_error(exc)
    return TriggerError(
        f"{what} failed ({failure.value}): {describe_aws_error(exc)}", failure=failure
    )


def describe_aws_error(exc: BaseException) -> str:
    """``Code: message`` of a boto3 error (or the exception's class and text).

    Args:
        exc: what boto3 raised.

    Returns:
        One line.
    """
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        code = error.get("Code")
        if code:
            return f"{code}: {error.get('Message', '')}".strip()
    return f"{exc.__class__.__name__}: {exc}"


def period_arguments(period: Period) -> dict[str, str]:
    """The original's per-run arguments: ``par_day`` (``YYYYMMDD``) and ``par_hour`` (hourly only).

    Args:
        period: the run's period.

    Returns:
        Name (without dashes) to value.
    """
    values = {"par_day": period.day.strftime("%Y%m%d")}
    if period.hour is not None:
        values["par_hour"] = f"{period.hour:02d}"
    return values


class AwsRunner:
    """Base of the AWS runners: one lazily built client of :attr:`service`, and the env for templates."""

    service = ""
    """The boto3 service name (``glue``, ``emr``, ...)."""

    def __init__(
        self,
        *,
        client_factory: Callable[[str], Any] | None = None,
        session: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        env: Any = None,
    ) -> None:
        """Create a runner.

        Args:
            client_factory: service name to client (tests, or a caller that builds clients itself).
                Takes precedence over ``session``, ``region`` and ``endpoint_url``.
            session: a ``boto3.Session`` to build clients from (default: a new default session).
            region: the AWS region (default: the session's, i.e. ``AWS_REGION`` or the profile).
            endpoint_url: a custom endpoint (LocalStack, a VPC endpoint; default: AWS's).
            env: source of ``${INTERLOCK_*}`` template variables (default: ``os.environ``).
        """
        self._factory = client_factory
        self._session = session
        self._region = region
        self._endpoint_url = endpoint_url
        self._env = env
        self._clients: dict[str, Any] = {}

    def __repr__(self) -> str:
        where = self._region or "default region"
        return f"{self.__class__.__name__}({where}{', ' + self._endpoint_url if self._endpoint_url else ''})"

    def client(self, service: str | None = None) -> Any:
        """The client of ``service`` (default :attr:`service`), built on first use.

        Raises:
            TriggerError: (permanent) boto3 is not installed, or the client cannot be built (no
                region, a bad endpoint).
        """
        name = service or self.service
        if name in self._clients:
            return self._clients[name]
        if self._factory is not None:
            client = self._factory(name)
        else:
            client = self._build(name)
        self._clients[name] = client
        return client

    def call(
        self, what: str, method: str, params: Mapping[str, Any], *, service: str | None = None
    ) -> Any:
        """Call ``method`` of a client; a boto3 error becomes a classified TriggerError.

        Args:
            what: the call as messages name it (``glue StartJobRun orders-etl``).
            method: the client method (``start_job_run``).
            params: the call's parameters.
            service: the client's service (default :attr:`service`).

        Returns:
            The response.

        Raises:
            TriggerError: the call failed (see :func:`classify_aws_error`).
        """
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        try:
            return getattr(self.client(service), method)(**params)
        except (BotoCoreError, ClientError) as exc:
            raise aws_error(exc, what) from exc

    def _build(self, name: str) -> Any:
        try:
            import boto3  # type: ignore[import-untyped]
        except ImportError as exc:  # pragma: no cover - boto3 is in the aws extra the tests install
            raise TriggerError(
                f"the {name} trigger needs boto3: pip install 'interlock[aws]'",
                failure=FailureClass.PERMANENT,
            ) from exc
        session = self._session or boto3.session.Session()
        try:
            return session.client(name, region_name=self._region, endpoint_url=self._endpoint_url)
        except Exception as exc:  # NoRegionError, a malformed endpoint URL
            raise TriggerError(
                f"cannot build the {name} client: {describe_aws_error(exc)} (set AWS_REGION or the "
                "runner's region)",
                failure=FailureClass.PERMANENT,
            ) from exc
