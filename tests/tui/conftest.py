"""Fixtures of the TUI tests: a seeded SQLite store, a frozen clock, no cursor blink, a flaky store."""

from __future__ import annotations

import asyncio
import inspect
from typing import TYPE_CHECKING, Any

import pytest
from textual.widgets import Input
from textual.worker import WorkerCancelled

from interlock.api import Interlock
from interlock.ports import VirtualClock
from interlock.store.factory import Store, open_store
from interlock.store.table import StoreUnavailableError
from tests.tui.seed import NOW, seed_world
from tui.app import InterlockApp, make_app

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from textual.pilot import Pilot

ACTOR = "tester@oncall"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests on a fresh event loop.

    The dev extra has no async plugin (pytest-asyncio/anyio); pilot tests need only a loop, so this
    small hook stands in for one.
    """
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes snapshots flaky: keep it lit (a third-party seam, STYLE rule 22)."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(NOW)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/world.db"


@pytest.fixture
def api(db_url: str, clock: VirtualClock) -> Iterator[Interlock]:
    store = open_store(db_url, now=lambda: clock.now().timestamp())
    seed_world(store)
    with Interlock(store, clock=clock, actor=ACTOR) as facade:
        yield facade


@pytest.fixture
def app_factory(api: Interlock, clock: VirtualClock) -> Callable[..., InterlockApp]:
    """``make_app`` over the seeded store, with no timers unless a test asks for them."""

    def build(**kwargs: Any) -> InterlockApp:
        kwargs.setdefault("refresh_seconds", None)
        kwargs.setdefault("tail_seconds", None)
        return make_app(api, clock=clock, **kwargs)

    return build


async def settle(pilot: Pilot[Any], rounds: int = 3) -> None:
    """Let workers finish and their result messages be handled (each handler may start another).

    At least ``rounds`` rounds, then more (up to 20) while any worker is still pending: on a loaded
    CI machine a screen's mount handler can start its worker after a round has already looked.
    """
    for index in range(20):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            pass  # a screen's poller cancelled by a screen change has finished, not failed
        await pilot.pause()
        busy = any(not w.is_finished for w in pilot.app.workers)
        if index + 1 >= rounds and not busy:
            break


class _FlakyTable:
    """A table that fails every call while its backend is broken (a store outage)."""

    def __init__(self, inner: Any, backend: FlakyBackend) -> None:
        self._inner = inner
        self._backend = backend

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._backend.broken:
                raise StoreUnavailableError("the store is unreachable (injected outage)")
            return attr(*args, **kwargs)

        return call


class FlakyBackend:
    """A driver wrapper whose tables fail while ``broken`` is set."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.broken = False

    def table(self, name: str) -> Any:
        return _FlakyTable(self.inner.table(name), self)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def flaky(db_url: str, clock: VirtualClock) -> Iterator[tuple[Interlock, FlakyBackend]]:
    real = open_store(db_url, now=lambda: clock.now().timestamp())
    seed_world(real)
    backend = FlakyBackend(real.backend)
    with Interlock(Store(backend, url=db_url), clock=clock, actor=ACTOR) as facade:
        yield facade, backend
