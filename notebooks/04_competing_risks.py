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
# # 4. Competing risks: death and deportation against reoffending
#
# A person who dies or is deported can no longer reoffend in the country. Treating
# them as censored (as 1 − Kaplan–Meier does) pretends they could still reoffend
# later, so 1 − KM overstates the share who reoffend. The Aalen–Johansen cumulative
# incidence counts each competing end as what it is.

# %% tags=["parameters"]
DB = None

# %%
import analysis as ds

study = ds.open_study(DB, outcome="rearrest")
study.episodes(columns=["follow_up_end_reason"])["follow_up_end_reason"].value_counts()

# %% [markdown]
# ## Cumulative incidence of re-arrest and of each competing end

# %%
cif = study.cumulative_incidence(by_reason=True)
cif.at([365, 1095, 1825]).round(4)

# %%
ds.step_curves(cif.table.rename(columns={"cause": "curve"}), group="curve", value="cif",
               title="Cumulative incidence by cause")

# %% [markdown]
# ## Cumulative incidence against 1 − Kaplan–Meier

# %%
km = study.kaplan_meier().at([365, 1095, 1825])
aj = cif.at([365, 1095, 1825])
aj = aj[aj["cause"] == aj["cause"].iloc[0]] if "reoffence" not in set(aj["cause"]) else aj[aj["cause"] == "reoffence"]
table = km[["days", "recidivism"]].merge(aj[["days", "cif"]], on="days")
table["overstatement"] = table["recidivism"] - table["cif"]
table.round(4)

# %%
assert (table["overstatement"] >= -1e-12).all()

# %% [markdown]
# ## Fine–Gray regression: covariates and the cumulative incidence
# The Cox model's hazard ratios are cause-specific: among people still out. The
# Fine–Gray model's subdistribution hazard ratios describe the cumulative incidence
# itself, with death, deportation and emigration as competing ends (R `finegray` +
# `coxph(weights = fgwt, cluster = person_id)`; agreement in docs/cox.md).

# %%
import pandas as pd

covariates, programmes = ["age_at_release", "sex"], ["VOC-METAL"]
fine_gray = study.cox(covariates, programmes, model="finegray")
cause_specific = study.cox(covariates, programmes)
pd.DataFrame({"Fine–Gray SHR": fine_gray.summary.set_index("term")["hr"],
              "Cox HR": cause_specific.summary.set_index("term")["hr"]}).round(3)

