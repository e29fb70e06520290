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
# # 3. Impact evaluation of one programme
#
# Participants against similar people who did not take part: propensity-score
# matching (primary) and inverse-probability weighting (sensitivity), balance, the
# plain-words summary, cost per reoffence avoided, and the minimum detectable
# effect for planning. The method is described in `docs/impact.md`.

# %% tags=["parameters"]
DB = None
PROGRAM = "VOC-METAL"
HORIZON_DAYS = 365

# %%
import pandas as pd

import analysis as ds

study = ds.open_study(DB, outcome="rearrest")
impact = study.impact(PROGRAM, horizon_days=HORIZON_DAYS)
impact.summary

# %% [markdown]
# ## Who was compared
# `impact.result` is the whole evaluation, for the analyst's own screen: before
# disclosure control (`impact.published(policy)` and `impact.as_dict(policy)` apply it).

# %%
matched = impact.result
print(matched.summary_text)
impact.table

# %% [markdown]
# ## What the comparison adjusts for
# By default: the standard fields and every further covariate of the dataset known for
# at least 80% of the people compared. `covariates=[...]` chooses; the result says what
# was used and what was left out, and why.

# %%
print("\n".join(matched.adjustment.describe()))
chosen = study.impact(PROGRAM, horizon_days=HORIZON_DAYS,
                      covariates=["age_at_release", "sex", "prior_convictions"]).result
pd.DataFrame({"default set": [matched.hazard_ratio.estimate, matched.difference.estimate],
              "three standard fields": [chosen.hazard_ratio.estimate,
                                        chosen.difference.estimate]},
             index=["hazard ratio", "difference in rate"]).round(3)

# %% [markdown]
# ## Balance before and after matching

# %%
ds.balance_plot(matched.balance)

# %%
ds.overlap_plot(matched.overlap)

# %% [markdown]
# ## Outcomes

# %%
pd.DataFrame(
    {
        "participants": matched.participants.as_dict(),
        "comparison": matched.comparison.as_dict(),
    }
).round(3)

# %%
ds.step_curves(matched.curves, value="recidivism", title=f"{PROGRAM}: share re-arrested")

# %%
# one row per measure; the hazard ratio also carries both standard errors of its log
# (se_model, se_robust) and which one its CI and p use (se_type)
pd.DataFrame.from_dict(
    {
        "difference in rate": matched.difference.as_dict(),
        "hazard ratio": matched.hazard_ratio.as_dict(),
        "difference in days free": matched.rmst_difference.as_dict(),
    },
    orient="index",
).round(4)

# %% [markdown]
# ## Sensitivity: weighting instead of matching, and the naive comparison
# The weighted hazard ratio is the marginal one: a Cox model of taking part alone, each
# release weighted by its ATT weight, robust SEs by person (R `coxph(weights=,
# cluster=)`; see docs/impact.md).

# %%
weighted = study.impact(PROGRAM, horizon_days=HORIZON_DAYS, method="iptw").result
pd.DataFrame(
    {
        "matched": [matched.hazard_ratio.estimate, matched.difference.estimate],
        "weighted": [weighted.hazard_ratio.estimate, weighted.difference.estimate],
        "naive": [matched.naive["hazard_ratio"]["estimate"],
                  matched.naive["participants"]["rate"] - matched.naive["comparison"]["rate"]],
    },
    index=["hazard ratio", "difference in rate"],
).round(3)

# %% [markdown]
# ## Cost per reoffence avoided

# %%
print(matched.cost.statement if matched.cost else "No cost recorded for this programme.")

# %% [markdown]
# ## Planning: what could an evaluation of this size detect?

# %%
plan = ds.minimum_detectable_effect(matched.participants.with_outcome, matched.comparison.rate)
print(plan.sentence())
print("Participants needed to detect a 5-point drop:",
      ds.required_participants(matched.comparison.rate, matched.comparison.rate - 0.05))

# %%
assert matched.reportable
