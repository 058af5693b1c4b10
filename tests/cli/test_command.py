"""The `kerasact` command: the console script and `python -m kerasact` print what the
library's tables hold, and help lists every subcommand."""

import subprocess
import sys
from pathlib import Path

import pytest

import kerasact
from kerasact.cli import main
from kerasact.cli.main import _COMMANDS


def _run(*args: str, script: bool = False) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("kerasact"))] if script else [sys.executable, "-m", "kerasact"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)


def test_python_dash_m_prints_help_listing_every_subcommand():
    out = _run()
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: kerasact")
    assert all(name in out.stdout for name in _COMMANDS)


def test_console_script_is_installed_and_reports_the_version():
    script = Path(sys.executable).with_name("kerasact")
    assert script.is_file(), "pip install should put the `kerasact` console script next to python"
    out = _run("--version", script=True)
    assert out.returncode == 0 and out.stdout.strip() == f"kerasact {kerasact.__version__}"


def test_heads_prints_every_row_of_the_head_table(capsys):
    assert main(["heads"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name, head in kerasact.HEADS.items():
        row = next(line for line in lines if line.startswith(name + " "))
        assert head.activation in row and head.default_loss in row


def test_activations_lists_the_dense_names(capsys):
    from kerasact.activations import DENSE_NAMES

    assert main(["activations"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == DENSE_NAMES


def test_info_prints_library_versions(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "tensorflow" in out and "keras" in out and "regression" in out


def test_an_unknown_subcommand_is_one_short_error():
    out = _run("trian")
    assert out.returncode == 2
    assert "invalid choice: 'trian'" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("command", sorted(_COMMANDS))
def test_every_subcommand_has_help(command):
    out = _run(command, "--help")
    assert out.returncode == 0 and out.stdout.startswith(f"usage: kerasact {command}")
