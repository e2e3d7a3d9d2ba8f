"""The ``Timers`` port on EventBridge Scheduler: one one-time schedule per timer.

::

    schedule(name, at, payload)
      CreateSchedule  group, name (≤ 64, hashed), at(YYYY-MM-DDTHH:MM:SS) UTC, window OFF,
                      ActionAfterCompletion DELETE, target = sla-monitor (as the scheduler role),
                      input = payload (canonical JSON)
        ConflictException ─▶ GetSchedule: same time and payload ─▶ already set (nothing to do)
                                          otherwise ────────────▶ UpdateSchedule (the port replaces)
    cancel(name)   DeleteSchedule; ResourceNotFoundException = nothing was set (fine)
    is_set(name)   GetSchedule                       pending(prefix)  ListSchedules (group, prefix)

Scheduler fires at second precision: ``at`` is rounded **up** to the next whole second, so a timer never
fires before its instant. A fired schedule deletes itself (ActionAfterCompletion DELETE); the same name
can then be set again, which is how a cron pipeline's ``cron-<pid>`` timer moves to its next fire.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, NoReturn

from interlock.aws._clients import AwsError, LazyClient, error_code
from interlock.aws.executions import canonical_json
from interlock.names import safe_name

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["MAX_NAME", "SchedulerTimers", "safe_schedule_name", "schedule_expression"]

MAX_NAME: Final = 64
"""EventBridge Scheduler's limit on schedule names (moto does not enforce it)."""


def safe_schedule_name(name: str) -> str:
    """``name`` if Scheduler accepts it, else its safe head and a hash (≤ 64 characters).

    The callers' names already follow :func:`interlock.names.safe_name`; this keeps a hand-made name
    from reaching the API unchecked.
    """
    return safe_name(name, limit=MAX_NAME)


def schedule_expression(at: datetime) -> str:
    """``at(YYYY-MM-DDTHH:MM:SS)`` in UTC, rounded up to the whole second.

    Raises:
        ValueError: ``at`` is naive.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a timer needs a timezone-aware instant, got {at.isoformat()}")
    utc = at.astimezone(UTC)
    if utc.microsecond:
        utc = utc.replace(microsecond=0) + timedelta(seconds=1)
    return f"at({utc:%Y-%m-%dT%H:%M:%S})"


class SchedulerTimers:
    """Timers as one-time schedules in one schedule group, each invoking the sla-monitor Lambda.

    Args:
        group: the schedule group (``SCHEDULER_GROUP_NAME``).
        target_arn: the Lambda the schedules invoke (``SLA_MONITOR_ARN``).
        role_arn: the role Scheduler assumes to invoke it (``SCHEDULER_ROLE_ARN``).
        client: a boto3 ``scheduler`` client; built lazily when omitted.
        region: region of the client built here.
        endpoint_url: endpoint of the client built here.
    """

    def __init__(
        self,
        group: str,
        target_arn: str,
        role_arn: str,
        *,
        client: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        self.group = group
        self.target_arn = target_arn
        self.role_arn = role_arn
        self.region = region
        self.endpoint_url = endpoint_url
        self._client = client

    def __repr__(self) -> str:
        return f"<SchedulerTimers {self.group} -> {self.target_arn}>"

    client = LazyClient("scheduler")

    def _request(self, name: str, at: datetime, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "Name": safe_schedule_name(name),
            "GroupName": self.group,
            "ScheduleExpression": schedule_expression(at),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "State": "ENABLED",
            "Target": {
                "Arn": self.target_arn,
                "RoleArn": self.role_arn,
                "Input": canonical_json(dict(payload)),
            },
        }

    def schedule(self, name: str, at: datetime, payload: Mapping[str, Any]) -> None:
        """Set the timer ``name`` (see the module docstring: a repeat is a no-op, a change replaces).

        Raises:
            AwsError: Scheduler refused the request.
        """
        request = self._request(name, at, payload)
        try:
            self.client.create_schedule(**request)
            return
        except Exception as exc:
            if error_code(exc) != "ConflictException":
                self._raise(exc, f"CreateSchedule {request['Name']}")
        current = self.get(name)
        if current is not None and (
            current.get("ScheduleExpression") == request["ScheduleExpression"]
            and current.get("Target", {}).get("Input") == request["Target"]["Input"]
        ):
            return  # already set: a repeated decision or a retried record
        try:
            self.client.update_schedule(**request)
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                self._raise(exc, f"UpdateSchedule {request['Name']}")
            # it fired and deleted itself between the two calls: set it again
            self.client.create_schedule(**request)

    def cancel(self, name: str) -> None:
        """Delete the timer ``name``; nothing happens if there is none.

        Raises:
            AwsError: Scheduler refused the request.
        """
        try:
            self.client.delete_schedule(Name=safe_schedule_name(name), GroupName=self.group)
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                self._raise(exc, f"DeleteSchedule {name}")

    def get(self, name: str) -> dict[str, Any] | None:
        """The schedule of the timer ``name`` (GetSchedule's answer), or ``None`` when not set."""
        try:
            response: dict[str, Any] = self.client.get_schedule(
                Name=safe_schedule_name(name), GroupName=self.group
            )
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            self._raise(exc, f"GetSchedule {name}")
        return response

    def is_set(self, name: str) -> bool:
        """Whether the timer ``name`` is set (the watchdog re-creates a lost cron timer)."""
        return self.get(name) is not None

    def pending(self, prefix: str = "") -> set[str]:
        """Names of the schedules set in the group (starting with ``prefix``): ListSchedules, paged."""
        names: set[str] = set()
        kwargs: dict[str, Any] = {"GroupName": self.group}
        if prefix:
            kwargs["NamePrefix"] = prefix
        while True:
            try:
                page = self.client.list_schedules(**kwargs)
            except Exception as exc:
                self._raise(exc, "ListSchedules")
            names.update(
                str(s["Name"]) for s in page.get("Schedules", []) if s["Name"].startswith(prefix)
            )
            token = page.get("NextToken")
            if not token:
                return names
            kwargs["NextToken"] = token

    @staticmethod
    def _raise(exc: Exception, what: str) -> NoReturn:
        if error_code(exc):
            raise AwsError(f"{what}: {exc}") from exc
        raise exc
