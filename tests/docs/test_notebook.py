"""The example notebook executes top to bottom, from a working directory outside the checkout.

nbclient runs it in a real Jupyter kernel (ipykernel, the dev extra), as ``jupyter nbconvert --execute``
would: a cell that raises fails the test with the cell's traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extra")
nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extra")
pytest.importorskip("ipykernel", reason="ipykernel is in the dev extra")

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "interlock.ipynb"


def test_the_example_notebook_runs_from_another_directory(tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
    )
    client.execute()
    outputs = {
        cell.source.splitlines()[0]: cell.outputs
        for cell in notebook.cells
        if cell.cell_type == "code"
    }
    errors = [o for outs in outputs.values() for o in outs if o.get("output_type") == "error"]
    assert errors == []
    shown = "".join(
        str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", ""))
        for outs in outputs.values()
        for o in outs
    )
    assert "gold-revenue" in shown
    assert "SLA_ACKNOWLEDGED" in shown or "acknowledged" in shown.lower()
    assert not (tmp_path / ".interlock").exists()  # it wrote only its scratch store
