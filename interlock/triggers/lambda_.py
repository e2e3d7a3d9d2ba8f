"""The ``lambda`` trigger: invoke an AWS Lambda function.

::

    start:  Invoke(functionName, Payload, InvocationType)
              RequestResponse (default, sync): the function ran; its result is in the handle
              Event (async): Lambda queued the event (HTTP 202); the job counts as handed over
            -> handle {lambda_function, lambda_invocation, lambda_status, lambda_error?}
    status: read from the handle: a sync function error      -> failed (its message)
                                  otherwise                   -> succeeded

**Function errors are job failures.** A function that raised (``FunctionError`` set) has run and
failed: ``start`` returns a handle and :meth:`LambdaRunner.status` reports ``failed`` with the error's
type and message (the first 500 characters of the payload), so it becomes JOB_FAILED with a class, not
a trigger failure. ``Task timed out`` is ``timeout``; an error naming access denied, a missing resource or
an invalid parameter is ``permanent``; anything else ``transient``.

**Payload.** A mapping is sent as JSON and a string as written, both with ``${VARS}`` expanded; no
payload sends ``{"par_day": "YYYYMMDD", "par_hour": "HH"}`` (``par_hour`` only hourly), as the ``http``
trigger's default body.

Errors of the Invoke call itself (function not found, access denied, throttled, the function being
updated) are trigger failures classified by :func:`~interlock.triggers.aws.classify_aws_error`.

IAM: ``lambda:InvokeFunction`` on the function.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from interlock.config.models import LambdaJobConfig
from interlock.triggers.aws import AwsRunner, period_arguments
from interlock.triggers.base import FailureClass, JobStatus, RunHandle, TriggerContext
from interlock.triggers.polling import classify_job_message, parse_config

if TYPE_CHECKING:
    from interlock.schedule import Period

__all__ = ["LambdaRunner"]

_ERROR_LIMIT = 500


def _function_error(body: bytes, kind: str) -> str:
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and ("errorMessage" in data or "errorType" in data):
        text = f"{data.get('errorType', kind)}: {data.get('errorMessage', '')}"
    return " ".join(text.split())[:_ERROR_LIMIT] or kind


class LambdaRunner(AwsRunner):
    """Runs ``lambda`` jobs (see the module docstring; options as :class:`AwsRunner`)."""

    service = "lambda"

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        """Invoke the function.

        Args:
            job_config: a :class:`~interlock.config.models.LambdaJobConfig` (or its mapping).
            pipeline_id: the pipeline (``${PIPELINE}``).
            period: the run's period (``${DATE}``, ...; the default payload).
            run_id: the run's id (``${RUN_ID}``).

        Returns:
            A handle whose metadata holds the function, the invocation type, the outcome
            (``lambda_status``: ``succeeded`` or ``failed``) and a function error's message.

        Raises:
            TriggerError: permanent for a function that does not exist, access denied, a payload
                Lambda refuses; transient for throttling, a function being updated, a 5xx.
        """
        config = parse_config(LambdaJobConfig, job_config, "lambda")
        context = TriggerContext.build(
            pipeline_id=pipeline_id, period=period, run_id=run_id, environ=self._env
        )
        function = context.expand(config.functionName)
        if config.payload is None:
            payload = json.dumps(period_arguments(period))
        elif isinstance(config.payload, str):
            payload = context.expand(config.payload)
        else:
            payload = json.dumps(context.expand_json(config.payload))
        response = self.call(
            f"lambda Invoke {function}",
            "invoke",
            {
                "FunctionName": function,
                "InvocationType": config.invocationType,
                "Payload": payload.encode(),
            },
        )
        metadata: dict[str, Any] = {
            "lambda_function": function,
            "lambda_invocation": config.invocationType,
            "lambda_status": "succeeded",
            "lambda_status_code": int(response.get("StatusCode", 0)),
        }
        kind = response.get("FunctionError")
        if kind:
            stream = response.get("Payload")
            body = stream.read() if stream is not None else b""
            metadata.update(lambda_status="failed", lambda_error=_function_error(body, str(kind)))
        return RunHandle(run_id, metadata)

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        """The invocation's outcome, recorded in the handle by :meth:`start`.

        Args:
            job_config: the job's config (unused).
            handle: the handle :meth:`start` returned.

        Returns:
            ``succeeded``, or ``failed`` with the function's error (see the module docstring).
        """
        function = handle.metadata.get("lambda_function", "")
        if handle.metadata.get("lambda_status") == "failed":
            error = str(handle.metadata.get("lambda_error", ""))
            if "Task timed out" in error:
                failure = FailureClass.TIMEOUT
            else:
                failure = classify_job_message(error)
            return JobStatus("failed", failure, f"lambda {function} failed: {error}")
        if handle.metadata.get("lambda_invocation") == "Event":
            return JobStatus("succeeded", None, f"lambda {function} accepted the event (async)")
        return JobStatus("succeeded", None, f"lambda {function} returned")
