"""The service layer: read → decide → apply, the same for every runtime (DESIGN §5).

    controller.py    change-feed record and timer handlers (stream router, SLA, watchdog, cron)
    orchestrator.py  the state machine's Task resource (decides a run step, writes nothing)
    executor.py      applies a decision's actions through the store and the ports (the only writer)
    operator.py      operator actions (rerun, ack, dry run), audited through the bus
    reads.py         what the watchdog decides from (index and per-pipeline queries)
    bus.py           StoreBus (the embedded EventBus) and the console notifier
    starts.py        DurableStarts: a replayed Trigger Task reuses the first start's handle
    wiring.py        build_services(): one wiring for the embedded runtime and the Lambdas

Submodules are imported on first use (PEP 562), so ``import interlock.service`` loads nothing else.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from interlock.service.wiring import Services, build_services

__all__ = ["Services", "build_services"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("interlock.service.wiring"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
