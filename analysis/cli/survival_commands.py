"""``desist km`` and ``desist cif``: recidivism curves and cumulative incidence."""

from __future__ import annotations

import math

import click

from analysis import constants
from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, resolved_db
from analysis.cli.disclosure_options import checked_min_cell, min_cell_option
from analysis.errors import AnalysisError

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
    from analysis.store.schema import connect_readonly

    con = connect_readonly(resolved_db(db))
    # DuckDB's progress bar would mix with the output on long queries.
    con.execute("SET enable_progress_bar = false")
    return con


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
    return func


@main.command("km")
@db_option
@_common_options
@json_option
@handle_errors
def km_command(db, by, events, horizons, min_cell, unsafe_analyst_output, as_json):
    """Kaplan–Meier recidivism curves, per group, with a log-rank test.

    Time zero is the release date; the outcome is the first event of the chosen
    types after release (see docs/metrics.md). JSON shape:
    {"disclosure": {...}, "event_types": [...], "groups": [{"group", "n", "events",
    "median_days", "horizons": [{"days", "survival", "se", "lower", "upper",
    "recidivism", "n_risk"}]}], "logrank": {"chi2", "df", "p"} or null}. Groups of
    fewer than --min-cell releases are refused; counts of 1 to k-1 people, numbers that
    would reveal one by subtraction, and rates that would, are null.
    """
    from analysis.disclosure import (
        DisclosurePolicy,
        disclosure_block,
        group_summary_hidden,
        rate_discloses,
    )
    from analysis.survival.episodes import Outcome, materialize_episodes
    from analysis.survival.fixed_horizon import fixed_horizon_rates_from_db
    from analysis.survival.grouping import resolve_grouping
    from analysis.survival.kaplan_meier import kaplan_meier_from_db
    from analysis.views.estimates import events_by
    from analysis.views.overview import complete_counts_hidden

    k = checked_min_cell(min_cell, unsafe_analyst_output)
    policy = DisclosurePolicy(k=k)
    days = _horizons(horizons)
    outcome = Outcome.from_types(events)
    con = _open(db)
    try:
        if as_json:
            fitted = kaplan_meier_from_db(con, by, outcome, min_group_size=k)
        else:
            # two analyses of the same episodes: compute them once
            grouping = resolve_grouping(con, by)
            cached = materialize_episodes(con, outcome)
            fitted = kaplan_meier_from_db(con, by, min_group_size=k, cached=cached)
            rates = fixed_horizon_rates_from_db(con, days, None, None, grouping.key_sql,
                                                grouping.params, cached=cached,
                                                label_sql=grouping.label_sql)
    finally:
        con.close()
    at = fitted.result.at(days)
    summary = fitted.result.summary
    by_horizon = events_by(fitted.day_table, days)
    groups, hidden = [], 0
    for row in summary.itertuples(index=False):
        rows = at[at["group"] == row.group].sort_values("days")
        n = int(row.n)
        hide_events, hide_risk = group_summary_hidden(
            n, {"events": int(row.events)}, [int(v) for v in rows["n_risk"]], policy)
        horizons_out = []
        for i, h in enumerate(rows.itertuples(index=False)):
            masked = h.n_risk < k or rate_discloses(by_horizon.get((row.group, int(h.days)), 0),
                                                    n, policy)
            shown = {name: None if masked else _num(getattr(h, name))
                     for name in ("survival", "se", "lower", "upper", "recidivism")}
            horizons_out.append({
                "days": int(h.days), **shown,
                "n_risk": None if i in hide_risk else int(h.n_risk),
            })
            hidden += 5 * masked + (i in hide_risk)
        hidden += bool(hide_events)
        groups.append({
            "group": str(row.group), "n": n,
            "events": None if hide_events else int(row.events),
            "median_days": _num(row.median), "horizons": horizons_out,
        })
    logrank = fitted.logrank.as_dict() if fitted.logrank is not None else None
    if as_json:
        emit_json({"disclosure": disclosure_block(k, unsafe=unsafe_analyst_output,
                                                  hidden=hidden),
                   "event_types": list(fitted.event_types), "groups": groups,
                   "logrank": logrank})
        return
    click.echo(f"Outcome: first {' / '.join(fitted.event_types) or '(no events)'} after release"
               + (f"; by {by}" if by else ""))
    click.echo("Recidivism = 1 - Kaplan–Meier (95% CI); 'complete' = share among releases "
               "whose whole horizon is observed (exact 95% CI; see docs/metrics.md).")
    click.echo(f"Counts of 1 to {k - 1} releases, and numbers that would reveal them, are "
               f"shown as {policy.label}.")
    for g in groups:
        median = "not reached" if g["median_days"] is None else f"{g['median_days']:g} days"
        events_text = policy.label if g["events"] is None else f"{g['events']:,}"
        click.echo(f"\n{g['group']}: {g['n']:,} releases, {events_text} events, "
                   f"median time to event {median}")
        click.echo(f"  {'days':>6} {'recidivism':>10} {'95% CI':>17} {'at risk':>9}"
                   f" {'complete':>9} {'95% CI':>17} {'n':>8}")
        group_rates = rates[rates["group"] == g["group"]].sort_values("days")
        hidden_n = complete_counts_hidden(group_rates, g["n"], policy)
        group_rates = group_rates.set_index("days")
        for h in g["horizons"]:
            r = group_rates.loc[h["days"]]
            complete_masked = (rate_discloses(r["events"], r["n"], policy)
                               or h["days"] in hidden_n)
            rate, low, high = ((None, None, None) if complete_masked
                               else (r["rate"], r["lower"], r["upper"]))
            rec_ci = (f"{_pct(None if h['upper'] is None else 1 - h['upper'])}-"
                      f"{_pct(None if h['lower'] is None else 1 - h['lower'])}")
            at_risk = policy.label if h["n_risk"] is None else f"{h['n_risk']:,}"
            n_text = policy.label if h["days"] in hidden_n else f"{int(r['n']):,}"
            click.echo(f"  {h['days']:>6} {_pct(h['recidivism']):>10} {rec_ci:>17} "
                       f"{at_risk:>9} {_pct(rate):>9} "
                       f"{_pct(low) + '-' + _pct(high):>17} {n_text:>8}")
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
def cif_command(db, by, events, horizons, min_cell, unsafe_analyst_output, by_reason,
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
    from analysis.disclosure import (
        DisclosurePolicy,
        disclosure_block,
        group_summary_hidden,
        rate_discloses,
    )
    from analysis.survival.competing_risks import cumulative_incidence_from_db
    from analysis.survival.episodes import Outcome

    k = checked_min_cell(min_cell, unsafe_analyst_output)
    policy = DisclosurePolicy(k=k)
    days = _horizons(horizons)
    outcome = Outcome.from_types(events)
    con = _open(db)
    try:
        result, types = cumulative_incidence_from_db(
            con, by, outcome, by_reason=by_reason, min_group_size=k)
    finally:
        con.close()
    at = result.at(days)
    table = result.table
    groups, hidden = [], 0
    for group, summ in result.summary.groupby("group", sort=False):
        rows = at[at["group"] == group]
        n = int(summ["n"].iloc[0])
        counts = {r.cause: int(r.events) for r in summ.itertuples(index=False)}
        risk = [int(rows.loc[rows["days"] == d, "n_risk"].iloc[0]) for d in days]
        hide_events, hide_risk = group_summary_hidden(n, counts, risk, policy)
        mine = table[table["group"] == group]
        horizons_out = []
        for i, d in enumerate(days):
            at_d = rows[rows["days"] == d]
            cif = {}
            for r in at_d.itertuples(index=False):
                by_then = int(mine.loc[(mine["cause"] == r.cause) & (mine["time"] <= d),
                                       "n_event"].sum())
                masked = risk[i] < k or rate_discloses(by_then, n, policy)
                hidden += 4 * masked
                cif[r.cause] = {name: None if masked else _num(getattr(r, column))
                                for name, column in (("estimate", "cif"), ("se", "se"),
                                                     ("lower", "lower"), ("upper", "upper"))}
            horizons_out.append({"days": d, "n_risk": None if i in hide_risk else risk[i],
                                 "cif": cif})
            hidden += i in hide_risk
        hidden += len(hide_events)
        groups.append({"group": str(group), "n": n,
                       "events": {c: None if c in hide_events else v for c, v in counts.items()},
                       "horizons": horizons_out})
    if as_json:
        emit_json({"disclosure": disclosure_block(k, unsafe=unsafe_analyst_output,
                                                  hidden=hidden),
                   "event_types": list(types), "causes": list(result.causes), "groups": groups})
        return
    click.echo(f"Cumulative incidence (Aalen–Johansen) of first "
               f"{' / '.join(types) or '(no events)'} after release, with competing ends"
               + (f"; by {by}" if by else ""))
    click.echo(f"Counts of 1 to {k - 1} releases, and numbers that would reveal them, are "
               f"shown as {policy.label}.")
    for g in groups:
        counts = ", ".join(f"{c} {policy.label if n is None else f'{n:,}'}"
                           for c, n in g["events"].items())
        click.echo(f"\n{g['group']}: {g['n']:,} releases ({counts})")
        header = "".join(f" {c:>24}" for c in result.causes)
        click.echo(f"  {'days':>6}{header} {'at risk':>9}")
        for h in g["horizons"]:
            cells = "".join(
                f" {_pct(v['estimate']) + ' (' + _pct(v['lower']) + '-' + _pct(v['upper']) + ')':>24}"
                for v in h["cif"].values())
            at_risk = policy.label if h["n_risk"] is None else f"{h['n_risk']:,}"
            click.echo(f"  {h['days']:>6}{cells} {at_risk:>9}")
