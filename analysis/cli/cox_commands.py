"""``desist cox``: adjusted hazard ratios with programme exposures and a PH test."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, resolved_db
from analysis.cli.disclosure_options import checked_min_cell, min_cell_option
from analysis.survival.cox_study import DEFAULT_SE, SE_CHOICES  # heavy, but --help shows them

if TYPE_CHECKING:
    from analysis.disclosure import DisclosurePolicy
    from analysis.survival.cox_study import StudyCox


def _names(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _counts(study: StudyCox, policy: DisclosurePolicy) -> dict:
    """The model's counts under disclosure control (``None`` where hidden)."""
    from analysis.disclosure import model_counts

    return model_counts(study.n_releases, study.model.result_.events, policy,
                        {"n_missing": study.n_missing,
                         "dropped_zero_time": study.dropped_zero_time})


def _print_report(study: StudyCox, policy: DisclosurePolicy) -> None:
    fit = study.model.result_
    counts = {name: policy.label if value is None else value
              for name, value in _counts(study, policy).items()}
    click.echo(
        f"Cox model of time to {study.outcome.name} (ties: {fit.ties}); "
        f"{counts['n']} releases, {counts['events']} events, log-likelihood {fit.loglik:.3f}"
    )
    if study.n_missing:
        click.echo(f"{counts['n_missing']} release(s) left out for missing covariate values")
    if study.time_varying_programs:
        click.echo("time-varying (post-release, community) programmes: "
                   + ", ".join(study.time_varying_programs))
    if study.dropped_zero_time:
        click.echo(f"{counts['dropped_zero_time']} release(s) with zero days of follow-up "
                   "left out")
    w = max(12, *(len(t) for t in study.model.summary["term"]))
    ci_head = f"{round(100 * (1 - fit.alpha))}% CI"
    click.echo(f"\n{'term':<{w}} {'HR':>8}  {ci_head:<15} {'p':>8} {'se_model':>9} "
               f"{'se_robust':>9}")
    for row in study.model.summary.itertuples():
        ci = f"{row.hr_lower:.3f}-{row.hr_upper:.3f}"
        click.echo(f"{row.term:<{w}} {row.hr:>8.3f}  {ci:<15} {_p(row.p):>8} "
                   f"{row.se_model:>9.4f} {row.se_robust:>9.4f}")
    click.echo(f"(se_type: {fit.se_type} — {SE_WORDS[fit.se_type]}; se_model and "
               "se_robust are standard errors of the log HR)")
    click.echo("\nProportional-hazards test (Schoenfeld residuals, KM time scale)")
    click.echo(f"{'term':<{w}} {'chi2':>8} {'df':>4} {'p':>8}")
    for row in study.ph_test.itertuples():
        click.echo(f"{row.term:<{w}} {row.chi2:>8.3f} {row.df:>4d} {_p(row.p):>8}")


#: How the text report names each choice of ``--se``.
SE_WORDS = {
    "robust": "CIs and p-values use se_robust, clustered by person as R "
              "coxph(cluster = person_id)",
    "model": "CIs and p-values use se_model, as R coxph without cluster",
}


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
@click.option("--se", "se", type=click.Choice(SE_CHOICES), default=DEFAULT_SE,
              show_default=True, help="Standard error behind the CIs, p-values and the "
              "JSON 'se': robust (sandwich, clustered by person, because people have "
              "several releases; R coxph(cluster = person_id)) or model (inverse "
              "information; R coxph). Both are always reported as se_model and se_robust.")
@min_cell_option()
@json_option
@handle_errors
def cox_command(db, covariates, programs, exposure, participation, strata, events, ties, se,
                min_cell, unsafe_analyst_output, as_json):
    """Adjusted hazard ratios of reoffending (Cox model) with a PH test.

    In-prison programmes are baseline indicators; post-release and community
    programmes are time-varying, so the time before joining is never credited to them.
    Coefficients describe no one; the counts (releases, events, releases left out)
    follow --min-cell like every other output.
    """
    from analysis.disclosure import DisclosurePolicy, disclosure_block
    from analysis.store import connect_readonly
    from analysis.survival.cox_study import fit_study_cox
    from analysis.survival.episodes import Outcome

    k = checked_min_cell(min_cell, unsafe_analyst_output)
    policy = DisclosurePolicy(k=k)
    con = connect_readonly(resolved_db(db))
    try:
        study = fit_study_cox(
            con, _names(covariates), programs=_names(programs), exposure=exposure,
            participation=participation, strata=strata, outcome=Outcome.from_types(events),
            ties=ties, se=se,
        )
    finally:
        con.close()
    if as_json:
        counts = _counts(study, policy)
        payload = {**study.as_dict(), "n": counts["n"], "events": counts["events"]}
        hidden = sum(v is None for v in counts.values())
        emit_json({"disclosure": disclosure_block(k, unsafe=unsafe_analyst_output,
                                                  hidden=hidden), **payload})
    else:
        _print_report(study, policy)
