"""``desist cox``: adjusted hazard ratios with programme exposures and a PH test."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, open_cli_study
from analysis.cli.disclosure_options import checked_min_cell, min_cell_option
from analysis.cli.language import count_text, lang_option, translator
from analysis.i18n import N_, Translator
from analysis.survival.cox_study import DEFAULT_SE, SE_CHOICES  # heavy, but --help shows them

if TYPE_CHECKING:
    from analysis.disclosure import DisclosurePolicy
    from analysis.results_models import CoxAnalysis


def _names(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _outcome_words(tr: Translator, event_types) -> str:
    from analysis.views.words import outcome_words  # pandas: loaded only when a command runs

    return outcome_words(event_types, tr.language)


def _print_report(tr: Translator, cox: CoxAnalysis, policy: DisclosurePolicy) -> None:
    fit = cox.fit.result
    counts = {name: count_text(tr, value, policy.label)
              for name, value in cox.counts(policy).items()}
    click.echo(tr("Cox model of time to {outcome} (ties: {ties}); releases: {n}, events: "
                  "{events}, log-likelihood {loglik}", outcome=_outcome_words(tr, cox.outcome.event_types), ties=fit.ties,
                  n=counts["n"], events=counts["events"], loglik=tr.number(fit.loglik, digits=3)))
    if cox.fit.kind == "finegray":
        click.echo(tr("Fine–Gray model: the hazard ratios are subdistribution hazard ratios "
                      "(SHR). An SHR below 1 means fewer people reoffend by any time, with "
                      "death, deportation and emigration counted as what they are, not as "
                      "censoring."))
    if cox.n_missing:
        click.echo(tr("releases left out for missing covariate values: {count}",
                      count=counts["n_missing"]))
    if cox.time_varying_programs:
        click.echo(tr("time-varying (post-release, community) programmes: {programmes}",
                      programmes=", ".join(cox.time_varying_programs)))
    if cox.dropped_zero_time:
        click.echo(tr("releases with zero days of follow-up left out: {count}",
                      count=counts["dropped_zero_time"]))
    term, hr, p, df = tr("term"), tr("HR"), tr("p"), tr("df")
    w = max(12, len(term), *(len(t) for t in cox.summary["term"]))
    ci_head = tr("{level}% CI", level=round(100 * (1 - fit.alpha)))
    click.echo(f"\n{term:<{w}} {hr:>8}  {ci_head:<15} {p:>8} {'se_model':>9} "
               f"{'se_robust':>9}")
    for row in cox.summary.itertuples():
        ci = f"{tr.number(row.hr_lower, digits=3)}-{tr.number(row.hr_upper, digits=3)}"
        click.echo(f"{row.term:<{w}} {tr.number(row.hr, digits=3):>8}  {ci:<15} "
                   f"{_p(tr, row.p):>8} {tr.number(row.se_model, digits=4):>9} "
                   f"{tr.number(row.se_robust, digits=4):>9}")
    click.echo(tr("(se_type: {se_type} — {meaning}; se_model and se_robust are standard "
                  "errors of the log HR)", se_type=fit.se_type, meaning=tr(SE_WORDS[fit.se_type])))
    if cox.fit.kind == "finegray":  # no checked proportional-hazards test for it
        return
    click.echo("\n" + tr("Proportional-hazards test (Schoenfeld residuals, KM time scale)"))
    click.echo(f"{term:<{w}} {'chi2':>8} {df:>4} {p:>8}")
    for row in cox.ph_test.itertuples():
        click.echo(f"{row.term:<{w}} {tr.number(row.chi2, digits=3):>8} {row.df:>4d} "
                   f"{_p(tr, row.p):>8}")


#: How the text report names each choice of ``--se``.
SE_WORDS = {
    "robust": N_("CIs and p-values use se_robust, clustered by person as R "
                 "coxph(cluster = person_id)"),
    "model": N_("CIs and p-values use se_model, as R coxph without cluster"),
}


def _p(tr: Translator, p: float) -> str:
    return f"<{tr.number(0.001, digits=3)}" if p < 0.001 else tr.number(p, digits=3)


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
@click.option("--model", type=click.Choice(["cox", "finegray"]), default="cox",
              show_default=True, help="cox: cause-specific hazard ratios; finegray: "
              "subdistribution hazard ratios (Fine–Gray; death, deportation and emigration "
              "compete; R finegray + coxph(weights = fgwt, cluster = person_id)); one row "
              "per release, so no post-release programmes and no --strata.")
@min_cell_option()
@lang_option
@json_option
@handle_errors
def cox_command(db, covariates, programs, exposure, participation, strata, events, ties, se,
                model, min_cell, unsafe_analyst_output, lang, as_json):
    """Adjusted hazard ratios of reoffending (Cox model) with a PH test.

    In-prison programmes are baseline indicators; post-release and community
    programmes are time-varying, so the time before joining is never credited to them.
    Coefficients describe no one; the counts (releases, events, releases left out)
    follow --min-cell like every other output.
    """
    from analysis.disclosure import DisclosurePolicy

    k = checked_min_cell(min_cell, unsafe_analyst_output)
    policy = DisclosurePolicy(k=k)
    with open_cli_study(db, events) as study:
        cox = study.cox(_names(covariates), _names(programs), exposure=exposure,
                        participation=participation, strata=strata, ties=ties, se=se,
                        model=model)
    if as_json:
        emit_json(cox.as_dict(policy, unsafe=unsafe_analyst_output))
    else:
        _print_report(translator(lang), cox, policy)
