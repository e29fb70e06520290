"""``desist cox``: adjusted hazard ratios with programme exposures and a PH test."""

from __future__ import annotations

import click

from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, resolved_db
from analysis.store import connect_readonly
from analysis.survival.cox_study import StudyCox, fit_study_cox
from analysis.survival.episodes import Outcome


def _names(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _print_report(study: StudyCox) -> None:
    fit = study.model.result_
    click.echo(
        f"Cox model of time to {study.outcome.name} (ties: {fit.ties}); "
        f"{study.n_releases} releases, {fit.events} events, log-likelihood {fit.loglik:.3f}"
    )
    if study.n_missing:
        click.echo(f"{study.n_missing} release(s) left out for missing covariate values")
    if study.time_varying_programs:
        click.echo("time-varying (post-release, community) programmes: "
                   + ", ".join(study.time_varying_programs))
    if study.dropped_zero_time:
        click.echo(f"{study.dropped_zero_time} release(s) with zero days of follow-up left out")
    se_kind = "robust, clustered by person" if fit.robust else "model-based"
    w = max(12, *(len(t) for t in study.model.summary["term"]))
    ci_head = f"{round(100 * (1 - fit.alpha))}% CI"
    click.echo(f"\n{'term':<{w}} {'HR':>8}  {ci_head:<15} {'p':>8}")
    for row in study.model.summary.itertuples():
        ci = f"{row.hr_lower:.3f}-{row.hr_upper:.3f}"
        click.echo(f"{row.term:<{w}} {row.hr:>8.3f}  {ci:<15} {_p(row.p):>8}")
    click.echo(f"(standard errors: {se_kind})")
    click.echo("\nProportional-hazards test (Schoenfeld residuals, KM time scale)")
    click.echo(f"{'term':<{w}} {'chi2':>8} {'df':>4} {'p':>8}")
    for row in study.ph_test.itertuples():
        click.echo(f"{row.term:<{w}} {row.chi2:>8.3f} {row.df:>4d} {_p(row.p):>8}")


def _p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


@main.command("cox")
@db_option
@click.option("--covariates", default="", help="Comma-separated covariates, e.g. "
              "age_at_release,sex,offense_category (see the covariates table for extras).")
@click.option("--programs", default="", help="Comma-separated programme ids.")
@click.option("--exposure", type=click.Choice(["current", "ever"]), default="current",
              show_default=True, help="Post-release/community programmes: exposed while in it "
              "(current) or from the start on (ever).")
@click.option("--participation", type=click.Choice(["any", "completed"]), default="any",
              show_default=True, help="In-prison programmes: which participation counts.")
@click.option("--strata", default=None, help="Categorical field with its own baseline hazard.")
@click.option("--events", default=None, help="Comma-separated event types making up the "
              "outcome (default: every type present).")
@click.option("--ties", type=click.Choice(["efron", "breslow"]), default="efron",
              show_default=True)
@json_option
@handle_errors
def cox_command(db, covariates, programs, exposure, participation, strata, events, ties,
                as_json):
    """Adjusted hazard ratios of reoffending (Cox model) with a PH test.

    In-prison programmes are baseline indicators; post-release and community
    programmes are time-varying, so the time before joining is never credited to them.
    """
    con = connect_readonly(resolved_db(db))
    try:
        study = fit_study_cox(
            con, _names(covariates), programs=_names(programs), exposure=exposure,
            participation=participation, strata=strata, outcome=Outcome.from_types(events),
            ties=ties,
        )
    finally:
        con.close()
    if as_json:
        emit_json(study.as_dict())
    else:
        _print_report(study)
