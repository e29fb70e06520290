"""R scripts that made the golden values, the golden values, and how the tests re-run them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parent


def run_r_script(script: str, out_dir: Path) -> None:
    """Run ``tests/reference/<script>`` with Rscript, writing its golden files to ``out_dir``.

    A missing R fails the test (it never skips): the agreement with R is checked, not assumed.
    """
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.fail("Rscript is not installed: install r-base-core and r-cran-survival "
                    "(apt-get install r-base-core r-cran-survival; `make test` does as root) "
                    f"to check the goldens of {script}")
    subprocess.run([rscript, str(REFERENCE / script), str(out_dir)], check=True,
                   capture_output=True, timeout=120)
