"""Reading the store loads the config models on demand: laziness never changes what a read returns.

The controller, the store and the Lambda handlers import no pydantic or PyYAML (tests/unit/
test_import_hygiene.py); these tests check, in a fresh interpreter, that the first CONFIG read and the first
event read then load them and return the same validated objects as before.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from interlock.config.loader import load_pipelines
from interlock.envelope import Event
from interlock.events import EventType
from interlock.store import open_store
from interlock.store.events import EventStore

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _fresh(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", "import sys\n" + code], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_first_config_read_loads_the_models_and_returns_the_validated_config(
    tmp_path: Path,
) -> None:
    # GIVEN a store holding one pushed pipeline config
    url = f"sqlite:///{tmp_path / 'interlock.db'}"
    config = load_pipelines(ROOT / "examples" / "pipelines")["gold-revenue"]
    store = open_store(url)
    store.control.put_config(config, now=NOW)
    store.close()
    # WHEN a fresh interpreter opens the store and reads it back
    out = _fresh(
        "from interlock.store import open_store\n"
        f"store = open_store({url!r})\n"
        "before = 'pydantic' in sys.modules\n"
        "config = store.control.get_config('gold-revenue')\n"
        "print(before, 'pydantic' in sys.modules, type(config).__name__, config.model_dump_json())\n"
    )
    # THEN pydantic was loaded by the read, not the open, and the config is the one pushed
    before, after, kind, dumped = out.split(" ", 3)
    assert (before, after, kind) == ("False", "True", "PipelineConfig")
    assert dumped == config.model_dump_json()


def test_first_event_read_loads_the_event_model(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'interlock.db'}"
    store = open_store(url)
    event = Event.create(
        EventType.SLA_WARNING, "gold-revenue", schedule_id="cron", date="2026-03-02", now=NOW
    )
    # kept for a century: the driver hides rows past their TTL by the wall clock, and NOW is fixed
    EventStore(store.tables["events"], ttl_days=36500).append(event)
    store.close()
    out = _fresh(
        "from interlock.store import open_store\n"
        f"store = open_store({url!r})\n"
        "before = 'pydantic' in sys.modules\n"
        "[event] = store.events.for_pipeline('gold-revenue')\n"
        "print(before, repr(event))\n"
    )
    assert out == f"False {event!r}"
