"""Who may import whom: only python_connector.jvm imports JPype; the engine's process server (python_connector.process)
stands on the engine and the layers below it, and nothing in the engine imports it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "python_connector"


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def modules(under: Path) -> dict[str, set[str]]:
    return {str(p.relative_to(PACKAGE.parent)): imports(p) for p in under.rglob("*.py")}


def test_only_the_jvm_package_imports_jpype():
    offenders = [m for m, names in modules(PACKAGE).items()
                 if not m.startswith("python_connector/jvm/") and any(n.split(".")[0] == "jpype" for n in names)]
    assert offenders == []


def test_the_process_server_stands_on_the_engine_and_nothing_in_the_engine_imports_it():
    above = ("python_connector.jvm", "python_connector.cli", "jpype")
    server = [(m, n) for m, names in modules(PACKAGE / "process").items() for n in names if n.startswith(above)]
    assert server == []
    users = [m for m, names in modules(PACKAGE).items()
             if not m.startswith("python_connector/process/") and any(n.startswith("python_connector.process")
                                                                       for n in names)]
    assert users == []
