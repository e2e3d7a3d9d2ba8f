"""Write deploy/terraform/alert_types.json: the detail-types the alert rule routes to SQS (→ Slack).

Generated from the event catalogue (``interlock.events.CATALOGUE``, every spec with ``alerts=True``), so
the rule cannot drift from the code: ``tests/deploy/test_structure.py`` regenerates and compares.
Run: ``python deploy/gen_alert_types.py`` (``make alert-types``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "deploy" / "terraform" / "alert_types.json"


def render() -> str:
    """The file's text: the alerting types in catalogue order."""
    sys.path.insert(0, str(ROOT))
    from interlock.events import CATALOGUE, SOURCE

    doc = {
        "_generated": "by deploy/gen_alert_types.py from interlock/events.py; do not edit",
        "source": SOURCE,
        "alert_types": [str(t) for t, spec in CATALOGUE.items() if spec.alerts],
    }
    return json.dumps(doc, indent=2) + "\n"


def main() -> int:
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
