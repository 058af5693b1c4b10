"""The `kerasact` command: the console script and `python -m kerasact` print what the
library's tables hold, and help lists every subcommand."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import kerasact
from kerasact.cli import main, recipe
from kerasact.cli._parser import Command
from kerasact.cli.main import _COMMANDS, _EXIT_STATUS, parser

# A fresh shell's environment: without the TF_CPP_MIN_LOG_LEVEL that conftest.py sets.
FRESH_ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
TF_NOISE = re.compile(r"cuda|onednn|cpu_feature_guard|absl|retracing", re.IGNORECASE)


def _run(*args: str, script: bool = False) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("kerasact"))] if script else [sys.executable, "-m", "kerasact"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120, env=FRESH_ENV)


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


"""
## TensorFlow's own log lines: hidden by default, shown with --verbose
"""


@pytest.mark.parametrize("script", [False, True], ids=["python -m kerasact", "console script"])
def test_info_prints_no_tensorflow_log_lines(script):
    out = _run("info", script=script)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "tensorflow" in out.stdout and not TF_NOISE.search(out.stdout + out.stderr), out.stderr[-2000:]


@pytest.mark.parametrize("argv", [["--verbose", "info"], ["info", "--verbose"]])
def test_verbose_is_taken_before_or_after_the_subcommand(argv):
    assert parser().parse_args(argv).verbose is True
    assert parser().parse_args(argv[1:] if argv[0] == "--verbose" else argv[:1]).verbose is False


# (argument, user's TF_CPP_MIN_LOG_LEVEL) -> what the environment holds after quiet_tensorflow
QUIET_CASES = [(False, None, "3"), (False, "1", "1"), (True, None, None), (True, "0", "0")]


@pytest.mark.parametrize(("verbose", "user", "expected"), QUIET_CASES)
def test_quiet_tensorflow_sets_the_log_level_unless_verbose_and_a_users_own_setting_wins(verbose, user, expected):
    code = (f"import logging, os, sys; from kerasact.cli import recipe; recipe.quiet_tensorflow({verbose}); "
            "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), 'tensorflow' in sys.modules, "
            "logging.getLogger('tensorflow').level)")
    env = FRESH_ENV | ({"TF_CPP_MIN_LOG_LEVEL": user} if user else {})
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    level, imported, logger_level = out.stdout.split()
    assert level == str(expected) and imported == "False"  # no TensorFlow import of its own
    assert int(logger_level) == (0 if verbose else 40)  # ERROR hides the retracing warning


# Lines as TensorFlow 2.21 writes them while it loads.
BANNER = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
CPP = "I0000 00:00:1796120668.869226   14475 port.cc:153] oneDNN custom operations are on."
GUARD = ["I0000 00:00:1796120668.995589   23006 cpu_feature_guard.cc:227] This TensorFlow binary is optimized",
         "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow"]
# (stderr lines, TF_CPP_MIN_LOG_LEVEL) -> which lines are held back
STARTUP_LINES = [
    ([BANNER, CPP], 3, [True, True]),
    ([CPP, CPP.replace("I0000", "E0000")], 1, [True, False]),
    ([*GUARD, "Traceback (most recent call last):"], 3, [True, True, False]),
    ([CPP, "UserWarning: something of Python's own"], 0, [False, False]),
]


@pytest.mark.parametrize(("lines", "level", "hidden"), STARTUP_LINES)
def test_startup_noise_holds_back_only_what_the_level_hides(lines, level, hidden):
    assert recipe.startup_noise(lines, level) == hidden


"""
## Exit status: 2 for bad usage or input, 1 for a failed run; one line on stderr either way
"""


@pytest.mark.parametrize(("error", "status"), _EXIT_STATUS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_an_error_from_a_subcommand_is_its_exit_status_and_one_line(monkeypatch, capsys, error, status):
    def fails(args):
        """Fails."""
        raise error("the table is wrong\nfix it")

    monkeypatch.setitem(_COMMANDS, "heads", Command(fails))
    assert main(["heads"]) == status
    captured = capsys.readouterr()
    assert captured.err == "kerasact: error: the table is wrong fix it\n" and captured.out == ""


def test_a_warning_during_a_subcommand_is_one_line_on_stderr(monkeypatch, capsys):
    import warnings

    def warns(args):
        """Warns."""
        warnings.warn("column 'id' is dropped\nkeep it with categorical=['id']", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setitem(_COMMANDS, "heads", Command(warns))
    assert main(["heads"]) == 0
    assert capsys.readouterr().err == "kerasact: warning: column 'id' is dropped keep it with categorical=['id']\n"


@pytest.mark.parametrize("command", ["train", "predict"])
def test_help_shows_examples(command):
    text = parser()._subparsers._group_actions[0].choices[command].format_help()
    assert "examples:" in text and f"kerasact {command} " in text and "exit status" in text
