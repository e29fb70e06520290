"""The layer rules of the README are enforced: import contracts and type checks.

``make test`` (and so CI) runs these; ``make lint`` runs the same tools directly. The
contracts and the checked modules are in ``pyproject.toml`` (``[tool.importlinter]``,
``[tool.mypy]``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the project's .venv/bin


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def test_the_import_contracts_are_kept():
    result = _run("lint-imports", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_package_type_checks():
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_contract_is_reported(tmp_path):
    """The check can fail: the same contracts on a copy of the package with a forbidden
    import (the importer asking for the dashboard's views) are refused."""
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "analysis", copy / "analysis",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "dashboard", copy / "dashboard",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    importer = copy / "analysis" / "ingest" / "importer.py"
    importer.write_text(importer.read_text() + "\nfrom analysis.views.stored import compute\n")
    result = subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=copy,
                            capture_output=True, text=True, timeout=300, check=False,
                            env={"PYTHONPATH": str(copy), "PATH": str(BIN)})
    assert result.returncode != 0
    assert "analysis.ingest.importer -> analysis.views.stored" in result.stdout
