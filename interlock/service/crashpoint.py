"""Crash points for reliability tests: ``INTERLOCK_CRASH_AT=<name>`` kills the process at that point.

The embedded runtime calls :func:`crash_point` at the instants a crash is hardest on it (a job started
but not yet recorded; a job ended but its outcome not yet saved). With the variable unset (always, outside
``tests/reliability``) a call costs one dictionary lookup. The kill is ``SIGKILL`` to itself: no
``finally`` blocks, no flushing, exactly what ``kill -9`` does from outside.
"""

from __future__ import annotations

import os
import signal
from typing import Final

__all__ = ["CRASH_ENV", "crash_point"]

CRASH_ENV: Final = "INTERLOCK_CRASH_AT"
"""The environment variable naming the crash point to die at."""


def crash_point(name: str) -> None:
    """Die with SIGKILL here if ``INTERLOCK_CRASH_AT`` names this point.

    Args:
        name: the point, e.g. ``job-started`` or ``job-ended``.
    """
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
