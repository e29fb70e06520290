"""``desist forecast``: expected first reoffences (or returns to custody) in the next months.

Goes through :meth:`analysis.study.Study.forecast`; what may be shown comes from the
result's :meth:`~analysis.planning.forecast.ForecastAnalysis.as_dict` (the disclosure
rules), and this module only prints it, in the language of ``--lang``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, open_cli_study
from analysis.cli.disclosure_options import checked_min_cell, min_cell_option
from analysis.cli.language import count_text, lang_option, translator
from analysis.i18n import Translator
from analysis.i18n.vocabulary import event_words

if TYPE_CHECKING:
    from analysis.disclosure import DisclosurePolicy

#: What --by may name (analysis.survival.forecast_inputs.FORECAST_FIELDS; not imported
#: from there, so that `desist forecast --help` stays free of duckdb and pandas).
FORECAST_FIELDS = ("release_region", "facility", "sex", "age_band", "offense_category",
                   "release_type")


def _months(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, ...]:
    """``--months 3,6,12`` as whole numbers from 1 to 60."""
    try:
        months = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        months = ()
    if not months or min(months) < 1 or max(months) > 60:
        raise click.BadParameter(f"expected whole numbers of months from 1 to 60, "
                                 f"separated by commas (e.g. 3,6,12), not {value!r}")
    return tuple(sorted(set(months)))


@main.command("forecast")
@db_option
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Forecast from this day (YYYY-MM-DD, inside the data); default: the "
                   "data's last day. Releases after it are not at risk, events after it "
                   "are never used.")
@click.option("--months", default="3,6,12", show_default=True, callback=_months,
              help="Horizons in months after the as-of date, comma-separated.")
@click.option("--by", "by", type=click.Choice(FORECAST_FIELDS), default=None,
              help="Breakdown (default: everyone together).")
@click.option("--events", default=None,
              help="Event types counting as the outcome, comma-separated (rearrest, "
                   "reconviction, reincarceration, violation); reincarceration alone "
                   "gives returns to custody. Default: every type present.")
@click.option("--backtest", is_flag=True,
              help="Also forecast as of max(months) earlier and compare with what happened.")
@min_cell_option()
@lang_option
@json_option
@handle_errors
def forecast_command(db, as_of, months, by, events, backtest, min_cell,
                     unsafe_analyst_output, lang, as_json):
    """Expected people with a first reoffence in the next months, with 90% intervals.

    From the people released and still at risk on the as-of date (their chance given
    the time since release) and the upcoming releases of table expected_releases;
    death, deportation, emigration, a return to custody and a new release end the time
    at risk. Curves from the last three years, their level from the last twelve months
    (see docs/planning.md). JSON shape: {"disclosure": {...}, "as_of", "event_types",
    "by", "level", "groups": [{"group", "at_risk", "upcoming_releases", "pooled_curve",
    "horizons": [{"months", "expected", "lower", "upper"}]}], "total": {"at_risk",
    "upcoming_releases", "horizons"} | null (everyone together, with a breakdown),
    "backtest": [{"group",
    "months", "predicted", "lower", "upper", "observed"}] | null, "backtest_as_of",
    "backtest_coverage"}. Counts of 1 to k-1 people, and numbers that would reveal one,
    are null.
    """
    from analysis.disclosure import DisclosurePolicy

    k = checked_min_cell(min_cell, unsafe_analyst_output)
    policy = DisclosurePolicy(k=k)
    with open_cli_study(db, events) as study:
        fitted = study.forecast(as_of=None if as_of is None else as_of.date(),
                                months=months, by=by, backtest=backtest)
    shown = fitted.as_dict(policy, unsafe=unsafe_analyst_output)
    if as_json:
        emit_json(shown)
        return
    _print_forecast(translator(lang), shown, policy)


def _events_text(tr: Translator, event_types) -> str:
    return " / ".join(event_words(code, tr.language) for code in event_types) or tr(
        "(no events)")


def _interval(tr: Translator, lower: int | None, upper: int | None) -> str:
    return "-" if lower is None or upper is None else (
        f"{tr.number(lower)}-{tr.number(upper)}")


def _expected(tr: Translator, value: float | None) -> str:
    return "-" if value is None else tr.number(round(value))


def _print_horizons(tr: Translator, headers: tuple[str, ...], horizons: list[dict]) -> None:
    click.echo(f"  {headers[0]:>7} {headers[1]:>10} {headers[2]:>15}")
    for line in horizons:
        click.echo(f"  {line['months']:>7} {_expected(tr, line['expected']):>10} "
                   f"{_interval(tr, line['lower'], line['upper']):>15}")


def _print_forecast(tr: Translator, shown: dict, policy: DisclosurePolicy) -> None:
    what = _events_text(tr, shown["event_types"])
    click.echo(tr("Expected people with a first {events} after {as_of} (90% prediction "
                  "interval)", events=what, as_of=shown["as_of"]))
    click.echo(tr("From the people at risk on that day and the upcoming releases; see "
                  "docs/planning.md. Counts of 1 to {largest} people, and numbers that "
                  "would reveal them, are shown as {label}.", largest=policy.k - 1,
                  label=policy.label))
    headers = (tr("months"), tr("expected"), tr("90% interval"))
    for group in shown["groups"]:
        click.echo("\n" + tr("{group}: {at_risk} at risk, {upcoming} upcoming releases",
                             group=group["group"],
                             at_risk=count_text(tr, group["at_risk"], policy.label),
                             upcoming=count_text(tr, group["upcoming_releases"],
                                                 policy.label)))
        _print_horizons(tr, headers, group["horizons"])
    total = shown.get("total")
    if total is not None:
        click.echo("\n" + tr("Everyone together: {at_risk} at risk, {upcoming} upcoming "
                             "releases (its interval is not the sum of the groups' "
                             "intervals)",
                             at_risk=count_text(tr, total["at_risk"], policy.label),
                             upcoming=count_text(tr, total["upcoming_releases"],
                                                 policy.label)))
        _print_horizons(tr, headers, total["horizons"])
    if shown["backtest"] is None:
        return
    click.echo("\n" + tr("Backtest: the same forecast made on {as_of}, beside what happened. "
                         "{covered} of the observed counts lie inside their interval.",
                         as_of=shown["backtest_as_of"],
                         covered=tr.percent(shown["backtest_coverage"], digits=0)))
    group, predicted, observed = tr("group"), tr("predicted"), tr("observed")
    click.echo(f"  {group:<24} {headers[0]:>7} {predicted:>10} {headers[2]:>15} "
               f"{observed:>9}")
    for row in shown["backtest"]:
        click.echo(f"  {row['group'][:24]:<24} {row['months']:>7} "
                   f"{_expected(tr, row['predicted']):>10} "
                   f"{_interval(tr, row['lower'], row['upper']):>15} "
                   f"{count_text(tr, row['observed'], policy.label):>9}")
