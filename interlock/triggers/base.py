"""What every trigger runner shares: run handles, job statuses, failure classes and templates.

A *trigger runner* starts the job a pipeline protects once its readiness rules pass, then reports
on it::

    handle = runner.start(job_config, pipeline_id="orders", period=period, run_id="r-1")
    status = runner.status(job_config, handle)      # running | succeeded | failed

``start`` either returns a :class:`RunHandle` (the job was started; the handle's ``metadata`` is
JSON-able and holds what a later :meth:`TriggerRunner.status` needs) or raises :class:`TriggerError`
whose :class:`FailureClass` tells the caller what to do with the failed start:

* ``transient``: the infrastructure hiccupped (5xx, connection refused, DNS); an infra retry may work.
* ``permanent``: retrying cannot help (4xx, command not found, unknown template variable, SSRF refusal).
  Unlike the original, which retried *every* trigger error as an infrastructure failure, a permanent
  failure is never retried (DESIGN.md section 9).
* ``timeout``: the job ran past its time budget (reported by :meth:`TriggerRunner.status`).

**Templates.** Command arguments, HTTP URLs, headers and bodies may use ``${NAME}`` variables (see
:func:`expand`). The original expanded every unknown variable to the empty string, so a typo such as
``${DATTE}`` silently sent an empty date; here an unknown variable refuses to trigger.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol

from interlock.exceptions import InterlockError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from interlock.schedule import Period

__all__ = [
    "FailureClass",
    "JobStatus",
    "RunHandle",
    "TriggerContext",
    "TriggerError",
    "TriggerRunner",
    "expand",
    "template_variables",
]


class FailureClass(StrEnum):
    """Why a trigger start or a job failed, which decides whether it is retried."""

    TRANSIENT = "transient"
    """The infrastructure failed; retrying may succeed."""
    PERMANENT = "permanent"
    """Retrying cannot help until someone changes the config, the job or the endpoint."""
    TIMEOUT = "timeout"
    """The job ran past its time budget and was stopped."""


class TriggerError(InterlockError):
    """A trigger that could not be started (or a template that could not be expanded).

    Attributes:
        failure: ``transient`` (an infrastructure retry may work) or ``permanent`` (do not retry).
    """

    def __init__(self, message: str, *, failure: FailureClass) -> None:
        super().__init__(message)
        self.failure = failure

    def __repr__(self) -> str:
        return f"TriggerError({str(self)!r}, failure={self.failure.value!r})"


@dataclass(frozen=True)
class RunHandle:
    """A started job: what a later status poll needs.

    Attributes:
        run_id: Interlock's id of the run (the one passed to ``start``).
        metadata: JSON-able details for :meth:`TriggerRunner.status` (pid, output file, HTTP status).
    """

    run_id: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobStatus:
    """The state of a started job.

    Attributes:
        state: ``running``, ``succeeded`` or ``failed``.
        failure: why it failed (``None`` unless ``state`` is ``failed``).
        message: a human-readable summary (exit code and output tail, HTTP status).
        unknown: see the field.
    """

    state: Literal["running", "succeeded", "failed"]
    failure: FailureClass | None = None
    message: str = ""
    unknown: bool = False
    """With ``running``: the job's outcome cannot be known (e.g. adopted after a crash, its exit status
    lost). The run is held, never retried, and JOB_OUTCOME_UNKNOWN alerts once."""


class TriggerRunner(Protocol):
    """Starts one type of job and polls it (a port: see DESIGN.md section 5)."""

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        """Start the job.

        Args:
            job_config: the pipeline's ``job.config`` model for this runner's job type.
            pipeline_id: the pipeline the run belongs to (``${PIPELINE}``).
            period: the period the run covers (``${PERIOD}``, ``${DATE}``, ``${HOUR}``).
            run_id: Interlock's id of the run (``${RUN_ID}``).

        Returns:
            A handle for :meth:`status`.

        Raises:
            TriggerError: the job could not be started.
        """
        ...

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        """Report the state of a job started by :meth:`start`.

        Args:
            job_config: the same config that was passed to :meth:`start`.
            handle: the handle :meth:`start` returned.

        Returns:
            The job's state.
        """
        ...


# ------------------------------------------------------------------------------------ templates

_BUILTIN = ("PIPELINE", "PERIOD", "DATE", "HOUR", "RUN_ID")
_ENV_PREFIX = "INTERLOCK_"
# `$$` (a literal dollar), `${NAME}`, a bare `$INTERLOCK_NAME` (the only form the original resolved),
# or a `${` that never closes.
_TOKEN = re.compile(r"\$\$|\$\{([^}]*)\}|\$(" + _ENV_PREFIX + r"[A-Za-z0-9_]+)|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def template_variables(
    *,
    pipeline_id: str,
    period: Period,
    run_id: str,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The variables a trigger template may use.

    Args:
        pipeline_id: ``${PIPELINE}``.
        period: ``${PERIOD}`` (its id), ``${DATE}`` (``YYYY-MM-DD``), ``${HOUR}`` (``HH``, empty for a
            daily period).
        run_id: ``${RUN_ID}``.
        environ: where ``${INTERLOCK_*}`` variables come from (default: the process environment).
            Only names starting with ``INTERLOCK_`` are taken.

    Returns:
        Name to value.
    """
    env = os.environ if environ is None else environ
    variables = {name: value for name, value in env.items() if name.startswith(_ENV_PREFIX)}
    variables.update(
        PIPELINE=pipeline_id,
        PERIOD=period.id,
        DATE=period.day.isoformat(),
        HOUR="" if period.hour is None else f"{period.hour:02d}",
        RUN_ID=run_id,
    )
    return variables


def expand(text: str, variables: Mapping[str, str]) -> str:
    """Expand ``${NAME}`` variables in ``text``.

    ``$$`` is a literal ``$``; a bare ``$INTERLOCK_NAME`` (no braces, as the original wrote it) is also
    expanded; any other ``$`` is left as written. Values are inserted as they are: a value is never
    expanded again.

    Args:
        text: the template.
        variables: name to value (see :func:`template_variables`).

    Returns:
        The expanded text.

    Raises:
        TriggerError: (permanent) a variable is not defined, or ``${`` is not closed.
    """

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$$":
            return "$"
        name = match.group(1) if match.group(1) is not None else match.group(2)
        if name is None:
            raise TriggerError(
                f"template {text!r} has a '${{' that is not closed: write ${{NAME}}, or $$ for a literal $",
                failure=FailureClass.PERMANENT,
            )
        if name in variables:
            return variables[name]
        if not _NAME.fullmatch(name):
            hint = "a variable name is letters, digits and underscores"
        elif name.startswith(_ENV_PREFIX):
            hint = f"the environment variable {name} is not set"
        else:
            hint = (
                f"known variables are {', '.join('${' + n + '}' for n in _BUILTIN)} and "
                f"${{{_ENV_PREFIX}*}} environment variables"
            )
        raise TriggerError(
            f"unknown template variable ${{{name}}} in {text!r}: {hint} (write $$ for a literal $)",
            failure=FailureClass.PERMANENT,
        )

    return _TOKEN.sub(replace, text)


@dataclass(frozen=True)
class TriggerContext:
    """One run's template variables, bound for expanding a job's config.

    Attributes:
        pipeline_id: the pipeline.
        period: the run's period.
        run_id: the run's id.
        variables: every variable a template may use (built by :meth:`build`).
    """

    pipeline_id: str
    period: Period
    run_id: str
    variables: Mapping[str, str]

    @classmethod
    def build(
        cls,
        *,
        pipeline_id: str,
        period: Period,
        run_id: str,
        environ: Mapping[str, str] | None = None,
    ) -> TriggerContext:
        """Bind a run's variables (see :func:`template_variables`).

        Args:
            pipeline_id: the pipeline.
            period: the run's period.
            run_id: the run's id.
            environ: source of ``${INTERLOCK_*}`` (default: the process environment).

        Returns:
            The context.
        """
        variables = template_variables(
            pipeline_id=pipeline_id, period=period, run_id=run_id, environ=environ
        )
        return cls(pipeline_id, period, run_id, variables)

    def expand(self, text: str) -> str:
        """Expand ``text`` with this run's variables (see :func:`expand`).

        Args:
            text: the template.

        Returns:
            The expanded text.

        Raises:
            TriggerError: (permanent) an unknown variable.
        """
        return expand(text, self.variables)

    def expand_json(self, value: Any) -> Any:
        """Expand every string (keys and values) inside a JSON-able value.

        Args:
            value: a JSON-able value (dict, list, string, number, bool, ``None``).

        Returns:
            A copy with every string expanded.

        Raises:
            TriggerError: (permanent) an unknown variable.
        """
        if isinstance(value, str):
            return self.expand(value)
        if isinstance(value, dict):
            return {self.expand(str(k)): self.expand_json(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.expand_json(v) for v in value]
        return value
