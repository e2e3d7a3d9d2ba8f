"""The handlers and the module agree: every Terraform handler exists in lambdas/, and every environment
variable a handler needs at cold start (``interlock.aws.runtime.NEEDS``, checked by ``Settings.from_env``)
is one the module sets for that function (deploy/terraform/lambda_env.json).
"""

from __future__ import annotations

import ast
import json

import pytest

from interlock.aws.runtime import NEEDS, TABLES, Settings
from tests.deploy._tf import MODULE, ROOT

CONTRACT = {
    k: v
    for k, v in json.loads((MODULE / "lambda_env.json").read_text(encoding="utf-8")).items()
    if not k.startswith("_")
}


def test_the_module_and_the_code_name_the_same_six_functions() -> None:
    assert set(CONTRACT) == set(NEEDS)


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_handler_exists(name: str) -> None:
    path = ROOT / "lambdas" / f"{name}.py"
    assert path.is_file(), (
        f"Terraform points a function at lambdas.{name}.handler but {path} is missing"
    )
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} | {
        t.id
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    assert "handler" in defined, f"lambdas/{name}.py defines no top-level handler"


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_every_variable_a_handler_needs_is_set_by_the_module(name: str) -> None:
    provided = set(CONTRACT[name]["required"])
    needed = {f"{n.upper()}_TABLE" if n in TABLES else n for n in NEEDS[name]}
    assert needed <= provided, (
        f"lambdas/{name}.py needs {sorted(needed - provided)}, which the module does not set for it"
    )
    # the cold start succeeds with exactly what the module sets (placeholder values)
    Settings.from_env(name, dict.fromkeys(provided, "x"))


@pytest.mark.parametrize(
    "name", sorted(n for n in CONTRACT if any(need not in TABLES for need in NEEDS[n]))
)
def test_a_cold_start_without_a_needed_variable_names_it(name: str) -> None:
    from interlock.aws.runtime import MissingSettingError

    need = next(n for n in NEEDS[name] if n not in TABLES)
    provided = {var: "x" for var in CONTRACT[name]["required"] if var != need}
    with pytest.raises(MissingSettingError, match=need):
        Settings.from_env(name, provided)
