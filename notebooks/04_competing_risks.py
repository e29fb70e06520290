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
