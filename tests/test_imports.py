"""The light parts of kerasact import without TensorFlow or Keras, through the real package
(its `__init__` loads names lazily), so data, plots, the numpy oracle and the pytest plugin
stay cheap to import."""

import subprocess
import sys

import pytest

LIGHT = ["kerasact", "kerasact.data", "kerasact.data._datasets", "kerasact.data._splits", "kerasact.data._labels",
         "kerasact.plots", "kerasact.plots._concepts", "kerasact.reference", "kerasact.activations",
         "kerasact.testing", "kerasact.cli", "kerasact.cli.recipe", "kerasact.cli.main", "kerasact.cli._parser",
         "kerasact._quiet", "kerasact.training.runs", "kerasact.report", "kerasact.report.leaderboard"]


@pytest.mark.parametrize("module", LIGHT)
def test_light_module_imports_without_tensorflow(module):
    code = (f"import sys, {module}\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", f"importing {module} loaded {result.stdout.strip()}"


def test_public_names_resolve():
    import kerasact

    missing = [name for name in kerasact.__all__ if getattr(kerasact, name, None) is None]
    assert missing == []
