"""What the ``databricks`` and ``airflow`` runners share: guarded JSON calls that carry auth.

Every call, the start and **every status poll**, goes through the ``http`` runner's SSRF guard
(:meth:`~interlock.triggers.http.HttpRunner.send`) and carries the same authentication (the original
polled without it, so a protected API answered 401 and the job could never be followed):

* ``auth.bearer``: ``Authorization: Bearer <token>`` (``${INTERLOCK_*}`` expanded);
* ``auth.username`` + ``auth.password``: ``Authorization: Basic ...``;
* ``auth.secret``: an AWS Secrets Manager secret read at each call (so a rotated secret is picked up),
  whose value is a token, or JSON with ``token``, or with ``username`` and ``password``;
* and the job's ``headers`` (an ``Authorization`` there is used when there is no ``auth``).

Answers: 2xx is parsed as JSON (bodies are read up to :data:`REST_READ_LIMIT`, 8 MiB: a Databricks
run of a large multi-task job answers far more than the ``http`` runner's 64 KB; a longer body is
refused, transient, rather than held in memory without bound); 4xx is permanent (401, 403, 404: bad token, no access, no such job),
except 408 and 429 (transient); 5xx, timeouts and network errors are transient. A failed status poll is
reported through :func:`~interlock.triggers.polling.poll_error_status` (transient: keep polling;
permanent: failed).
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any, Final

from interlock.exceptions import ScheduleError
from interlock.schedule import Period
from interlock.triggers.aws import AwsRunner
from interlock.triggers.base import FailureClass, TriggerContext, TriggerError
from interlock.triggers.http import (
    DEFAULT_TIMEOUT,
    HttpRunner,
    build_request,
    redact,
    status_error,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import timedelta

    from interlock.config.models import HttpAuth
    from interlock.triggers.base import RunHandle
    from interlock.triggers.http import HttpTransport

__all__ = ["REST_READ_LIMIT", "RestJobRunner"]

REST_READ_LIMIT: Final = 8 * 1024 * 1024
"""Bytes of a REST API's answer read at the most (see the module docstring)."""


class RestJobRunner:
    """Base of the REST job runners (see the module docstring)."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        transport: HttpTransport | None = None,
        env: Mapping[str, str] | None = None,
        resolver: Callable[[str, int], list[str]] | None = None,
        secrets: Callable[[str], str] | None = None,
        client_factory: Callable[[str], Any] | None = None,
        session: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        """Create a runner.

        Args:
            allow_private: allow loopback and private targets (see :class:`HttpRunner`).
            transport: what sends requests (default: a socket to the checked address).
            env: source of ``${INTERLOCK_*}`` template variables (default: ``os.environ``).
            resolver: host and port to IP addresses (default: ``socket.getaddrinfo``).
            secrets: secret id to secret string (default: AWS Secrets Manager ``GetSecretValue``).
            client_factory: builds the Secrets Manager client (as :class:`AwsRunner`).
            session: a ``boto3.Session`` for the Secrets Manager client.
            region: the Secrets Manager client's region.
            endpoint_url: the Secrets Manager client's endpoint.
        """
        self._http = HttpRunner(
            allow_private=allow_private, transport=transport, env=env, resolver=resolver
        )
        self._env = env
        self._secrets = secrets
        self._aws = AwsRunner(
            client_factory=client_factory, session=session, region=region, endpoint_url=endpoint_url
        )

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self._http!r})"

    def context(self, *, pipeline_id: str, period: Period, run_id: str) -> TriggerContext:
        """A run's template variables (from this runner's environment)."""
        return TriggerContext.build(
            pipeline_id=pipeline_id, period=period, run_id=run_id, environ=self._env
        )

    def handle_context(self, handle: RunHandle) -> TriggerContext:
        """The template variables of a started run, from what :meth:`run_metadata` stored.

        Raises:
            TriggerError: (permanent) the handle does not say which pipeline and period it is.
        """
        try:
            period = Period.parse(str(handle.metadata.get("period", "")))
        except ScheduleError as exc:
            raise TriggerError(
                f"run {handle.run_id!r}: the handle has no readable period",
                failure=FailureClass.PERMANENT,
            ) from exc
        return self.context(
            pipeline_id=str(handle.metadata.get("pipeline", "")),
            period=period,
            run_id=handle.run_id,
        )

    @staticmethod
    def run_metadata(context: TriggerContext) -> dict[str, str]:
        """What a handle keeps so that a poll, even after a restart, expands the same variables."""
        return {"pipeline": context.pipeline_id, "period": context.period.id}

    def call_json(
        self,
        method: str,
        url: str,
        *,
        context: TriggerContext,
        auth: HttpAuth | None,
        headers: Mapping[str, str],
        body: Any = None,
        timeout: timedelta | None = None,
    ) -> tuple[int, Any]:
        """Send one authenticated JSON request through the SSRF guard.

        Args:
            method: ``GET`` or ``POST``.
            url: the expanded URL.
            context: expands the header and auth templates.
            auth: the job's auth (see the module docstring).
            headers: the job's headers.
            body: a JSON-able body (``None``: no body).
            timeout: the job's timeout (default 30 s).

        Returns:
            The status (2xx, or 409 which the caller handles) and the parsed JSON body.

        Raises:
            TriggerError: see the module docstring.
        """
        merged = {name: context.expand(value) for name, value in headers.items()}
        merged.setdefault("Accept", "application/json")
        authorization = self._authorization(auth, context)
        if authorization is not None:
            for existing in [h for h in merged if h.lower() == "authorization"]:
                del merged[existing]
            merged["Authorization"] = authorization
        data = None if body is None else json.dumps(body).encode()
        request = build_request(method, url, merged, data, read_limit=REST_READ_LIMIT)
        seconds = DEFAULT_TIMEOUT if timeout is None else timeout.total_seconds()
        response = self._http.send(request, timeout=seconds)
        if not (200 <= response.status < 300 or response.status == 409):
            raise status_error(request, response)
        if response.truncated:
            raise TriggerError(
                f"{method} {redact(url)} answered {response.status} with a body over "
                f"{REST_READ_LIMIT // (1024 * 1024)} MiB (not read further)",
                failure=FailureClass.TRANSIENT,
            )
        try:
            parsed = json.loads(response.body.decode("utf-8")) if response.body.strip() else {}
        except ValueError as exc:
            raise TriggerError(
                f"{method} {redact(url)} answered {response.status} with a body that is not JSON",
                failure=FailureClass.TRANSIENT,
            ) from exc
        return response.status, parsed

    def _authorization(self, auth: HttpAuth | None, context: TriggerContext) -> str | None:
        if auth is None:
            return None
        if auth.bearer is not None:
            return f"Bearer {context.expand(auth.bearer)}"
        if auth.username is not None and auth.password is not None:
            return _basic(context.expand(auth.username), context.expand(auth.password))
        assert auth.secret is not None
        return self._from_secret(context.expand(auth.secret))

    def _from_secret(self, secret_id: str) -> str:
        if self._secrets is not None:
            value = self._secrets(secret_id)
        else:
            response = self._aws.call(
                f"secretsmanager GetSecretValue {secret_id}",
                "get_secret_value",
                {"SecretId": secret_id},
                service="secretsmanager",
            )
            value = str(response.get("SecretString") or "")
        try:
            data = json.loads(value)
        except ValueError:
            data = value
        if isinstance(data, dict):
            if isinstance(data.get("token"), str):
                return f"Bearer {data['token']}"
            if isinstance(data.get("username"), str) and isinstance(data.get("password"), str):
                return _basic(data["username"], data["password"])
            raise TriggerError(
                f"secret {secret_id!r} is JSON without 'token' or 'username' and 'password'",
                failure=FailureClass.PERMANENT,
            )
        if not value.strip():
            raise TriggerError(f"secret {secret_id!r} is empty", failure=FailureClass.PERMANENT)
        return f"Bearer {value.strip()}"


def _basic(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {token}"
