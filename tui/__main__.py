"""``interlock-tui``: the on-call console.

The console itself (board, pipeline detail, live events, reruns, SLA acknowledgements) is built on the
store layer and lands with it; until then this entry point says so plainly instead of failing obscurely.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Entry point of ``interlock-tui``."""
    sys.stderr.write(
        "interlock-tui: the on-call console is not built yet: it needs the store layer, which "
        "arrives next.\nMeanwhile: `interlock validate PATH` checks pipeline files and "
        "`interlock explain PIPELINE --sensors FILE` shows why a pipeline is (not) ready.\n"
    )
    return 3


if __name__ == "__main__":
    sys.exit(main())
