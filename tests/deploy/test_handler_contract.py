"""The handlers and the module agree: every Terraform handler exists in lambdas/, and every environment
variable a handler reads is one the module sets for that function (deploy/terraform/lambda_env.json).

Expected to FAIL until the six handlers land in lambdas/ (they are written on another branch).
"""

from __future__ import annotations

import ast
import json

import pytest

from tests.deploy._tf import MODULE, ROOT

CONTRACT = {
    k: v
    for k, v in json.loads((MODULE / "lambda_env.json").read_text(encoding="utf-8")).items()
    if not k.startswith("_")
}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_handler_exists(name: str) -> None:
    path = ROOT / "lambdas" / f"{name}.py"
    assert path.is_file(), (
        f"Terraform points a function at lambdas.{name}.handler but {path} is missing"
    )
    tree = ast.parse(path.read_text(encoding="utf-8"))
    handlers = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "handler"]
    assert handlers, f"lambdas/{name}.py defines no top-level handler(event, context)"
    assert [a.arg for a in handlers[0].args.args][:2] == ["event", "context"]


def _env_reads(source: str) -> set[str]:
    """Names read via os.environ[...], os.environ.get(...), os.getenv(...) with a literal name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ"):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                names.add(node.slice.value)
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            fn = ast.unparse(node.func)
            if fn.endswith(("environ.get", "getenv", "environ.setdefault")) and isinstance(
                node.args[0].value, str
            ):
                names.add(node.args[0].value)
    return names


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_every_env_var_read_is_set(name: str) -> None:
    path = ROOT / "lambdas" / f"{name}.py"
    if not path.is_file():
        pytest.fail(f"lambdas/{name}.py is missing")
    shared = [p for p in (ROOT / "lambdas").glob("_*.py") if p.name != "__init__.py"]
    reads = _env_reads(path.read_text(encoding="utf-8"))
    for helper in shared:
        reads |= _env_reads(helper.read_text(encoding="utf-8"))
    provided = set(CONTRACT[name]["required"]) | set(CONTRACT[name]["optional"])
    # set by the Lambda runtime itself, or by the deployer for tracing/logging
    runtime = {
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_LAMBDA_FUNCTION_NAME",
        "LOG_LEVEL",
        "POWERTOOLS_SERVICE_NAME",
    }
    unknown = {r for r in reads - provided - runtime if not r.startswith("INTERLOCK_")}
    assert not unknown, (
        f"lambdas/{name}.py reads {sorted(unknown)}, which the module does not set for it"
    )
