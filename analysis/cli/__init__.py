"""The ``desist`` command line: one small module per group of commands.

A command's module is imported only when that command is used (:data:`COMMANDS`,
:mod:`analysis.cli.lazy`), so ``desist --help`` starts in a tenth of a second; command
modules import the analysis stack inside their functions for the same reason.

Exit status: 0 success, 2 invalid input (bad files, unknown fields, models that
cannot be fitted), 1 internal error.
"""

from __future__ import annotations

import click

from analysis.cli.lazy import LazyCommand, LazyGroup
from analysis.cli.terminal import protect_streams

#: Every ``desist`` command: the module that defines it (imported only when the command
#: runs or shows its help) and the first paragraph of its docstring, which
#: ``desist --help`` lists. tests/test_cli_start.py keeps this table and the modules in
#: step: a command missing here, or a help text that differs, fails it.
COMMANDS: dict[str, LazyCommand] = {
    "audit": LazyCommand("analysis.cli.access_commands",
                         "Read or verify the audit trail of the served dashboard."),
    "cif": LazyCommand("analysis.cli.survival_commands",
                       "Cumulative incidence of reoffending with competing risks "
                       "(Aalen–Johansen)."),
    "cox": LazyCommand("analysis.cli.cox_commands",
                       "Adjusted hazard ratios of reoffending (Cox model) with a PH test."),
    "dashboard": LazyCommand("analysis.cli.dashboard_commands",
                             "Serve the dashboard on http://localhost:PORT, to this "
                             "machine only."),
    "demo": LazyCommand("analysis.cli.demo_commands",
                        "Generate a fictional country's records and import them into "
                        "the database."),
    "export": LazyCommand("analysis.cli.export_commands",
                          "Write the rows km or cox fit (Parquet, CSV, Stata) with a data "
                          "dictionary."),
    "forecast": LazyCommand("analysis.cli.forecast_commands",
                            "Expected people with a first reoffence in the next months, "
                            "with 90% intervals."),
    "hazard": LazyCommand("analysis.cli.hazard_commands",
                          "Monthly hazard of reoffending after release (life table), "
                          "per group."),
    "impact": LazyCommand("analysis.cli.impact_commands",
                          "Compare a programme's participants with similar people who "
                          "did not take part."),
    "import": LazyCommand("analysis.cli.ingest_commands",
                          "Validate DATASET_DIR and import it into the study database, "
                          "all or nothing."),
    "km": LazyCommand("analysis.cli.survival_commands",
                      "Kaplan–Meier recidivism curves, per group, with a log-rank test."),
    "migrate": LazyCommand("analysis.cli.migrate_commands",
                           "Upgrade the study database DB to this version's schema, all or "
                           "nothing."),
    "report": LazyCommand("analysis.cli.impact_commands",
                          "Write an offline impact report (HTML or PDF) for a programme, "
                          "project or funder."),
    "scenario": LazyCommand("analysis.cli.scenario_commands",
                            "What scaling a programme up would change: reoffences, "
                            "custody and costs."),
    "services": LazyCommand("analysis.cli.services_commands",
                            "Post-release services: coverage gaps by region, referral "
                            "follow-through, the guide."),
    "serve": LazyCommand("analysis.cli.serve_commands",
                         "Serve the dashboard to this machine or, with access control, "
                         "to the network."),
    "users": LazyCommand("analysis.cli.access_commands",
                         "Manage the dashboard's built-in accounts (add, list, disable, "
                         "enable, passwd, remove)."),
    "validate": LazyCommand("analysis.cli.ingest_commands",
                            "Check DATASET_DIR against the data contract; write nothing."),
}


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``, as ``click.version_option`` prints it, reading the version only then.

    (Reading the installed package's metadata imports about 70 modules.)
    """
    if not value or ctx.resilient_parsing:
        return
    from analysis import __version__

    click.echo(f"desist, version {__version__}", color=ctx.color)
    ctx.exit()


@click.group(cls=LazyGroup, lazy_commands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and exit.")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Desistance: recidivism and programme-outcome analytics.

    Every command finds the study database from --db, else the DESIST_DB
    environment variable, else data/demo.duckdb.
    """
    # Names from the data are printed by every command: control characters in them
    # are escaped on the way to the terminal (analysis/cli/terminal.py).
    ctx.call_on_close(protect_streams())

