"""Interlock's exception tree.

Every error Interlock raises on purpose derives from :class:`InterlockError`, so a front end can catch
the family at its edge and leave programming errors alone::

    InterlockError
    ├── ConfigError            one or more problems in pipeline or calendar files (lists every one)
    ├── RuleError              a rule that cannot be evaluated as written (raised only by strict callers)
    ├── ScheduleError          a cron expression, time zone or period that cannot be used
    └── SLAError               an SLA that cannot be computed (bad deadline, missing duration)

Later layers add their own subclasses here (store conflicts, trigger failures) so the tree stays in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


class InterlockError(Exception):
    """Base class of every error Interlock raises deliberately."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a configuration file.

    Attributes:
        file: the file the problem is in (``None`` for problems not tied to a file).
        line: 1-based line of the offending key or value, when known.
        path: the key path inside the document, e.g. ``("schedule", "evaluation", "window")``.
        message: what is wrong and, where possible, what to write instead.
        severity: ``"error"`` (the file is refused) or ``"warning"`` (it loads, but something is unused).
    """

    file: Path | None
    line: int | None
    path: tuple[str | int, ...]
    message: str
    severity: str = "error"

    @property
    def key(self) -> str:
        """The key path in dotted form, with list indices in brackets: ``validation.rules[1].value``."""
        out = ""
        for part in self.path:
            if isinstance(part, int):
                out += f"[{part}]"
            else:
                out += f".{part}" if out else part
        return out or "(document)"

    @property
    def location(self) -> str:
        """``file:line`` (or just the file, or ``<input>``) for messages and editors."""
        where = str(self.file) if self.file is not None else "<input>"
        return f"{where}:{self.line}" if self.line is not None else where

    def __str__(self) -> str:
        return f"{self.location}: {self.key}: {self.message}"


@dataclass
class ConfigError(InterlockError):
    """Raised once with every problem found, never one at a time.

    Attributes:
        problems: every error found (warnings are not included; loaders return them separately).
    """

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in pipeline configuration"
        return head + "".join(f"\n  {p}" for p in self.problems)


class RuleError(InterlockError):
    """A rule that cannot be evaluated as written."""


class ScheduleError(InterlockError):
    """A cron expression, time zone, calendar or period that cannot be used."""


class SLAError(InterlockError):
    """An SLA whose deadline or durations cannot be computed."""
