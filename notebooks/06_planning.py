# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6. Planning: what comes next, where, and what a programme could change
#
# For planners who place probation officers, post-release support and treatment
# places, and who decide which programmes to expand. The notebook
#
# 1. forecasts how many people will have a first reoffence, and how many will return to
#    custody, in each release region over the coming months, with prediction intervals;
# 2. puts the **backtest** beside it: the same forecast made on the past, against what
#    then happened, so the reader knows how far to trust it — and checks the intervals'
#    coverage over several past dates;
# 3. shows **when support matters**: the hazard of reoffending month by month since
#    release, and how much of the first year's reoffending happens in its first months;
# 4. scales one programme up, using its evaluated effect *and* that effect's
#    uncertainty.
#
# The definitions are in `docs/planning.md`. Every number printed below is computed
# from the database: none is written into the text.

# %% tags=["parameters"]
# Path of the study database. None = $DESIST_DB, else data/demo.duckdb (run `make demo`).
DB = None
OUTCOME = "rearrest"            # what counts as a reoffence
BY = "release_region"           # the breakdown of the forecast
MONTHS = (3, 6, 12)             # forecast horizons, in months after the as-of date
WINDOW_YEARS = 3                # the curves are fitted on the time at risk of these last years
PAST_AS_OF_DATES = 4            # quarter ends tested in the coverage check
HAZARD_BY = "sex"
PROGRAM = "PROB-SUPPORT"        # a programme whose evaluation gives a reportable effect
PARTICIPANTS = 200              # more participants a year
YEARS = 5
CUSTODY_COST_PER_DAY = 60       # what a day in custody costs, in the programme's currency

# %%
import pandas as pd
import plotly.graph_objects as go

import analysis as ds
from analysis.charts import PALETTE, plotly_text
from analysis.planning.backtest import backtest_from_db

study = ds.open_study(DB, outcome=OUTCOME)
returns = study.with_outcome("reincarceration")  # a return to custody, same selection
study

# %% [markdown]
# ## The forecast: first reoffences and returns to custody, by region
# For each region: the people released and still at risk on the as-of date (by
# default the data's last day), the upcoming releases listed in `expected_releases`,
# and for each horizon the expected number of **people** with a first event in the
# window, with its prediction interval (chance, the curves' estimation error and a
# change of level as large as those seen before).

# %%
forecast = study.forecast(by=BY, months=MONTHS, window_years=WINDOW_YEARS)
returns_forecast = returns.forecast(by=BY, months=MONTHS, window_years=WINDOW_YEARS)
print(f"As of {forecast.as_of}: {forecast.groups['at_risk'].sum():,} people at risk and "
      f"{forecast.groups['upcoming_releases'].sum():,} upcoming releases; "
      f"intervals at {forecast.level:.0%}.")
forecast.groups

# %%
columns = ["group", "months", "expected", "lower", "upper"]
both = forecast.table[columns + ["expected_upcoming"]].merge(
    returns_forecast.table[columns], on=["group", "months"],
    suffixes=("_reoffence", "_return"))
both.round(1)

# %%
longest = max(forecast.months)
busiest = both[both["months"] == longest].sort_values("expected_reoffence").iloc[-1]
print(f"In the next {longest} months, {busiest['group']} expects the most first "
      f"{OUTCOME}s: {busiest['expected_reoffence']:.0f} people "
      f"({busiest['lower_reoffence']}–{busiest['upper_reoffence']}), "
      f"{busiest['expected_upcoming']:.0f} of them among its upcoming releases, and "
      f"{busiest['expected_return']:.0f} returns to custody "
      f"({busiest['lower_return']}–{busiest['upper_return']}).")

# %% [markdown]
# ## The backtest beside it
# The same forecast, made on an earlier date with only what was known then (the
# releases really made afterwards stand in for the list of expected releases), against
# the people who really had a first event in each window. **How to read it:** in a
# well-calibrated forecast about nine in ten observed counts fall inside their
# interval, and observed over predicted stays near 1 for every horizon. Much lower
# coverage means the intervals are too narrow; a ratio far from 1, that the level has
# moved since the curves were fitted.

# %%
backtest = forecast.backtest
calibration = backtest.table.groupby("months").agg(
    cells=("group", "size"), predicted=("predicted", "sum"), observed=("observed", "sum"),
    coverage=("covered", "mean"))
calibration["observed_over_predicted"] = calibration["observed"] / calibration["predicted"]
print(f"Forecast made on {backtest.as_of}: {backtest.coverage:.0%} of the "
      f"{len(backtest.table)} region × horizon cells lie inside their interval "
      f"(returns to custody: {returns_forecast.backtest.coverage:.0%}).")
calibration.round(3)

# %%
backtest.table.round(1)


# %%
def predicted_vs_observed(table: pd.DataFrame, title: str) -> go.Figure:
    """Observed count against predicted, with the interval, one colour per horizon."""
    figure = go.Figure()
    for index, (months, rows) in enumerate(table.groupby("months")):
        figure.add_trace(go.Scatter(
            x=rows["predicted"], y=rows["observed"], mode="markers", name=f"{months} months",
            marker={"color": PALETTE[index % len(PALETTE)], "size": 10},
            error_x={"type": "data", "symmetric": False,
                     "array": rows["upper"] - rows["predicted"],
                     "arrayminus": rows["predicted"] - rows["lower"]},
            text=[plotly_text(group) for group in rows["group"]],  # names from the data
            hovertemplate="%{text}: predicted %{x:.1f}, observed %{y}<extra></extra>"))
    top = 1.05 * float(max(table["upper"].max(), table["observed"].max()))
    figure.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="observed = predicted",
                                line={"color": "grey", "dash": "dot"}))
    figure.update_layout(title=title, template="plotly_white",
                         xaxis_title="predicted people (bar: prediction interval)",
                         yaxis_title="observed people")
    return figure


predicted_vs_observed(backtest.table, f"Backtest of the forecast made on {backtest.as_of}")

# %% [markdown]
# ## Check it yourself: coverage over several past as-of dates
# One backtest is a few dozen cells. Repeating it at earlier quarter ends (each with
# its whole window observed) shows whether the coverage holds up. Successive windows
# overlap, so the cells are not independent: read this as a check, not a test.

# %%
latest = pd.Period(backtest.as_of, freq="Q")
if latest.end_time.date() > backtest.as_of:  # a quarter end whose window is all observed
    latest -= 1
past_dates = [(latest - step).end_time.date() for step in range(PAST_AS_OF_DATES)]
grouping, cached = study.grouping(BY), study.cached_episodes()
runs = pd.concat([
    (backtest if as_of == backtest.as_of else backtest_from_db(
        study.connection, grouping, study.outcome, study.selection, as_of,
        forecast.months, cached=cached, window_years=WINDOW_YEARS)).table.assign(as_of=as_of)
    for as_of in past_dates])
coverage = runs.pivot_table(index="as_of", columns="months", values="covered", aggfunc="mean")
coverage["all horizons"] = runs.groupby("as_of")["covered"].mean()
print(f"Over {len(past_dates)} as-of dates ({min(past_dates)} to {max(past_dates)}): "
      f"{runs['covered'].mean():.0%} of {len(runs)} cells inside their "
      f"{forecast.level:.0%} interval.")
coverage.round(2)

# %% [markdown]
# ## When support matters: the hazard month by month since release
# The hazard of a month is the share of the people still out (and not yet reoffended)
# who reoffend in that month. The shares say how much of the first year's reoffending
# happens within 1, 3 and 6 months of release.

# %%
hazard = study.monthly_hazard(by=HAZARD_BY, months=24)
for row in hazard.summary.itertuples(index=False):
    print(f"{row.group} ({row.releases:,} releases): of those who reoffend in the first year, "
          f"{row.share_1_months:.0%} do so within 1 month, {row.share_3_months:.0%} within 3 "
          f"and {row.share_6_months:.0%} within 6 — about {round(10 * row.share_3_months)} "
          f"in 10 within 3 months.")
hazard.summary.round(3)

# %%
ds.step_curves(hazard.table, value="hazard", time="start_day", time_unit="months",
               y_title="Monthly hazard", title=f"Monthly hazard of a first {OUTCOME} by {HAZARD_BY}")

# %% [markdown]
# ## What if the programme reached more people?
# The scenario starts from the programme's impact evaluation (`desist impact --program
# ...`): its effect on reoffending and on returns to custody, each with its
# interval, and the time people stay in custody after a return, observed in the
# records. Every figure is the mean of the Monte Carlo draws with a 90% interval; the
# notes say what the scenario cannot show. An effect that is not significant is kept,
# but its ranges then include "no change at all".

# %%
scenario = study.scenario(PROGRAM, PARTICIPANTS, YEARS,
                          custody_cost_per_day=CUSTODY_COST_PER_DAY)
scenario.summary.round(4)

# %%
scenario.table[["year", "reoffences_avoided", "lower", "upper", "returns_avoided",
                "bed_years_saved", "programme_cost", "custody_cost_avoided", "net_cost",
                "cumulative_net_cost", "probability_break_even"]].round(2)


# %%
def figure(name: str, spec: str = ",.0f") -> str:
    """A scenario total as 'mean (lower to upper)', or 'not given'."""
    total = scenario.totals.get(name, {})
    if total.get("mean") is None:
        return "not given"
    if total.get("lower") is None:
        return format(total["mean"], spec)
    return (f"{format(total['mean'], spec)} ({format(total['lower'], spec)} to "
            f"{format(total['upper'], spec)})")


probability = scenario.probability_benefit_exceeds_cost
print(f"{PARTICIPANTS:,} more participants a year in {PROGRAM} for {YEARS} years: "
      f"{figure('reoffences_avoided')} reoffences and {figure('returns_avoided')} returns "
      f"to custody avoided, {figure('bed_years_saved', ',.1f')} prison-bed-years saved, a "
      f"net cost of {figure('net_cost')} {scenario.inputs.currency or ''} (negative: a saving).")
print("Probability that the benefits exceed the costs: "
      + ("not given" if probability is None else f"{probability:.0%}")
      + f"; break-even year: {scenario.break_even_year or 'not within the scenario'}.")
print("\n".join(scenario.note_texts()) or "No notes: both effects are reportable and "
      "significant, the stay in custody is observed and both costs are known.")

# %% [markdown]
# ## What the models assume
# - **The recent hazard carries on.** The forecast's curves are fitted on the time at
#   risk of the last few years (`WINDOW_YEARS`, printed below), and their level is set by
#   the latest twelve months; the interval allows the level to move as much as it moved
#   from year to year before. A change of policing, courts, sentencing or release
#   policy that the past did not see is not in the interval: the backtest says how well
#   this held in the past, not that it will hold.
# - **Competing ends.** Death, deportation and emigration end a person's follow-up: the
#   forecast counts first events among those who stay, and never counts anyone twice. The
#   monthly hazard is that of the people still out, alive and in the country; the
#   first-year shares count the competing ends as competing, not as censored.
# - **The list of upcoming releases is taken as given.** Releases that are not in
#   `expected_releases` (early releases, remand, court decisions) are missing from the
#   forecast, and listed ones that do not happen are counted. The backtest uses the
#   releases really made, so it tests the curves, not the list.
# - **The scenario** assumes that new participants resemble the evaluated (matched)
#   participants, that the effect stays the same as the programme grows, and that the
#   two effects and the stay in custody are independent draws; costs are not discounted.
#
# The tables above are for the analyst's own screen. What is published goes through the
# disclosure rules: `forecast.as_dict(ds.DisclosurePolicy(k=10))`,
# `hazard.as_dict(...)` and `scenario.as_dict(...)` give exactly what `desist forecast`,
# `desist hazard` and `desist scenario` print with `--json`, small counts hidden.

# %%
published = forecast.as_dict(ds.DisclosurePolicy(k=10))
print(f"Curves fitted on the last {WINDOW_YEARS} years of time at risk. Published with "
      f"k = {published['disclosure']['min_cell']}: {published['disclosure']['hidden_values']} "
      "values of the forecast and its backtest hidden.")

# %%
for result in (forecast, returns_forecast):
    per_group = result.table.sort_values(["group", "months"]).groupby("group")
    assert (result.table["lower"] <= result.table["upper"]).all()
    assert (per_group["expected"].diff().dropna() >= 0).all()  # longer windows hold more
assert 0 <= runs["covered"].mean() <= 1
