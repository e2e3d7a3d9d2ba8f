"""boto3 clients for the adapters: built on first use, endpoint_url honoured, botocore errors named.

The adapters take an injected client (tests, notebooks) or build one lazily through :func:`build_client`,
which shares the DynamoDB driver's client factory (one botocore loader per process: cheaper cold
starts). boto3 is imported only when a client is built.
"""

from __future__ import annotations

from typing import Any

from interlock.exceptions import InterlockError

__all__ = ["AwsError", "LazyClient", "build_client", "error_code", "is_client_error"]


class AwsError(InterlockError):
    """An AWS call failed in a way the adapter cannot absorb (the caller's Lambda then fails and retries)."""


def build_client(service: str, *, region: str | None, endpoint_url: str | None) -> Any:
    """A boto3 client for ``service`` (standard retry mode).

    Raises:
        ImportError: boto3 is not installed (install ``interlock[aws]``).
        StoreUnavailableError: no client can be built (e.g. no region configured).
    """
    from interlock.store.dynamodb_wire import _build_client

    return _build_client(service, region=region, endpoint_url=endpoint_url)


class LazyClient:
    """The boto3 client for ``service``, built on first use from the owner's ``region`` and ``endpoint_url``.

    An adapter declares ``client = LazyClient("events")`` and keeps an injected client (or ``None``) in
    ``self._client``.
    """

    def __init__(self, service: str) -> None:
        self.service = service
        self.__doc__ = f"The ``{service}`` client (built on first use)."

    def __get__(self, owner: Any, owner_type: type | None = None) -> Any:
        if owner is None:
            return self
        if owner._client is None:
            owner._client = build_client(
                self.service, region=owner.region, endpoint_url=owner.endpoint_url
            )
        return owner._client


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (empty for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code", ""))


def is_client_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a botocore ``ClientError`` (checked without importing botocore eagerly)."""
    return type(exc).__name__ == "ClientError" or bool(error_code(exc))
