"""``desist impact`` and ``desist report``: programme impact for donors."""

from __future__ import annotations

from pathlib import Path

import click

from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, resolved_db
from analysis.disclosure import DEFAULT_MIN_CELL, DisclosurePolicy
from analysis.impact.evaluation import METHODS, ImpactEvaluation, ImpactResult
from analysis.impact.report import build_report_html
from analysis.store import connect_readonly
from analysis.survival.episodes import Outcome


def _target(func):
    func = click.option(
        "--project", default=None, help="Evaluate all programmes of a project or funder."
    )(func)
    return click.option("--program", default=None, help="Programme id to evaluate.")(func)


def _common(func):
    func = click.option(
        "--events", default=None, help="Comma list of event types that count (default: all)."
    )(func)
    func = click.option(
        "--landmark",
        type=int,
        default=90,
        show_default=True,
        help="Landmark day for post-release programmes.",
    )(func)
    func = click.option(
        "--method",
        type=click.Choice(METHODS),
        default="match",
        show_default=True,
        help="match (primary) or iptw (sensitivity).",
    )(func)
    return click.option(
        "--horizon", type=int, default=365, show_default=True, help="Follow-up horizon in days."
    )(func)


def _evaluate(db, program, project, horizon, method, landmark, events) -> ImpactResult:
    con = connect_readonly(resolved_db(db))
    try:
        return ImpactEvaluation(
            program=program,
            project=project,
            horizon_days=horizon,
            method=method,
            landmark_days=landmark,
            outcome=Outcome.from_types(events),
        ).fit(con)
    finally:
        con.close()


@main.command("impact")
@db_option
@_target
@_common
@json_option
@handle_errors
def impact_command(db, program, project, horizon, method, landmark, events, as_json):
    """Compare a programme's participants with similar people who did not take part."""
    result = _evaluate(db, program, project, horizon, method, landmark, events)
    if as_json:
        emit_json(result.as_dict())
        return
    click.echo(f"Impact of {result.program} ({result.method}, {result.horizon_days} days)")
    click.echo(result.summary_text)
    for reason in result.verdict.reasons:
        click.echo(f"  note: {reason}")
    c = result.counts
    click.echo(
        f"participants {c['participants']}, eligible {c['eligible']}, matched {c['matched']}, "
        f"comparison {c['comparison']}"
    )
    hr = result.hazard_ratio
    click.echo(
        f"hazard ratio {hr.estimate:.2f} (95% CI {hr.lower:.2f}-{hr.upper:.2f}, p={hr.p:.3g})"
    )
    if result.cost is not None:
        click.echo(result.cost.statement)


@main.command("report")
@db_option
@_target
@_common
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    required=True,
    help="HTML file to write (self-contained, works offline, prints cleanly).",
)
@click.option(
    "--min-cell",
    type=click.IntRange(min=1),
    default=DEFAULT_MIN_CELL,
    show_default=True,
    help="Counts of fewer people are shown as '<k'; curves stop below k at risk.",
)
@handle_errors
def report_command(db, program, project, horizon, method, landmark, events, out, min_cell):
    """Write an offline, printable HTML impact report for a programme or project.

    The report is meant to leave the analyst's desk: every count of fewer than
    --min-cell people is hidden.
    """
    result = _evaluate(db, program, project, horizon, method, landmark, events)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(build_report_html(result, policy=DisclosurePolicy(k=min_cell)), encoding="utf-8")
    tmp.replace(path)
    click.echo(f"report written to {path}")
