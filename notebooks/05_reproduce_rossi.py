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
# # 5. Reproducing a published result: the Rossi recidivism study
#
# Rossi, Berk and Lenihan (1980) followed 432 men released from Maryland state
# prisons for one year; half received financial aid after release (`fin`). The data
# ship with the `lifelines` package (`load_rossi`), and the Cox model of time to
# re-arrest is the worked example of Fox & Weisberg, *Cox Proportional-Hazards
# Regression for Survival Data in R* (appendix to *An R Companion to Applied
# Regression*, 2011; Efron ties). Their published estimates sit beside ours below.

# %% tags=["parameters"]
TOLERANCE = 5e-4  # published figures are rounded to 5 significant digits

# %%
import pandas as pd
from lifelines.datasets import load_rossi

import analysis as ds

rossi = load_rossi()
print(f"{len(rossi)} men, {rossi['arrest'].sum()} re-arrested within 52 weeks")

# %% [markdown]
# ## Kaplan–Meier: share re-arrested within a year

# %%
km = ds.KaplanMeier().fit(rossi["week"], rossi["arrest"])
km.at([52])[["days", "survival", "lower", "upper"]].rename(columns={"days": "weeks"})

# %%
published_arrests = 114
assert rossi["arrest"].sum() == published_arrests

# %% [markdown]
# ## The Cox model

# %%
covariates = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
model = ds.CoxModel(ties="efron", robust=False).fit(rossi, "week", "arrest", covariates)
published = pd.DataFrame(
    {
        "term": covariates,
        "published_coef": [-0.37942, -0.05744, 0.31390, -0.14980, -0.43370, -0.08487, 0.09150],
        "published_se": [0.19138, 0.02200, 0.30799, 0.21222, 0.38187, 0.19576, 0.02865],
    }
)
# the published SEs are model-based (se_type "model", as R coxph); se_robust for comparison
side_by_side = published.merge(model.summary[["term", "coef", "se", "se_type", "se_robust", "hr", "p"]],
                               on="term")
side_by_side.round(5)

# %%
assert (side_by_side["coef"] - side_by_side["published_coef"]).abs().max() < TOLERANCE
assert (side_by_side["se"] - side_by_side["published_se"]).abs().max() < TOLERANCE
print("Financial aid: hazard ratio",
      round(float(side_by_side.loc[side_by_side.term == "fin", "hr"].iloc[0]), 3),
      "(published exp(coef) = 0.684)")
