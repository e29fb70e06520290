"""The README's commands work as written (on the small demo database)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def _desist_commands() -> list[str]:
    commands = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("desist "):
                commands.append(line)
    return commands


def test_readme_has_desist_examples():
    assert len(_desist_commands()) >= 5


@pytest.mark.parametrize("command", _desist_commands())
def test_readme_desist_command_runs(command, demo_db, tmp_path, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(demo_db))
    monkeypatch.chdir(tmp_path)  # reports written by the examples land here
    args = shlex.split(command)[1:]
    if "--db" in args:  # the README names the default demo path; use the test database
        args[args.index("--db") + 1] = str(demo_db)
    if args[0] in ("validate", "import"):
        pytest.fail("README examples of validate/import need a dataset path; test them in tests/ingest")
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_readme_python_example_runs(demo_db):
    (block,) = [b for b in _blocks("python") if "import analysis" in b]
    namespace: dict = {}
    exec(block.replace('"data/study.duckdb"', repr(str(demo_db))), namespace)  # noqa: S102
    assert namespace["km"].result.at([365]).shape[0] >= 2
