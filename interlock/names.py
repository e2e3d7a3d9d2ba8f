"""Safe, deterministic names for AWS resources Interlock creates (executions, schedules, timers).

Step Functions execution names and EventBridge Scheduler schedule names allow ``[A-Za-z0-9_-]`` and a
length limit (80 and 64). :func:`safe_name` is the one rule every namer uses (the router's execution
names, the SLA and cron timers, and the AWS adapters): a name that is already safe and short enough is
kept as is; otherwise unsafe characters become ``_``, the head is cut, and a hash of the original text
is inserted before the tail, so two ids that sanitise alike never collide and the tail stays readable.

Pure: standard library only.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

__all__ = ["HASH_CHARS", "safe_name"]

HASH_CHARS: Final = 8
"""Hex characters of the hash a shortened or sanitised name carries."""
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_-]")


def safe_name(head: str, tail: str = "", *, limit: int, key: str | None = None) -> str:
    """``head + tail`` as a name of at most ``limit`` characters from ``[A-Za-z0-9_-]``.

    Args:
        head: the part that may be cut (e.g. the pipeline id).
        tail: the part that always stays whole at the end (e.g. ``-stream-2026-03-07-a1``).
        limit: the maximum length.
        key: the text the hash is taken of (default ``head + tail``).

    Returns:
        ``head + tail`` when it is safe and short enough; else the sanitised head, cut to fit, then
        ``-<hash>`` and the sanitised tail (cut from the left only if the tail alone is too long).

    Raises:
        ValueError: ``limit`` is not positive.

    Example:
        >>> safe_name("orders", "-stream-2026-03-07-a1", limit=80)
        'orders-stream-2026-03-07-a1'
        >>> len(safe_name("x" * 100, "-a1", limit=20))
        20
    """
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    raw = head + tail
    safe_head, safe_tail = _UNSAFE.sub("_", head), _UNSAFE.sub("_", tail)
    name = safe_head + safe_tail
    if name == raw and len(name) <= limit:
        return name
    digest = hashlib.sha256((raw if key is None else key).encode()).hexdigest()[:HASH_CHARS]
    room = limit - len(safe_tail) - len(digest) - 1
    return f"{safe_head[: max(room, 0)]}-{digest}{safe_tail}"[-limit:]
