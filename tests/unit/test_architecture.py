"""The rules of docs/architecture.md, as import-linter contracts in pyproject.toml: a package imports only the
layers below it, only jvm/ imports JPype, and records know no AWS client."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_keeps_the_architecture_rules():
    # In a process of its own: import-linter changes the logging of the process it runs in.
    linted = subprocess.run([Path(sys.executable).with_name("lint-imports"), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_rules_cover_every_package_of_the_engine():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = {layer.removeprefix("python_connector.")
              for c in contracts if c["type"] == "layers" for layer in c["layers"]}
    packages = {p.name for p in (ROOT / "python_connector").iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in (ROOT / "python_connector").glob("*.py") if not p.stem.startswith("__")}
    assert packages | modules <= layers, f"not placed in a layer: {sorted((packages | modules) - layers)}"
