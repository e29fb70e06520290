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
# # 1. Getting started: who reoffends, and how soon?
#
# This notebook opens a study (a database, with re-arrest as the outcome),
# describes the cohort of releases, and
# estimates recidivism over time with Kaplan–Meier curves by sex and by offense. It
# ends with the classic "% reoffending within 1, 2, 3 years" table beside the
# Kaplan–Meier estimates, to show why the survival estimate is preferred: it uses
# every release, including recent ones whose follow-up is still short.
#
# Every number comes from the `analysis` package, the same code the dashboard and
# the `desist` command use.

# %% tags=["parameters"]
# Path of the study database. None = $DESIST_DB, else data/demo.duckdb (run `make demo`).
DB = None

# %%
import analysis as ds

# The outcome (and any selection of releases) is fixed when the study is opened;
# every method below uses it. study.with_outcome(...) gives another study.
study = ds.open_study(DB, outcome="rearrest")
study

# %% [markdown]
# ## The cohort
# One row per release: follow-up time in days, whether the outcome happened, and
# why follow-up ended.

# %%
episodes = study.episodes(columns=["sex", "offense_category", "release_year"])
print(f"{len(episodes):,} releases of {episodes['person_id'].nunique():,} people")
episodes.groupby("release_year").agg(
    releases=("release_id", "size"),
    median_follow_up_days=("time", "median"),
    rearrested=("event", "mean"),
).round(2)

# %%
episodes["end_reason"].value_counts()

# %% [markdown]
# ## Recidivism curves by sex

# %%
by_sex = study.kaplan_meier(by="sex")
by_sex.at([365, 730, 1095])[["group", "days", "recidivism", "recidivism_lower", "recidivism_upper", "n_risk"]]

# %%
print(f"log-rank: chi2 = {by_sex.logrank.chi2:.1f}, df = {by_sex.logrank.df}, p = {by_sex.logrank.p:.2g}")
ds.step_curves(by_sex.table, value="recidivism", lower="recidivism_lower",
               upper="recidivism_upper", title="Re-arrest by sex")

# %% [markdown]
# ## By offense, with medians

# %%
by_offense = study.kaplan_meier(by="offense_category")
by_offense.summary

# %%
ds.step_curves(by_offense.table, value="recidivism", lower=None, upper=None,
               title="Re-arrest by offense", time_unit="months")

# %% [markdown]
# ## Fixed windows against Kaplan–Meier
# The fixed-window rate counts only releases followed for the whole window, so it
# drops the most recent cohorts (`excluded`). The Kaplan–Meier value uses them all.

# %%
fixed = study.fixed_horizon_rates([365, 730, 1095]).rates
overall = study.kaplan_meier().at([365, 730, 1095])
comparison = fixed[["days", "n", "excluded", "rate", "lower", "upper"]].merge(
    overall[["days", "recidivism", "recidivism_lower", "recidivism_upper"]], on="days"
)
comparison.round(3)

# %%
assert (comparison["rate"] - comparison["recidivism"]).abs().max() < 0.1
