"""``desist impact`` and ``desist report``: programme impact for donors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, resolved_db
from analysis.cli.disclosure_options import checked_min_cell, min_cell_option
from analysis.impact.evaluation import METHODS  # heavy, but --help shows them

if TYPE_CHECKING:
    from analysis.impact.evaluation import ImpactResult


def _target(func):
    func = click.option(
        "--project", default=None, help="Evaluate all programmes of a project or funder."
    )(func)
    return click.option("--program", default=None, help="Programme id to evaluate.")(func)


def _common(func):
    # Sub-analyses (women, age bands, completers) go through the same evaluation and
    # therefore the same reporting rules as the main result.
    func = click.option(
        "--age-band", "age_bands", default=None,
        help="Sub-analysis: comma list of age bands at release (e.g. 18-24,25-34).",
    )(func)
    func = click.option(
        "--sex", "sexes", default=None, help="Sub-analysis: comma list of sexes (F, M, X, U)."
    )(func)
    func = click.option(
        "--completed-only", is_flag=True, default=False,
        help="Sub-analysis: participants who completed an in-prison programme, compared "
             "with people who did not take part (non-completers are left out).",
    )(func)
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


def _split(values: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (values or "").split(",") if v.strip())


def _evaluate(db, program, project, horizon, method, landmark, events, completed_only=False,
              sexes=None, age_bands=None) -> ImpactResult:
    from analysis.impact.evaluation import ImpactEvaluation
    from analysis.store import connect_readonly
    from analysis.survival.episodes import Outcome, Selection

    con = connect_readonly(resolved_db(db))
    try:
        return ImpactEvaluation(
            program=program,
            project=project,
            horizon_days=horizon,
            method=method,
            landmark_days=landmark,
            outcome=Outcome.from_types(events),
            selection=Selection(sexes=_split(sexes), age_bands=_split(age_bands)),
            variant="completed" if completed_only else "any",
        ).fit(con)
    finally:
        con.close()


@main.command("impact")
@db_option
@_target
@_common
@min_cell_option()
@json_option
@handle_errors
def impact_command(db, program, project, horizon, method, landmark, events, completed_only,
                   sexes, age_bands, min_cell, unsafe_analyst_output, as_json):
    """Compare a programme's participants with similar people who did not take part.

    Counts of 1 to --min-cell - 1 people, and numbers that would reveal them (along
    the attrition chain, or as a rate), are hidden: null in --json, whose top-level
    "disclosure" block says how.
    """
    from analysis.disclosure import DisclosurePolicy, disclosure_block
    from analysis.impact.publication import for_publication, hidden_counts, published_dict

    k = checked_min_cell(min_cell, unsafe_analyst_output)
    policy = DisclosurePolicy(k=k)
    raw = _evaluate(db, program, project, horizon, method, landmark, events,
                    completed_only, sexes, age_bands)
    sub_analysis = {"sex": list(_split(sexes)), "age_band": list(_split(age_bands)),
                    "completed_only": completed_only}
    if as_json:
        payload, withheld = published_dict(raw, policy, unsafe=unsafe_analyst_output)
        emit_json({"disclosure": disclosure_block(k, unsafe=unsafe_analyst_output,
                                                  hidden=withheld),
                   **payload, "sub_analysis": sub_analysis})
        return
    result = for_publication(raw, policy, unsafe=unsafe_analyst_output)
    hidden = hidden_counts(raw, policy)
    last = len(raw.attrition) - 1
    click.echo(f"Impact of {result.program} ({result.method}, {result.horizon_days} days)")
    if sub_analysis["sex"] or sub_analysis["age_band"] or completed_only:
        parts = [f"sex {', '.join(sub_analysis['sex'])}" if sub_analysis["sex"] else "",
                 f"age band {', '.join(sub_analysis['age_band'])}" if sub_analysis["age_band"]
                 else "", "completers only" if completed_only else ""]
        click.echo("Sub-analysis: " + "; ".join(p for p in parts if p)
                   + " (the same reporting rules apply)")
    click.echo(result.summary_text)
    for reason in result.verdict.reasons:
        click.echo(f"  note: {reason}")
    table = result.attrition
    click.echo(
        f"participants {table['participants'].iloc[0]}, eligible "
        f"{table['participants'].iloc[last - 1]}, matched {table['participants'].iloc[last]}, "
        f"comparison {table['comparison'].iloc[last]}"
    )
    hr = result.hazard_ratio
    click.echo(
        f"hazard ratio {hr.estimate:.2f} (95% CI {hr.lower:.2f}-{hr.upper:.2f}, p={hr.p:.3g})"
    )
    if result.cost is not None and ("participants", last) not in hidden:
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
@min_cell_option(unsafe=False)
@handle_errors
def report_command(db, program, project, horizon, method, landmark, events, completed_only,
                   sexes, age_bands, out, min_cell):
    """Write an offline, printable HTML impact report for a programme or project.

    The report is meant to leave the analyst's desk: every count of fewer than
    --min-cell people is hidden, and --min-cell may not be below 5.
    """
    from analysis.disclosure import DisclosurePolicy
    from analysis.impact.report import build_report_html

    min_cell = checked_min_cell(min_cell, published=True)  # before any work: a refused k writes nothing
    result = _evaluate(db, program, project, horizon, method, landmark, events,
                       completed_only, sexes, age_bands)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(build_report_html(result, policy=DisclosurePolicy(k=min_cell)), encoding="utf-8")
    tmp.replace(path)
    click.echo(f"report written to {path}")
