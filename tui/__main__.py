"""``interlock-tui [--store URL] [--read-only] [--theme NAME]``: the on-call console."""

from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_BAD_INPUT, EXIT_OPERATIONAL = 0, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interlock-tui",
        description="The Interlock on-call console: pipeline board, detail, live events, actions.",
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="sqlite:///path.db or dynamodb://ENV?region=…&endpoint=… "
        "(default: $INTERLOCK_STORE, then sqlite:///./.interlock/interlock.db). "
        "sqlite:///rel/path.db is relative to the working directory, sqlite:////abs/path.db absolute",
    )
    parser.add_argument(
        "--create",
        action="store_true",
        help="create the SQLite store if its file does not exist (default: refuse, exit 2)",
    )
    parser.add_argument(
        "--read-only", action="store_true", help="hide and refuse rerun, ack and dry-run"
    )
    parser.add_argument("--theme", metavar="NAME", help="dark (default), light, or a Textual theme")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="play the example pipelines through a generated day, live, and watch it "
        "(store: .interlock/demo.db)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=120.0,
        metavar="X",
        help="--demo: virtual seconds per second (default 120: an hour every 30 s)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``interlock-tui``."""
    args = _parser().parse_args(argv)
    try:
        from tui.app import make_app
    except ImportError as exc:  # pragma: no cover - the tui extra is missing
        sys.stderr.write(f"interlock-tui needs Textual: pip install 'interlock[tui]' ({exc})\n")
        return EXIT_OPERATIONAL
    if args.demo:
        from tui.demo import run_demo

        if args.speed <= 0:
            sys.stderr.write("interlock-tui: --speed must be positive\n")
            return EXIT_BAD_INPUT
        return run_demo(speed=args.speed, read_only=args.read_only, theme=args.theme)
    from interlock.api import Interlock
    from interlock.store.factory import StoreURLError, open_store
    from interlock.store.table import StoreError

    try:
        store = open_store(args.store, create=args.create)
    except StoreURLError as exc:
        sys.stderr.write(f"interlock-tui: {exc}\n")
        return EXIT_BAD_INPUT
    except StoreError as exc:
        sys.stderr.write(f"interlock-tui: cannot open the store: {exc}\n")
        return EXIT_OPERATIONAL
    with Interlock(store) as api:
        try:
            app = make_app(api, read_only=args.read_only, theme=args.theme)
        except ValueError as exc:
            sys.stderr.write(f"interlock-tui: {exc}\n")
            return EXIT_BAD_INPUT
        app.run()
    if not app.ever_read:
        why = f": {app.last_read_error}" if app.last_read_error is not None else ""
        sys.stderr.write(f"interlock-tui: the store was never read{why}\n")
        return EXIT_OPERATIONAL
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
