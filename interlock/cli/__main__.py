"""``python -m interlock.cli``: the same as the ``interlock`` command."""

from __future__ import annotations

import sys

from interlock.cli import main

sys.exit(main())
