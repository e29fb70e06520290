"""``desist scenario``: what scaling a programme up would change.

The scenario is computed by :meth:`analysis.study.Study.scenario`
(:mod:`analysis.planning.scenario`); this module reads the options and prints the result,
in the language of ``--lang`` (``--json``: the contract of docs/planning.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, open_cli_study
from analysis.cli.disclosure_options import checked_min_cell, min_cell_option
from analysis.cli.language import lang_option, significant_text, translator
from analysis.i18n import Translator
from analysis.i18n.vocabulary import event_words

if TYPE_CHECKING:
    from analysis.planning.scenario import ScenarioAnalysis

NO_VALUE = "-"


@main.command("scenario")
@db_option
@click.option("--program", required=True, help="Programme id to scale up.")
@click.option("--participants", type=click.IntRange(min=1), required=True,
              help="More participants per year (at least 1).")
@click.option("--years", type=click.IntRange(min=1, max=100), required=True,
              help="For how many years (1 to 100).")
@click.option("--custody-cost-per-day", type=click.FloatRange(min=0), default=None,
              help="What a day in custody costs, in the programme's currency; without it "
                   "no money figures are given.")
@click.option("--mean-custody-days", type=click.FloatRange(min=0, min_open=True),
              default=None,
              help="Mean days in custody after a return to custody (default: observed in "
                   "the records).")
@click.option("--draws", type=click.IntRange(min=1, max=1_000_000), default=10_000,
              show_default=True, help="Monte Carlo draws.")
@click.option("--seed", type=int, default=2026, show_default=True,
              help="Seed of the Monte Carlo draws: the same seed gives the same figures.")
@click.option("--horizon", type=int, default=365, show_default=True,
              help="Follow-up horizon of the evaluated effect, in days.")
@click.option("--events", default=None,
              help="Event types counting as reoffending, comma-separated (default: all); "
                   "returns to custody are reincarceration events.")
@min_cell_option()
@lang_option
@json_option
@handle_errors
def scenario_command(db, program, participants, years, custody_cost_per_day,
                     mean_custody_days, draws, seed, horizon, events, min_cell,
                     unsafe_analyst_output, lang, as_json):
    """What scaling a programme up would change: reoffences, custody and costs.

    Uses the programme's evaluated effects (desist impact: the difference in the share
    reoffending, and returning to custody, by the horizon, with their CIs) and the
    mean time in custody after a return. JSON shape: {"disclosure": {...}, "program",
    "effect": {"reoffending", "returns_to_custody", "custody_days"}, "per_year":
    [{"year", "reoffences_avoided", "lower", "upper", "returns_avoided",
    "bed_years_saved", "net_cost", ...}], "totals", "probability_benefit_exceeds_cost",
    "break_even_year", "notes": [codes]}; intervals are 90% (docs/planning.md).
    """
    from analysis.disclosure import DisclosurePolicy

    k = checked_min_cell(min_cell, unsafe_analyst_output)
    policy = DisclosurePolicy(k=k)
    with open_cli_study(db, events) as study:
        scenario = study.scenario(program, participants, years,
                                  custody_cost_per_day=custody_cost_per_day,
                                  mean_custody_days=mean_custody_days, draws=draws,
                                  seed=seed, horizon_days=horizon)
    payload = scenario.as_dict(policy, unsafe=unsafe_analyst_output)
    if as_json:
        emit_json(payload)
        return
    _print_scenario(translator(lang), scenario, payload)


def _value(tr: Translator, value: float | None, digits: int = 1) -> str:
    return NO_VALUE if value is None else tr.number(value, digits=digits)


def _range(tr: Translator, mean: float | None, lower: float | None, upper: float | None,
           digits: int = 1) -> str:
    if mean is None:
        return NO_VALUE
    return tr("{mean} ({lower} to {upper})", mean=_value(tr, mean, digits),
              lower=_value(tr, lower, digits), upper=_value(tr, upper, digits))


def _days(tr: Translator, days: float) -> str:
    whole = round(days)
    return tr.plural("{count} day", "{count} days", whole, count=tr.number(whole))


def _effect_line(tr: Translator, label: str, effect: dict | None) -> str:
    if effect is None:
        return tr("{what}: not evaluated", what=label)
    within = _days(tr, effect["horizon_days"])
    if not effect["reportable"]:
        return tr("{what} within {days}: not reported", what=label, days=within)
    verdict = tr("significant") if effect["significant"] else tr("not significant")
    return tr("{what} within {days}: {difference} percentage points (95% CI {lower} to "
              "{upper}, p={p}), {verdict}", what=label, days=within,
              difference=_value(tr, 100 * effect["difference"]),
              lower=_value(tr, 100 * effect["lower"]), upper=_value(tr, 100 * effect["upper"]),
              p=NO_VALUE if effect["p"] is None else significant_text(tr, effect["p"], 3),
              verdict=verdict)


def _custody_line(tr: Translator, custody: dict | None) -> str:
    if custody is None:
        return tr("Mean time in custody after a return: unknown")
    if custody["source"] == "planner":
        return tr("Mean time in custody after a return: {days} (entered)",
                  days=_days(tr, custody["mean_days"]))
    return tr("Mean time in custody after a return: {days} (95% CI {lower} to {upper}), "
              "{observed}", days=_days(tr, custody["mean_days"]),
              lower=_value(tr, custody["lower"], 0), upper=_value(tr, custody["upper"], 0),
              observed=tr.plural("observed over {count} return to custody",
                                 "observed over {count} returns to custody",
                                 custody["returns"], count=tr.number(custody["returns"])))


def _costs_line(tr: Translator, payload: dict) -> str:
    cost, per_day = payload["cost_per_participant"], payload["custody_cost_per_day"]
    currency = payload["currency"] or ""
    if cost is None:
        first = tr("no cost per participant recorded")
    else:
        first = tr("{cost} {currency} per participant", cost=_value(tr, cost, 0),
                   currency=currency)
    if per_day is None:
        second = tr("no custody cost per day entered")
    else:
        second = tr("{cost} {currency} per day in custody", cost=_value(tr, per_day, 0),
                    currency=currency)
    return tr("Costs: {programme}; {custody}", programme=first, custody=second)


def _print_scenario(tr: Translator, scenario: ScenarioAnalysis, payload: dict) -> None:
    years, currency = payload["years"], payload["currency"] or ""
    n = payload["participants_per_year"]
    click.echo(tr("Scale-up scenario: {program}; {participants}; {years}",
                  program=payload["program"],
                  participants=tr.plural("{count} more participant a year",
                                         "{count} more participants a year", n,
                                         count=tr.number(n)),
                  years=tr.plural("for {n} year", "for {n} years", years)))
    effect = payload["effect"]
    reoffending = effect["reoffending"]
    events = " / ".join(event_words(code, tr.language)
                        for code in (reoffending or {}).get("event_types", []))
    click.echo(_effect_line(tr, tr("Effect on reoffending ({events})", events=events),
                            reoffending))
    click.echo(_effect_line(tr, tr("Effect on returns to custody"),
                            effect["returns_to_custody"]))
    click.echo(_custody_line(tr, effect["custody_days"]))
    click.echo(_costs_line(tr, payload))
    # what the figures cannot show (no effect shown, no money) comes before them
    for text in scenario.note_texts(tr.language):
        click.echo("  " + tr("note: {reason}", reason=text))
    click.echo(tr("Means over {draws} draws (seed {seed}), with 90% intervals:",
                  draws=tr.number(payload["draws"]), seed=payload["seed"]))
    headers = (tr("year"), tr("reoffences avoided"), tr("returns avoided"),
               tr("bed-years saved"), tr("net cost ({currency})", currency=currency))
    click.echo(f"  {headers[0]:>4} {headers[1]:>24} {headers[2]:>24} {headers[3]:>24} "
               f"{headers[4]:>32}")
    for row in payload["per_year"]:
        cells = (_range(tr, row["reoffences_avoided"], row["lower"], row["upper"]),
                 _range(tr, row["returns_avoided"], row["returns_lower"], row["returns_upper"]),
                 _range(tr, row["bed_years_saved"], row["bed_years_lower"],
                        row["bed_years_upper"]),
                 _range(tr, row["net_cost"], row["net_cost_lower"], row["net_cost_upper"], 0))
        click.echo(f"  {row['year']:>4} {cells[0]:>24} {cells[1]:>24} {cells[2]:>24} "
                   f"{cells[3]:>32}")
    probability = payload["probability_benefit_exceeds_cost"]
    click.echo(tr("Probability that the custody costs avoided exceed the programme's cost: "
                  "{probability}", probability=NO_VALUE if probability is None
                  else tr.percent(probability, digits=1)))
    year = payload["break_even_year"]
    if probability is None:
        click.echo(tr("Break-even year: cannot be given"))
    elif year is None:
        click.echo(tr.plural("Break-even year: not within {n} year",
                             "Break-even year: not within {n} years", years))
    else:
        click.echo(tr("Break-even year: {year}", year=year))
