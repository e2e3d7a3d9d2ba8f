"""The deploy state machine's template placeholders and the values the embedded runtime gives them.

``deploy/statemachine.asl.json`` is a template (Terraform ``templatefile``): numbers such as the
execution timeout are bare ``${Name}`` placeholders, so the file is JSON only once they are filled::

    placeholder              Terraform variable        default here
    -----------------------  ------------------------  -----------------------------------------------
    OrchestratorFunctionArn  the orchestrator's ARN    left as is (the local runner calls the Task)
    SfnTimeoutSeconds        sfn_timeout_seconds       14400 (the run lock TTL is this + 30 min)
    TriggerMaxAttempts       trigger_max_attempts      4 (backoffs 30/60/120/240 s)

Pure: text in, text out.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from interlock.lifecycle.run import DEFAULT_MAX_TRIGGER_ATTEMPTS

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["DEFAULTS", "PLACEHOLDERS", "render_definition"]

DEFAULT_SFN_TIMEOUT_SECONDS: Final = 14400
DEFAULTS: Final[Mapping[str, str]] = {
    "SfnTimeoutSeconds": str(DEFAULT_SFN_TIMEOUT_SECONDS),
    "TriggerMaxAttempts": str(DEFAULT_MAX_TRIGGER_ATTEMPTS),
}
"""The values the embedded runtime substitutes (the Terraform module's defaults)."""
PLACEHOLDERS: Final = ("OrchestratorFunctionArn", "SfnTimeoutSeconds", "TriggerMaxAttempts")
_PLACEHOLDER: Final = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_]*)\}")


def render_definition(text: str, values: Mapping[str, str] | None = None) -> str:
    """Fill the definition's placeholders: ``values`` first, then :data:`DEFAULTS`.

    Placeholders with neither (the orchestrator's ARN) are left as they are.

    Raises:
        ValueError: the text names a placeholder not in :data:`PLACEHOLDERS`.
    """
    given = {**DEFAULTS, **(values or {})}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            raise ValueError(f"unknown state machine placeholder ${{{name}}}")
        return given.get(name, match.group(0))

    return _PLACEHOLDER.sub(fill, text)
