"""The ``desist`` command line: one small module per group of commands.

Exit status: 0 success, 2 invalid input (bad files, unknown fields, models that
cannot be fitted), 1 internal error.
"""

from __future__ import annotations

import click

from analysis import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="desist")
def main() -> None:
    """Desistance: recidivism and programme-outcome analytics.

    Every command finds the study database from --db, else the DESIST_DB
    environment variable, else data/demo.duckdb.
    """


# Each module adds its commands to ``main`` when imported.
from analysis.cli import (  # noqa: E402
    cox_commands,  # noqa: F401
    demo_commands,  # noqa: F401
    impact_commands,  # noqa: F401
    ingest_commands,  # noqa: F401
    survival_commands,  # noqa: F401
)
