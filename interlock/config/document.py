"""A parsed pipeline document: its data, the line of every key path, and YAML-level problems.

Kept apart from :mod:`interlock.config.yamlsource` (which needs PyYAML) so that validating data that was
never YAML, such as a JSON CONFIG row read from the store, does not import PyYAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Path_", "SourceDocument", "YamlProblem"]

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class YamlProblem:
    """A problem found while reading the YAML itself."""

    line: int | None
    path: Path_
    message: str


@dataclass
class SourceDocument:
    """A parsed document: its data, the line of each key path, and any YAML-level problems."""

    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[YamlProblem] = field(default_factory=list)

    def line_of(self, path: Path_) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one (for missing keys)."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)
