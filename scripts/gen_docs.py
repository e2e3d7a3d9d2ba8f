"""The generated pages of docs/: what ``make docs`` writes (a test fails when a committed page drifts).

docs/events.md    the event catalogue          interlock.events.catalogue_markdown()
docs/oncall.md    the on-call guide            interlock.events.oncall_markdown(), with the console
                                               captures of docs/console/*.txt (scripts/capture_console.py)
docs/deployers.md the Terraform module's       deploy/terraform/variables.tf and outputs.tf, between the
                  variables and outputs        page's "<!-- generated: NAME -->" / "<!-- end generated -->"
                                               lines (the rest of the page is written by hand)

python scripts/gen_docs.py            # rewrite the pages
python scripts/gen_docs.py --check    # exit 1 if a committed page differs from what this generates
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
MODULE = REPO / "deploy" / "terraform"
_REGION = re.compile(
    r"(?P<open><!-- generated: (?P<name>[\w-]+) \(scripts/gen_docs.py\) -->\n)(?P<body>.*?)(?P<close><!-- end generated -->)",
    re.S,
)
_NEW = re.compile(r"^# -+ new\s*$", re.M)


def console_captures() -> dict[str, str]:
    """The committed console captures, by name (``docs/console/board.txt`` → ``board``)."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted((DOCS / "console").glob("*.txt"))}


def _blocks(path: Path, kind: str) -> list[tuple[str, dict[str, Any], bool]]:
    """(name, body, new) of every ``kind`` block of a .tf file, in file order.

    ``new``: declared after the file's ``# ---- new`` line, i.e. ours rather than the original module's.
    """
    import hcl2  # type: ignore[import-untyped]
    from hcl2 import SerializationOptions

    text = path.read_text(encoding="utf-8")
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    parsed = hcl2.loads(text, serialization_options=options)
    marker = _NEW.search(text)
    boundary = marker.start() if marker else len(text)
    out = []
    for block in parsed.get(kind, []):
        for name, body in block.items():
            at = text.index(f'{kind} "{name}"')
            out.append((name, body, at > boundary))
    return out


def _hcl(value: Any) -> str:
    """A value as HCL would spell it (defaults)."""
    if isinstance(value, str):
        inner = value[2:-1] if value.startswith("${") and value.endswith("}") else None
        return inner if inner is not None else json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_hcl(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(v) for v in value) + "]"
    return json.dumps(value)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def terraform_tables() -> dict[str, str]:
    """The module's variables and outputs as Markdown tables (region name → table)."""
    rows = [
        "| Variable | Type | Default | Description |",
        "|---|---|---|---|",
    ]
    for name, body, new in _blocks(MODULE / "variables.tf", "variable"):
        kind = str(body.get("type", "any")).removeprefix("${").removesuffix("}")
        default = f"`{_cell(_hcl(body['default']))}`" if "default" in body else "**required**"
        note = " *(new)*" if new else ""
        rows.append(
            f"| `{name}`{note} | `{_cell(kind)}` | {default} | {_cell(str(body.get('description', '')))} |"
        )
    outputs = ["| Output | Value | Description |", "|---|---|---|"]
    for name, body, new in _blocks(MODULE / "outputs.tf", "output"):
        note = " *(new)*" if new else ""
        value = _cell(_hcl(body.get("value", "")))
        if len(value) > 70:
            value = value[:69] + "…"
        outputs.append(
            f"| `{name}`{note} | `{value}` | {_cell(str(body.get('description', '')))} |"
        )
    return {"variables": "\n".join(rows) + "\n", "outputs": "\n".join(outputs) + "\n"}


def fill_regions(text: str, regions: dict[str, str]) -> str:
    """``text`` with each ``<!-- generated: NAME … -->`` region's body replaced by ``regions[NAME]``.

    Raises:
        KeyError: the page names a region nobody generates.
    """
    return _REGION.sub(
        lambda m: m.group("open") + regions[m.group("name")] + m.group("close"), text
    )


def generated_pages() -> dict[Path, str]:
    """Every generated page: path → the text it must hold."""
    from interlock.events import catalogue_markdown, oncall_markdown

    deployers = DOCS / "deployers.md"
    return {
        DOCS / "events.md": catalogue_markdown(),
        DOCS / "oncall.md": oncall_markdown(console_captures()),
        deployers: fill_regions(deployers.read_text(encoding="utf-8"), terraform_tables()),
    }


def stale_pages() -> list[Path]:
    """The generated pages whose committed text differs from what the generators give."""
    return [
        path
        for path, text in generated_pages().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_pages()
        for path in stale:
            sys.stderr.write(f"{path.relative_to(REPO)} is out of date: run `make docs`\n")
        return 1 if stale else 0
    for path, text in generated_pages().items():
        path.write_text(text, encoding="utf-8")
        sys.stderr.write(f"wrote {path.relative_to(REPO)}\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
