"""``desist km`` and ``desist cif``: recidivism curves and cumulative incidence."""

from __future__ import annotations

import math

import click

from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, resolved_db
from analysis.errors import AnalysisError
from analysis.store.schema import connect_readonly
from analysis.survival.competing_risks import cumulative_incidence_from_db
from analysis.survival.episodes import Outcome, materialize_episodes
from analysis.survival.fixed_horizon import fixed_horizon_rates_from_db
from analysis.survival.grouping import resolve_grouping
from analysis.survival.kaplan_meier import DEFAULT_MIN_GROUP_SIZE, kaplan_meier_from_db

DEFAULT_HORIZONS = "365,730,1095"


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


def _num(value):
    """Float or None (for NaN), for JSON."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _pct(value) -> str:
    value = _num(value)
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def _open(db):
    con = connect_readonly(resolved_db(db))
    # DuckDB's progress bar would mix with the output on long queries.
    con.execute("SET enable_progress_bar = false")
    return con


def _common_options(func):
    func = click.option("--min-group-size", type=click.IntRange(min=1),
                        default=DEFAULT_MIN_GROUP_SIZE, show_default=True,
                        help="Refuse groups with fewer releases than this.")(func)
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
    return func


@main.command("km")
@db_option
@_common_options
@json_option
@handle_errors
def km_command(db, by, events, horizons, min_group_size, as_json):
    """Kaplan–Meier recidivism curves, per group, with a log-rank test.

    Time zero is the release date; the outcome is the first event of the chosen
    types after release (see docs/metrics.md). JSON shape:
    {"event_types": [...], "groups": [{"group", "n", "events", "median_days",
    "horizons": [{"days", "survival", "se", "lower", "upper", "recidivism",
    "n_risk"}]}], "logrank": {"chi2", "df", "p"} or null}.
    """
    days = _horizons(horizons)
    outcome = Outcome.from_types(events)
    con = _open(db)
    try:
        if as_json:
            fitted = kaplan_meier_from_db(con, by, outcome, min_group_size=min_group_size)
        else:
            # two analyses of the same episodes: compute them once
            grouping = resolve_grouping(con, by)
            cached = materialize_episodes(con, outcome)
            fitted = kaplan_meier_from_db(con, by, min_group_size=min_group_size,
                                          cached=cached)
            rates = fixed_horizon_rates_from_db(con, days, None, None, grouping.key_sql,
                                                grouping.params, cached=cached,
                                                label_sql=grouping.label_sql)
    finally:
        con.close()
    at = fitted.result.at(days)
    summary = fitted.result.summary
    groups = []
    for row in summary.itertuples(index=False):
        rows = at[at["group"] == row.group]
        groups.append({
            "group": str(row.group), "n": int(row.n), "events": int(row.events),
            "median_days": _num(row.median),
            "horizons": [{
                "days": int(h.days), "survival": _num(h.survival), "se": _num(h.se),
                "lower": _num(h.lower), "upper": _num(h.upper),
                "recidivism": _num(h.recidivism), "n_risk": int(h.n_risk),
            } for h in rows.itertuples(index=False)],
        })
    logrank = fitted.logrank.as_dict() if fitted.logrank is not None else None
    if as_json:
        emit_json({"event_types": list(fitted.event_types), "groups": groups,
                   "logrank": logrank})
        return
    click.echo(f"Outcome: first {' / '.join(fitted.event_types) or '(no events)'} after release"
               + (f"; by {by}" if by else ""))
    click.echo("Recidivism = 1 - Kaplan–Meier (95% CI); 'complete' = share among releases "
               "whose whole horizon is observed (exact 95% CI; see docs/metrics.md).")
    for g in groups:
        median = "not reached" if g["median_days"] is None else f"{g['median_days']:g} days"
        click.echo(f"\n{g['group']}: {g['n']:,} releases, {g['events']:,} events, "
                   f"median time to event {median}")
        click.echo(f"  {'days':>6} {'recidivism':>10} {'95% CI':>17} {'at risk':>9}"
                   f" {'complete':>9} {'95% CI':>17} {'n':>8}")
        group_rates = rates[rates["group"] == g["group"]].set_index("days")
        for h in g["horizons"]:
            r = group_rates.loc[h["days"]]
            rec_ci = (f"{_pct(None if h['upper'] is None else 1 - h['upper'])}-"
                      f"{_pct(None if h['lower'] is None else 1 - h['lower'])}")
            click.echo(f"  {h['days']:>6} {_pct(h['recidivism']):>10} {rec_ci:>17} "
                       f"{h['n_risk']:>9,} {_pct(r['rate']):>9} "
                       f"{_pct(r['lower']) + '-' + _pct(r['upper']):>17} {int(r['n']):>8,}")
    if logrank is not None:
        click.echo(f"\nLog-rank test: chi2 = {logrank['chi2']:.3f} on {logrank['df']} df, "
                   f"p = {logrank['p']:.4g}")


@main.command("cif")
@db_option
@_common_options
@click.option("--by-reason", is_flag=True,
              help="Split the competing end by reason (death, deportation, emigration).")
@json_option
@handle_errors
def cif_command(db, by, events, horizons, min_group_size, by_reason, as_json):
    """Cumulative incidence of reoffending with competing risks (Aalen–Johansen).

    Death, deportation and emigration (follow_up_end_reason) compete with
    reoffending; 1 - Kaplan–Meier would overstate reoffending by treating them as
    censored. JSON shape: {"event_types": [...], "causes": ["reoffence",
    "competing" | "death", ...], "groups": [{"group", "n", "events": {cause: count},
    "horizons": [{"days", "n_risk", "cif": {cause: {"estimate", "se", "lower",
    "upper"}}}]}]}. The SE is the infinitesimal jackknife (as R's survfit) and the CI
    R's default log scale.
    """
    days = _horizons(horizons)
    outcome = Outcome.from_types(events)
    con = _open(db)
    try:
        result, types = cumulative_incidence_from_db(
            con, by, outcome, by_reason=by_reason, min_group_size=min_group_size)
    finally:
        con.close()
    at = result.at(days)
    groups = []
    for group, summ in result.summary.groupby("group", sort=False):
        rows = at[at["group"] == group]
        horizons_out = []
        for d in days:
            at_d = rows[rows["days"] == d]
            horizons_out.append({
                "days": d, "n_risk": int(at_d["n_risk"].iloc[0]),
                "cif": {r.cause: {"estimate": _num(r.cif), "se": _num(r.se),
                                  "lower": _num(r.lower), "upper": _num(r.upper)}
                        for r in at_d.itertuples(index=False)},
            })
        groups.append({"group": str(group), "n": int(summ["n"].iloc[0]),
                       "events": {r.cause: int(r.events) for r in summ.itertuples(index=False)},
                       "horizons": horizons_out})
    if as_json:
        emit_json({"event_types": list(types), "causes": list(result.causes), "groups": groups})
        return
    click.echo(f"Cumulative incidence (Aalen–Johansen) of first "
               f"{' / '.join(types) or '(no events)'} after release, with competing ends"
               + (f"; by {by}" if by else ""))
    for g in groups:
        counts = ", ".join(f"{c} {n:,}" for c, n in g["events"].items())
        click.echo(f"\n{g['group']}: {g['n']:,} releases ({counts})")
        header = "".join(f" {c:>24}" for c in result.causes)
        click.echo(f"  {'days':>6}{header} {'at risk':>9}")
        for h in g["horizons"]:
            cells = "".join(
                f" {_pct(v['estimate']) + ' (' + _pct(v['lower']) + '-' + _pct(v['upper']) + ')':>24}"
                for v in h["cif"].values())
            click.echo(f"  {h['days']:>6}{cells} {h['n_risk']:>9,}")
