"""The base of every config model, and the checks on values that several models share (URLs, ARNs, ids).

Split from :mod:`interlock.config.models` so the pipeline models (:mod:`~interlock.config.models`) and the
job models (:mod:`~interlock.config.jobs`) build on one base without importing each other.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from interlock.ssrf import host_refusal

__all__ = ["ConfigModel", "check_pattern", "check_url", "url_host"]


class ConfigModel(BaseModel):
    """The base of every config model: frozen, refusing unknown keys, names or aliases accepted."""

    # Field docstrings become JSON Schema descriptions, but pydantic's use_attribute_docstrings re-parses
    # each class's source at import (~25 ms for these models, a third of their import): every process
    # that reads a config paid it. interlock.config.schema attaches them when a schema is generated.
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        str_strip_whitespace=True,
    )


_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


_URL_HOST = re.compile(r"^https?://(?:[^@/?#]*@)?(\[[^\]/?#]*\]|[^:/?#]*)", re.IGNORECASE)
# Internal addresses refused even with --allow-private: never a job endpoint, often an attack target.
_NEVER_A_JOB = ("link-local", "multicast", "unspecified", "reserved")


def url_host(value: str) -> str | None:
    """The host of an http(s) URL (an IPv6 address without brackets), or ``None``."""
    match = _URL_HOST.match(value)
    if match is None:
        return None
    return match.group(1).strip("[]") or None


def check_url(value: str, what: str) -> str:
    if "${" in value:  # a Terraform/templatefile placeholder, filled at deploy time
        return value
    if not _URL.match(value):
        raise ValueError(f"{what} {value!r} is not an http(s) URL")
    host = url_host(value)
    reason = host_refusal(host) if host else None
    if reason is not None and reason.startswith(_NEVER_A_JOB):
        raise ValueError(
            f"{what} {value!r} points at a {reason} address: the SSRF guard refuses it (a trigger "
            "must not reach the cloud metadata service or other internal addresses); use the "
            "service's hostname"
        )
    return value


def check_pattern(value: str, pattern: re.Pattern[str], what: str, example: str) -> str:
    if "${" in value or pattern.fullmatch(value):
        return value
    raise ValueError(f"{what} {value!r} is malformed: expected something like {example}")
