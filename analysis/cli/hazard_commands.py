"""``desist hazard``: when support matters — the monthly hazard of reoffending after release.

Goes through :meth:`analysis.study.Study.monthly_hazard`; what may be shown comes with
the result (:mod:`analysis.planning.hazard_disclosure`), and this module only prints it,
in the language of ``--lang``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, open_cli_study
from analysis.cli.disclosure_options import checked_min_cell, min_cell_option
from analysis.cli.language import count_text, lang_option, percent_text, translator
from analysis.i18n import Translator
from analysis.i18n.vocabulary import event_words

if TYPE_CHECKING:
    from analysis.disclosure import DisclosurePolicy
    from analysis.planning.hazard import MonthlyHazardAnalysis

#: The most months a table may have (analysis.planning.hazard.MAX_MONTHS; not imported
#: from there, so that `desist hazard --help` stays free of numpy and pandas).
MAX_MONTHS = 120


@main.command("hazard")
@db_option
@click.option("--by", "by", default=None,
              help="Breakdown: a release field (facility, sex, offense_category, "
                   "release_region, release_type, age_band, release_year), an imported "
                   "covariate, or program:ID.")
@click.option("--events", default=None,
              help="Event types counting as reoffending, comma-separated (rearrest, "
                   "reconviction, reincarceration, violation); default: every type present.")
@click.option("--months", type=click.IntRange(1, MAX_MONTHS), default=24, show_default=True,
              help="Months since release in the table.")
@min_cell_option()
@lang_option
@json_option
@handle_errors
def hazard_command(db, by, events, months, min_cell, unsafe_analyst_output, lang, as_json):
    """Monthly hazard of reoffending after release (life table), per group.

    Month m ends on day round(m * 365 / 12) since release (30, 61, 91, ..., 365);
    hazard = events / (at risk - censored / 2), with a 95% Wilson interval; death,
    deportation and emigration leave the risk set as censored. Also the share of the
    first-year reoffences within 1, 3 and 6 months (cumulative incidence; see
    docs/planning.md). JSON shape: {"disclosure": {...}, "event_types": [...], "by",
    "months", "conf_level", "groups": [{"group", "releases", "months": [{"month",
    "start_day", "end_day", "at_risk", "events", "censored", "hazard", "lower",
    "upper"}], "first_year_shares": [{"months", "days", "share"}]}]}. Groups of fewer
    than --min-cell releases are refused; counts of 1 to k-1 people, and every number
    from which one could be worked out, are null.
    """
    from analysis.disclosure import DisclosurePolicy

    k = checked_min_cell(min_cell, unsafe_analyst_output)
    policy = DisclosurePolicy(k=k)
    with open_cli_study(db, events) as study:
        fitted = study.monthly_hazard(by, months=months, min_group_size=k)
    if as_json:
        emit_json(fitted.as_dict(policy, unsafe=unsafe_analyst_output))
        return
    _print_hazard(translator(lang), fitted, policy)


def _events_text(tr: Translator, event_types) -> str:
    return " / ".join(event_words(code, tr.language) for code in event_types) or tr(
        "(no events)")


def _share(tr: Translator, value: float | None) -> str:
    return percent_text(tr, value).strip()


def _print_hazard(tr: Translator, fitted: MonthlyHazardAnalysis,
                  policy: DisclosurePolicy) -> None:
    what = _events_text(tr, fitted.event_types)
    by = fitted.grouping.spec
    click.echo(tr("Monthly hazard of a first {events} after release (life table, 95% Wilson "
                  "interval); by {by}", events=what, by=by) if by else
               tr("Monthly hazard of a first {events} after release (life table, 95% Wilson "
                  "interval)", events=what))
    click.echo(tr("hazard = events / (at risk - censored / 2); deaths, deportations and "
                  "emigrations count as censored (see docs/planning.md)."))
    click.echo(tr("Counts of 1 to {largest} releases, and numbers that would reveal them, are "
                  "shown as {label}.", largest=policy.k - 1, label=policy.label))
    headers = (tr("month"), tr("days"), tr("at risk"), tr("events"), tr("censored"),
               tr("hazard"), tr("95% CI"))
    for g in fitted.groups(policy):
        click.echo("\n" + tr("{group}: {releases}", group=g["group"], releases=tr.plural(
            "{count} release", "{count} releases", g["releases"],
            count=tr.number(g["releases"]))))
        shares = {s["months"]: s["share"] for s in g["first_year_shares"]}
        click.echo("  " + tr("Of the first-year reoffences, {one} happen within 1 month, "
                             "{three} within 3 months, {six} within 6 months.",
                             one=_share(tr, shares[1]), three=_share(tr, shares[3]),
                             six=_share(tr, shares[6])))
        if shares[3] is not None:
            click.echo("  " + tr("About {tenths} in 10 of those who reoffend in the first "
                                 "year do so within 3 months.",
                                 tenths=tr.number(round(10 * shares[3]))))
        click.echo(f"  {headers[0]:>5} {headers[1]:>9} {headers[2]:>9} {headers[3]:>8}"
                   f" {headers[4]:>9} {headers[5]:>7} {headers[6]:>15}")
        truth = fitted.table[fitted.table["group"] == g["group"]].set_index("month")
        for m in g["months"]:
            # a count hidden only to protect another is not "<k": it says "hidden"
            def cell(name: str, m=m, truth=truth) -> str:
                small = policy.hides(truth.loc[m["month"], name])
                return count_text(tr, m[name], policy.label if small else tr("hidden"))

            span = f"{m['start_day']}-{m['end_day']}"
            ci = "-" if m["lower"] is None else (
                f"{_share(tr, m['lower'])}-{_share(tr, m['upper'])}")
            click.echo(f"  {m['month']:>5} {span:>9} "
                       f"{cell('at_risk'):>9} {cell('events'):>8} {cell('censored'):>9} "
                       f"{percent_text(tr, m['hazard']):>7} {ci:>15}")
