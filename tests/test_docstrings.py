"""One docstring dialect: Google style with Markdown backticks, and an example for every
public function of every folder's face (the reader's first stop)."""

import importlib
import inspect
import re
from pathlib import Path

import pytest

import kerasact

PACKAGE = Path(kerasact.__file__).parent


def _public_functions():
    for wing in kerasact._SUBPACKAGES:
        face = importlib.import_module(f"kerasact.{wing}")
        for name in getattr(face, "__all__", []):
            obj = getattr(face, name)
            if inspect.isfunction(obj):
                yield f"{wing}.{name}", obj


@pytest.mark.parametrize(("name", "fn"), list(_public_functions()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_function_has_a_google_style_docstring_with_an_example(name, fn):
    doc = inspect.getdoc(fn) or ""
    assert doc, f"{name} has no docstring"
    assert "Example:" in doc or "Examples:" in doc, f"{name}'s docstring has no Example section"
    assert ":param" not in doc and ":return" not in doc, f"{name} uses reST fields; use Args:/Returns:"


def test_no_restructuredtext_double_backticks_in_the_library():
    found = [f"{path.relative_to(PACKAGE)}:{i}" for path in sorted(PACKAGE.rglob("*.py"))
             for i, line in enumerate(path.read_text().splitlines(), 1) if re.search(r"``[^`]+``", line)]
    assert found == [], f"Markdown backticks (`x`), not reST (``x``): {found[:5]}"
