"""Packaging: every subpackage of kerasact is found by the install's package discovery, and
the folders follow one import order (a wing imports only the wings before it)."""

import ast
import sys
from pathlib import Path

import pytest
from setuptools import find_packages

import kerasact

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kerasact"
ORDER = list(kerasact._SUBPACKAGES)  # the architecture's import order, as the face lists it


def _wings() -> list[str]:
    return sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())


def test_the_install_finds_every_subpackage():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    found = set(find_packages(str(ROOT), include=config["include"]))
    assert found == {"kerasact"} | {f"kerasact.{wing}" for wing in _wings()}


def test_every_folder_is_a_wing_of_the_face_and_the_order_lists_them_all():
    assert sorted(ORDER) == _wings()


def _imported_wings(path: Path) -> set[str]:
    wings = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
            [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
        if isinstance(node, ast.ImportFrom) and node.module == "kerasact":
            names = [f"kerasact.{alias.name}" for alias in node.names]
        wings |= {name.split(".")[1] for name in names if name.startswith("kerasact.") and name.count(".") >= 1}
    return wings & set(ORDER)


@pytest.mark.parametrize("wing", ORDER)
def test_a_wing_imports_only_the_wings_before_it(wing):
    allowed = set(ORDER[:ORDER.index(wing) + 1])
    for path in sorted((PACKAGE / wing).rglob("*.py")):
        later = _imported_wings(path) - allowed
        assert not later, f"{path.relative_to(ROOT)} imports {sorted(later)}, which come after {wing!r}"
