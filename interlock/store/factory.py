"""Open a store from a URL: the one way the CLI, the TUI, notebooks and the embedded runtime get one.

::

    open_store(url)
      url  ─or─ $INTERLOCK_STORE ─or─ sqlite:///./.interlock/interlock.db
        │
        ├─ sqlite:///relative/path.db   ─┐  SQLiteStore; a missing file is created only with create=True
        ├─ sqlite:////abs/path.db       ─┘  (else StoreNotFoundError: a typo must not open an empty store)
        └─ dynamodb://<environment>?region=…&endpoint=…  DynamoDBStore (boto3, imported only here)
        │
        ▼
      Store: .control .joblog .reruns .events (domain objects) over .tables (the four Tables)

Driver modules are imported lazily, so opening a SQLite store never imports boto3 and the DynamoDB
path never needs sqlite3.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from interlock.store.control import ControlStore
from interlock.store.events import EventStore
from interlock.store.joblog import JobLog
from interlock.store.reruns import RerunLog
from interlock.store.specs import TABLE_SPECS
from interlock.store.table import StoreError, StoreUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from interlock.store.table import Table

__all__ = [
    "DEFAULT_STORE_URL",
    "STORE_ENV",
    "Store",
    "StoreNotFoundError",
    "StoreURLError",
    "open_store",
    "store_location",
]

STORE_ENV: Final = "INTERLOCK_STORE"
"""The environment variable naming the store when no URL is given."""
DEFAULT_STORE_URL: Final = "sqlite:///./.interlock/interlock.db"
"""The store used when neither a URL nor :data:`STORE_ENV` is given: a SQLite file in the working directory."""

_FORMS: Final = (
    "accepted store URLs: sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "dynamodb://<environment>?region=<region>&endpoint=<url>"
)
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_DYNAMODB_PARAMS: Final = frozenset({"region", "endpoint"})


class _Backend(Protocol):
    """What :class:`Store` needs from a driver (SQLiteStore, DynamoDBStore)."""

    def table(self, name: str) -> Table: ...


class Store:
    """The four tables of one store and the domain objects over them.

    Use as a context manager, or call :meth:`close`.

    Args:
        backend: a driver with ``table(name)`` (and, optionally, ``close()``).
        url: the URL it was opened from (for display).

    Attributes:
        control: configs, sensors, runs, rerun requests, dry-run markers, overrides and acks.
        joblog: the job log.
        reruns: the rerun log.
        events: stored events and Slack threads.
        tables: the four tables by logical name (``control``, ``joblog``, ``rerun``, ``events``).
        url: the store's URL.
        backend: the driver.
    """

    def __init__(self, backend: _Backend, *, url: str) -> None:
        self.backend = backend
        self.url = url
        self.tables: dict[str, Table] = {name: backend.table(name) for name in TABLE_SPECS}
        self.control = ControlStore(self.tables["control"])
        self.joblog = JobLog(self.tables["joblog"])
        self.reruns = RerunLog(self.tables["rerun"])
        self.events = EventStore(self.tables["events"])
        self._closed = False

    def close(self) -> None:
        """Release the driver's resources (idempotent)."""
        if self._closed:
            return
        self._closed = True
        close: Any = getattr(self.backend, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<Store {self.url}{state}>"


def _unquote(text: str) -> str:
    """Percent-decoding (``%3A`` → ``:``), without pulling urllib into the store layer."""

    def one(m: re.Match[str]) -> str:
        return bytes.fromhex(m.group(1)).decode("latin-1")

    raw = re.sub(r"%([0-9A-Fa-f]{2})", one, text)
    return raw.encode("latin-1").decode("utf-8")


class StoreURLError(StoreError, ValueError):
    """A store URL that names no store this version can open (bad input, not an outage)."""


class StoreNotFoundError(StoreURLError):
    """A ``sqlite://`` URL whose file does not exist, opened without ``create=True`` (bad input).

    Relative URLs are read from the working directory, so a store "vanishes" when a command runs from
    another directory; the message names the absolute path it looked for and how to create one.

    Attributes:
        url: the URL asked for.
        path: the absolute path that does not exist.
    """

    def __init__(self, url: str, path: Path) -> None:
        self.url = url
        self.path = path
        relative = (
            ""
            if url.startswith("sqlite:////")
            else " (sqlite:///x is relative to the working directory; sqlite:////x is absolute)"
        )
        super().__init__(
            f"no store at {url}: {path} does not exist{relative}; "
            f"create it with `interlock config push PIPELINES --store {url}`, or pass --create"
        )


def store_location(url: str) -> str:
    """Where a store URL points, in full: the SQLite file's absolute path, or the DynamoDB URL as given."""
    if url.startswith("sqlite://"):
        try:
            return str(_sqlite_path(url).absolute())
        except StoreURLError:
            return url
    return url


def _bad(url: str, why: str) -> StoreURLError:
    return StoreURLError(f"bad store URL {url!r}: {why}; {_FORMS}")


def _sqlite_path(url: str) -> Path:
    rest = url[len("sqlite://") :]
    if not rest.startswith("/") or rest == "/" or "?" in rest or "#" in rest:
        raise _bad(url, "expected sqlite:/// followed by a file path")
    path = _unquote(rest[1:])  # sqlite:///a.db → a.db, sqlite:////abs/a.db → /abs/a.db
    return Path(path)


def _dynamodb_args(url: str) -> tuple[str, str | None, str | None]:
    rest = url[len("dynamodb://") :]
    environment, _, query = rest.partition("?")
    environment = environment.rstrip("/")
    if not _ENVIRONMENT.match(environment):
        raise _bad(url, "expected dynamodb://<environment> (letters, digits, '-', '_', '.')")
    params: dict[str, str] = {}
    for pair in filter(None, query.split("&")):
        name, eq, value = pair.partition("=")
        if not eq or not value:
            raise _bad(url, f"parameter {pair!r} needs a value (name=value)")
        if name not in _DYNAMODB_PARAMS:
            raise _bad(url, f"unknown parameter {name!r} (known: region, endpoint)")
        if name in params:
            raise _bad(url, f"parameter {name!r} is given twice")
        params[name] = _unquote(value)
    return environment, params.get("region"), params.get("endpoint")


def open_store(
    url: str | None = None, *, now: Callable[[], float] | None = None, create: bool = True
) -> Store:
    """Open the store a URL names.

    Args:
        url: ``sqlite:///relative/path.db``, ``sqlite:////abs/path.db`` or
            ``dynamodb://<environment>?region=…&endpoint=…``; ``None`` reads ``$INTERLOCK_STORE``, then
            falls back to :data:`DEFAULT_STORE_URL`.
        now: the drivers' clock in epoch seconds (TTL decisions); the system clock if ``None``.
        create: make a missing SQLite file (and its directory); ``False`` refuses it with
            :class:`StoreNotFoundError` (the CLI and TUI pass ``False`` unless asked to create, so a
            mistyped or relative-to-elsewhere path is not silently a new, empty store).

    Returns:
        The open store (close it, or use it as a context manager).

    Raises:
        StoreError: the URL is not one of the accepted forms.
        StoreNotFoundError: ``create`` is false and the SQLite file does not exist.
        StoreUnavailableError: the store cannot be opened (e.g. its directory cannot be created).
    """
    if url is None:
        url = os.environ.get(STORE_ENV) or DEFAULT_STORE_URL
    url = url.strip()
    if url.startswith("sqlite://"):
        path = _sqlite_path(url)
        if not create and not path.exists():
            raise StoreNotFoundError(url, path.absolute())
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailableError(
                f"cannot create the directory of {url!r} ({path.parent}): {exc.strerror or exc}"
            ) from exc
        from interlock.store.sqlite import SQLiteStore

        return Store(SQLiteStore(path, now=now), url=url)
    if url.startswith("dynamodb://"):
        environment, region, endpoint = _dynamodb_args(url)
        from interlock.store.dynamodb import DynamoDBStore

        return Store(
            DynamoDBStore(environment, region=region, endpoint_url=endpoint, now=now), url=url
        )
    raise _bad(url, "unknown scheme")
