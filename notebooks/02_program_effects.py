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
# # 2. Programme effects with Cox models
#
# Adjusted hazard ratios of in-prison programmes; a post-release programme as a
# **time-varying** exposure compared with the naive coding that counts it from the
# release day (immortal-time bias); proportional-hazards checks; predicted curves.

# %% tags=["parameters"]
DB = None
POST_RELEASE_PROGRAM = "PROB-SUPPORT"

# %%
import pandas as pd

import analysis as ds

study = ds.open_study(DB, outcome="rearrest")
programs = study.connection.execute("SELECT program_id, name, setting FROM programs ORDER BY program_id").df()
programs

# %% [markdown]
# ## Adjusted hazard ratios of the in-prison programmes

# %%
in_prison = programs.loc[programs["setting"] == "in_prison", "program_id"].tolist()
covariates = ["age_at_release", "sex", "prior_convictions", "offense_category", "sentence_months",
              "facility", "release_year"]
adjusted = study.cox(covariates, programs=in_prison)
terms = adjusted.summary
# se is the se_type one behind the CIs and p: robust, clustered by person (R coxph(cluster =
# person_id)); se_model is what R's coxph prints without cluster
terms[terms["term"].isin(in_prison)].round(3)

# %%
ds.forest_plot(terms[terms["term"].isin(in_prison)], title="In-prison programmes, adjusted HR")

# %% [markdown]
# ## Immortal-time bias, shown with a placebo programme
# Give 30% of releases a made-up post-release "programme" starting on a random day
# between 30 and 365 after release; a person only starts if still free of re-arrest
# that day, as in real life. The placebo cannot change anything, so its true hazard
# ratio is 1. The naive coding, "exposed from day 0 if they ever started", credits it
# with the days people had to stay free to start it.

# %%
import numpy as np

episodes = study.episodes(columns=covariates)
rng = np.random.default_rng(7)
start_day = rng.integers(30, 366, len(episodes))
episodes["started"] = ((rng.random(len(episodes)) < 0.3) & (episodes["time"] > start_day)).astype(int)
naive = ds.CoxModel().fit(episodes, "time", "event", ["started", *covariates], cluster_col="person_id")

# Time-varying coding: split each starter's follow-up at the start day, (start, stop] rows.
before = episodes.assign(start=0, stop=np.where(episodes["started"] == 1, start_day, episodes["time"]),
                         placebo=0)
before.loc[episodes["started"] == 1, "event"] = 0
after = episodes[episodes["started"] == 1].assign(start=start_day[episodes["started"] == 1],
                                                  stop=lambda d: d["time"], placebo=1)
split = pd.concat([before, after], ignore_index=True)
varying = ds.CoxModel().fit(split, "stop", "event", ["placebo", *covariates], entry_col="start",
                            cluster_col="person_id")
placebo = pd.DataFrame(
    {
        "naive (from day 0)": naive.summary.set_index("term").loc["started", ["hr", "hr_lower", "hr_upper"]],
        "time-varying": varying.summary.set_index("term").loc["placebo", ["hr", "hr_lower", "hr_upper"]],
    }
).round(3)
placebo

# %%
assert placebo.loc["hr_upper", "naive (from day 0)"] < 0.9  # clearly, and wrongly, "protective"
assert placebo.loc["hr_lower", "time-varying"] < 1 < placebo.loc["hr_upper", "time-varying"]

# %% [markdown]
# ## A real post-release programme, coded as time-varying
# `current`: exposed only while taking part; `ever`: from the start date on.

# %%
rows = {}
for exposure in ("current", "ever"):
    fitted = study.cox(covariates, programs=[POST_RELEASE_PROGRAM], exposure=exposure)
    rows[exposure] = fitted.summary.set_index("term").loc[POST_RELEASE_PROGRAM,
                                                               ["hr", "hr_lower", "hr_upper"]]
pd.DataFrame(rows).round(3)

# %% [markdown]
# ## Proportional hazards
# Schoenfeld-residual tests per term and global (as R's `cox.zph`).

# %%
adjusted.ph_test.round(4)

# %% [markdown]
# ## Predicted re-arrest for two profiles

# %%
profiles = pd.DataFrame(
    {
        "age_at_release": [22, 45],
        "sex": ["M", "M"],
        "prior_convictions": [4, 0],
        "offense_category": ["property", "violent"],
        "sentence_months": [12, 36],
        "facility": [episodes["facility"].mode()[0]] * 2,
        "release_year": [episodes["release_year"].max()] * 2,
        **{p: [0, 0] for p in in_prison},
    },
    index=["young, 4 priors", "older, no priors"],
)
predicted = adjusted.model.predict_survival(profiles, [90, 180, 365, 730])
predicted
