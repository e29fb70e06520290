"""``desist`` starts without the analysis stack, and its lazy command table tells the truth.

Speed itself is measured by benchmarks/bench_cli_start.py; these tests check what makes
it fast (which modules a fresh ``desist --help`` imports) and that the lazy table in
analysis/cli/__init__.py agrees with the commands the modules define.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import json
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import analysis
import analysis.cli
from analysis.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]

#: What ``desist --help`` used to import (1.9 s): none of it is needed to show help.
HEAVY = ["pandas", "numpy", "duckdb", "scipy", "statsmodels", "streamlit", "pyarrow"]

def _fresh_python(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, check=True,
                          capture_output=True, text=True, timeout=120)
    return done.stdout


def _loaded_by(args: list[str], watched: list[str]) -> list[str]:
    """Which of ``watched`` a fresh interpreter has imported after ``desist ARGS``."""
    script = f"""
import json, sys
from analysis.cli import main
try:
    main(sys.argv[1:], prog_name="desist")
except SystemExit:
    pass
print(json.dumps(sorted(name for name in {sorted(watched)!r} if name in sys.modules)))
"""
    return json.loads(_fresh_python(script, *args).splitlines()[-1])


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["validate", "--help"],
                                  ["import", "--help"], ["dashboard", "--help"],
                                  # the analysis stack loads when the analysis runs (Study)
                                  ["km", "--help"], ["cif", "--help"]],
                         ids=" ".join)
def test_help_imports_no_heavy_module(args):
    assert _loaded_by(args, HEAVY) == []


def test_main_help_imports_no_command_module():
    assert _loaded_by(["--help"], [entry.module for entry in COMMANDS.values()]) == []


def _command_modules() -> list[str]:
    return [f"analysis.cli.{m.name}" for m in pkgutil.iter_modules(analysis.cli.__path__)]


def test_every_registered_command_is_in_the_table():
    for module in _command_modules():
        importlib.import_module(module)
    assert sorted(main.commands.registered()) == sorted(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_table_entry_names_the_module_and_help_of_its_command(name):
    command = main.commands[name]  # imports the module the entry names
    assert isinstance(command, click.Command) and command.name == name
    assert inspect.unwrap(command.callback).__module__ == COMMANDS[name].module
    assert command.get_short_help_str(limit=10_000) == COMMANDS[name].short_help


#: ``desist --help`` at several widths before any command is imported, then after all are.
HELP_BEFORE_AND_AFTER_LOADING = """
import json
import click
from analysis.cli import COMMANDS, main

def helps():
    return [main.get_help(click.Context(main, info_name="desist", terminal_width=width,
                                        max_content_width=width)) for width in (50, 80, 160)]

lazy = helps()
assert not any(main.commands.is_loaded(name) for name in COMMANDS)
dict(main.commands.items())  # imports every command module
print(json.dumps({"lazy": lazy, "loaded": helps()}))
"""


def test_main_help_lists_the_commands_as_click_would():
    helps = json.loads(_fresh_python(HELP_BEFORE_AND_AFTER_LOADING))
    assert helps["lazy"] == helps["loaded"]
    assert all(f"  {name} " in helps["lazy"][1] for name in COMMANDS)


def test_unknown_command_is_refused_with_a_suggestion():
    result = CliRunner().invoke(main, ["kmm"])
    assert result.exit_code == 2 and "Did you mean 'km'?" in result.output


def _pyproject_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"]


def test_version_comes_from_the_package_metadata():
    assert analysis.__version__ == importlib.metadata.version("desistance")
    assert analysis.__version__ == _pyproject_version()
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"desist, version {analysis.__version__}\n"


def test_version_of_an_uninstalled_source_tree_is_read_from_pyproject(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert analysis._read_version() == _pyproject_version()
