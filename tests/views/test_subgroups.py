"""Subgroups view: cross-table suppression and facility / region comparisons."""

from __future__ import annotations

import numpy as np

from analysis.survival.kaplan_meier import kaplan_meier_from_db
from analysis.views.filters import ViewFilters
from analysis.views.subgroups import comparison_figure, subgroups
from tests.conftest import DEMO_RELEASES


def test_cross_table_cells_are_protected(demo_con):
    result = subgroups(demo_con, ViewFilters())
    assert result.cross_table.iloc[0, 0] == "all"  # the overall line first
    table = result.cross_table.iloc[1:]
    hidden = table["releases"] == "<10"
    assert hidden.any() and (~hidden).any()
    assert (table.loc[~hidden, "releases"].astype(int) >= 10).all()
    assert table.loc[hidden, "rate_365"].isna().all()
    assert set(table.loc[hidden, "reoffended_365"]) == {"suppressed"}
    # sorted by rate, highest first, missing rates last
    rates = table["rate_365"].dropna()
    assert list(rates) == sorted(rates, reverse=True)
    assert table["rate_365"].notna().iloc[:len(rates)].all()
    # Complementary suppression: no row (sex, age band) or offense column with exactly one
    # hidden cell among its non-zero cells.
    for keys in (["sex", "age_band"], ["offense_category"]):
        assert (hidden.groupby([table[k] for k in keys]).sum() != 1).all(), keys
    total = demo_con.execute("SELECT count(*) FROM releases").fetchone()[0]
    assert table.loc[~hidden, "releases"].astype(int).sum() < total


def test_facilities_match_the_engine(demo_con):
    result = subgroups(demo_con, ViewFilters())
    engine = kaplan_meier_from_db(demo_con, by="facility").result.at([365]).set_index("group")
    rates = result.facilities.rates.set_index("facility")
    assert np.allclose(rates["recidivism"], engine.loc[rates.index, "recidivism"])
    assert len(result.regions.table) == 1 + demo_con.execute(
        "SELECT count(DISTINCT release_region) FROM releases").fetchone()[0]
    table = result.facilities.table
    assert table.iloc[0, 0] == "all" and table["releases"].iloc[0] == DEMO_RELEASES
    assert list(table["rate_365"].iloc[1:]) == sorted(table["rate_365"].iloc[1:], reverse=True)
    # the people beside each rate add up to the overall line's
    assert table["reoffended_365"].iloc[1:].sum() == table["reoffended_365"].iloc[0]
    assert list(result.cohorts.table["release_year"].iloc[1:]) == sorted(
        result.cohorts.table["release_year"].iloc[1:])  # cohorts stay in year order
    figure = comparison_figure(result.facilities)
    assert figure.layout.xaxis.ticksuffix == "%"
    assert figure.layout.title.text == "Reoffending within 1 year, by facility"
    assert comparison_figure(result.regions, "sr").layout.yaxis.title.text == "Region otpusta"
    # the latest cohort has not been followed for a year: no rate, but a count
    last = result.cohorts.rates.iloc[-1]
    assert np.isnan(last["recidivism"]) and last["releases"] != "<10"
    assert result.cohorts.table["reoffended_365"].iloc[-1] == "not_followed"


def test_raising_k_hides_more(demo_con):
    strict = subgroups(demo_con, ViewFilters(min_cell=150))
    loose = subgroups(demo_con, ViewFilters())
    assert (strict.cross_table["releases"] == "<150").sum() > (
        loose.cross_table["releases"] == "<10").sum()
