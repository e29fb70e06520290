"""``desist km`` and ``desist cif``: recidivism curves and cumulative incidence.

Both go through :class:`analysis.study.Study`; what may be shown (the disclosure rules)
comes with the results (:mod:`analysis.results`), and this module only prints it, in
the language of ``--lang``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from analysis import constants
from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, open_cli_study
from analysis.cli.disclosure_options import checked_min_cell, min_cell_option
from analysis.cli.language import (
    count_text,
    lang_option,
    percent_text,
    significant_text,
    translator,
)
from analysis.errors import AnalysisError
from analysis.i18n import N_, Translator
from analysis.i18n.vocabulary import event_words

if TYPE_CHECKING:
    from analysis.disclosure import DisclosurePolicy
    from analysis.results import CumulativeIncidenceAnalysis, KaplanMeierAnalysis

DEFAULT_HORIZONS = ",".join(map(str, constants.DEFAULT_HORIZONS))


def _horizons(text: str) -> list[int]:
    try:
        days = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise AnalysisError(
            f"--horizons must be whole numbers of days separated by commas, not {text!r}"
        ) from None
    if not days or any(d <= 0 for d in days):
        raise AnalysisError("--horizons needs at least one positive number of days")
    return sorted(set(days))


def _common_options(func):
    # --min-group-size is the option's former name: groups below k are still refused.
    func = min_cell_option(aliases=("--min-group-size",))(func)
    func = click.option("--horizons", default=DEFAULT_HORIZONS, show_default=True,
                        help="Days after release at which to report, comma-separated.")(func)
    func = click.option("--events", default=None,
                        help="Event types counting as reoffending, comma-separated "
                             "(rearrest, reconviction, reincarceration, violation); "
                             "default: every type present.")(func)
    func = click.option("--by", "by", default=None,
                        help="Breakdown: a release field (facility, sex, offense_category, "
                             "release_region, release_type, age_band, release_year), an "
                             "imported covariate, or program:ID.")(func)
    return lang_option(func)



def _small_counts_line(tr: Translator, policy: DisclosurePolicy) -> str:
    return tr("Counts of 1 to {largest} releases, and numbers that would reveal them, are "
              "shown as {label}.", largest=policy.k - 1, label=policy.label)


def _events_text(tr: Translator, event_types) -> str:
    # the event types in words of the language; the breakdown stays as typed (--by sex)
    return " / ".join(event_words(code, tr.language) for code in event_types) or tr(
        "(no events)")


@main.command("km")
@db_option
@_common_options
@json_option
@handle_errors
def km_command(db, by, events, horizons, min_cell, unsafe_analyst_output, lang, as_json):
    """Kaplan–Meier recidivism curves, per group, with a log-rank test.

    Time zero is the release date; the outcome is the first event of the chosen
    types after release (see docs/metrics.md). JSON shape:
    {"disclosure": {...}, "event_types": [...], "groups": [{"group", "n", "events",
    "median_days", "horizons": [{"days", "survival", "se", "lower", "upper",
    "recidivism", "n_risk"}]}], "logrank": {"chi2", "df", "p"} or null}. Groups of
    fewer than --min-cell releases are refused; counts of 1 to k-1 people, numbers that
    would reveal one by subtraction, and rates that would, are null.
    """
    from analysis.disclosure import DisclosurePolicy

    k = checked_min_cell(min_cell, unsafe_analyst_output)
    policy = DisclosurePolicy(k=k)
    days = _horizons(horizons)
    with open_cli_study(db, events) as study:
        if not as_json:
            # two analyses of the same episodes follow: build them once
            study.cached_episodes()
        fitted = study.kaplan_meier(by, min_group_size=k)
        if as_json:
            emit_json(fitted.as_dict(policy, days, unsafe=unsafe_analyst_output))
            return
        # the same grouping and (cached) episodes as the curves
        rates = study.fixed_horizon_rates(days, fitted.grouping).shown(policy)
    _print_km(translator(lang), fitted, rates, policy, days)


def _print_km(tr: Translator, fitted: KaplanMeierAnalysis, rates, policy: DisclosurePolicy,
              days: list[int]) -> None:
    groups = fitted.groups(policy, days)
    what = _events_text(tr, fitted.event_types)
    click.echo(tr("Outcome: first {events} after release; by {by}", events=what, by=fitted.by)
               if fitted.by else tr("Outcome: first {events} after release", events=what))
    click.echo(tr("Recidivism = 1 - Kaplan–Meier (95% CI); 'complete' = share among releases "
                  "whose whole horizon is observed (exact 95% CI; see docs/metrics.md)."))
    click.echo(_small_counts_line(tr, policy))
    headers = (tr("days"), tr("recidivism"), tr("95% CI"), tr("at risk"), tr("complete"),
               tr("95% CI"), tr("n"))
    for g in groups:
        median = g["median_days"]
        median_text = tr("not reached") if median is None else tr.plural(
            "{count} day", "{count} days", median,
            count=tr.number(median, digits=0 if float(median).is_integer() else 1))
        events_text = (tr("{label} events", label=policy.label) if g["events"] is None
                       else tr.plural("{count} event", "{count} events", g["events"],
                                      count=tr.number(g["events"])))
        click.echo("\n" + tr("{group}: {releases}, {events}, median time to event {median}",
                             group=g["group"], median=median_text, events=events_text,
                             releases=tr.plural("{count} release", "{count} releases",
                                                g["n"], count=tr.number(g["n"]))))
        click.echo(f"  {headers[0]:>6} {headers[1]:>10} {headers[2]:>17} {headers[3]:>9}"
                   f" {headers[4]:>9} {headers[5]:>17} {headers[6]:>8}")
        complete = rates[rates["group"] == g["group"]].set_index("days")
        for h in g["horizons"]:
            r = complete.loc[h["days"]]
            rec_ci = (f"{percent_text(tr, None if h['upper'] is None else 1 - h['upper'])}-"
                      f"{percent_text(tr, None if h['lower'] is None else 1 - h['lower'])}")
            complete_ci = percent_text(tr, r["lower"]) + "-" + percent_text(tr, r["upper"])
            click.echo(f"  {h['days']:>6} {percent_text(tr, h['recidivism']):>10} "
                       f"{rec_ci:>17} {count_text(tr, h['n_risk'], policy.label):>9} "
                       f"{percent_text(tr, r['rate']):>9} {complete_ci:>17} "
                       f"{count_text(tr, r['n'], policy.label):>8}")
    if fitted.logrank is not None:
        test = fitted.logrank
        click.echo("\n" + tr("Log-rank test: chi2 = {chi2} on {df} df, p = {p}",
                             chi2=tr.number(test.chi2, digits=3), df=test.df,
                             p=significant_text(tr, test.p, 4)))


@main.command("cif")
@db_option
@_common_options
@click.option("--by-reason", is_flag=True,
              help="Split the competing end by reason (death, deportation, emigration).")
@json_option
@handle_errors
def cif_command(db, by, events, horizons, min_cell, unsafe_analyst_output, lang, by_reason,
                as_json):
    """Cumulative incidence of reoffending with competing risks (Aalen–Johansen).

    Death, deportation and emigration (follow_up_end_reason) compete with
    reoffending; 1 - Kaplan–Meier would overstate reoffending by treating them as
    censored. JSON shape: {"disclosure": {...}, "event_types": [...], "causes":
    ["reoffence", "competing" | "death", ...], "groups": [{"group", "n", "events":
    {cause: count}, "horizons": [{"days", "n_risk", "cif": {cause: {"estimate", "se",
    "lower", "upper"}}}]}]}. The SE is the infinitesimal jackknife (as R's survfit) and
    the CI R's default log scale. Groups of fewer than --min-cell releases are refused;
    counts of 1 to k-1 people, numbers that would reveal one by subtraction, and
    incidences of such counts, are null.
    """
    from analysis.disclosure import DisclosurePolicy

    k = checked_min_cell(min_cell, unsafe_analyst_output)
    policy = DisclosurePolicy(k=k)
    days = _horizons(horizons)
    with open_cli_study(db, events) as study:
        fitted = study.cumulative_incidence(by, by_reason=by_reason, min_group_size=k)
    if as_json:
        emit_json(fitted.as_dict(policy, days, unsafe=unsafe_analyst_output))
        return
    _print_cif(translator(lang), fitted, policy, days)


#: How the text output names the causes that are not end reasons of the data contract
#: (those are :data:`analysis.i18n.vocabulary.EVENT_WORDS`); codes stay English in --json.
CAUSE_WORDS = {"reoffence": N_("reoffence"), "competing": N_("competing")}


def _cause(tr: Translator, cause: str) -> str:
    return tr(CAUSE_WORDS[cause]) if cause in CAUSE_WORDS else event_words(cause, tr.language)


def _print_cif(tr: Translator, fitted: CumulativeIncidenceAnalysis, policy: DisclosurePolicy,
               days: list[int]) -> None:
    groups = fitted.groups(policy, days)
    what = _events_text(tr, fitted.event_types)
    click.echo(tr("Cumulative incidence (Aalen–Johansen) of first {events} after release, "
                  "with competing ends; by {by}", events=what, by=fitted.grouping.spec)
               if fitted.grouping.spec else
               tr("Cumulative incidence (Aalen–Johansen) of first {events} after release, "
                  "with competing ends", events=what))
    click.echo(_small_counts_line(tr, policy))
    for g in groups:
        counts = ", ".join(f"{_cause(tr, c)} {count_text(tr, n, policy.label)}"
                           for c, n in g["events"].items())
        click.echo("\n" + tr("{group}: {releases} ({counts})", group=g["group"], counts=counts,
                             releases=tr.plural("{count} release", "{count} releases",
                                                g["n"], count=tr.number(g["n"]))))
        header = "".join(f" {_cause(tr, c):>24}" for c in fitted.causes)
        days_head, at_risk_head = tr("days"), tr("at risk")
        click.echo(f"  {days_head:>6}{header} {at_risk_head:>9}")
        for h in g["horizons"]:
            cells = "".join(
                " " + (f"{percent_text(tr, v['estimate'])} ({percent_text(tr, v['lower'])}-"
                       f"{percent_text(tr, v['upper'])})").rjust(24)
                for v in h["cif"].values())
            click.echo(f"  {h['days']:>6}{cells} "
                       f"{count_text(tr, h['n_risk'], policy.label):>9}")
