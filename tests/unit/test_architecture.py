"""The rules of docs/architecture.md, as import-linter contracts in pyproject.toml: a package imports only the
layers below it, only jvm/ imports JPype, and records know no AWS client."""

import tomllib
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_keeps_the_architecture_rules(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.chdir(ROOT)
    assert lint_imports(no_cache=True, no_logo=True) == 0, capsys.readouterr().out


def test_the_rules_cover_every_package_of_the_engine():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = {layer.removeprefix("python_connector.")
              for c in contracts if c["type"] == "layers" for layer in c["layers"]}
    packages = {p.name for p in (ROOT / "python_connector").iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in (ROOT / "python_connector").glob("*.py") if not p.stem.startswith("__")}
    assert packages | modules <= layers, f"not placed in a layer: {sorted((packages | modules) - layers)}"
