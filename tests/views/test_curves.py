"""Recidivism-over-time view: engine agreement, truncation, at-risk suppression, small groups."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.errors import AnalysisError
from analysis.i18n import catalog
from analysis.survival.competing_risks import cumulative_incidence_from_db
from analysis.survival.episodes import Selection
from analysis.survival.kaplan_meier import kaplan_meier_from_db
from analysis.views.curves import AT_RISK_MONTHS, curves_figure, recidivism_curves
from analysis.views.filters import ViewFilters
from analysis.views.words import render_note, render_table


def test_km_by_sex_matches_the_engine(demo_con):
    result = recidivism_curves(demo_con, ViewFilters(), breakdown="sex")
    fitted = kaplan_meier_from_db(demo_con, by="sex")
    assert result.logrank_p == pytest.approx(fitted.logrank.p)
    assert render_note(result.test_note).startswith("Log-rank test across the 2 groups")
    at = fitted.result.at([365]).set_index("group")
    for group, row in at.iterrows():
        cell = result.horizon_table.set_index("group").loc[group, "within_365"]
        assert cell.startswith(f"{row['recidivism'] * 100:.1f}%")
    assert list(result.at_risk.columns) == ["group", *(f"at_{m}" for m in AT_RISK_MONTHS)]
    assert list(render_table(result.at_risk).columns) == [
        "Group", "0 months", "6 months", "12 months", "18 months", "24 months", "36 months"]
    figure = curves_figure(result)
    assert figure.layout.xaxis.title.text == "Time since release (months)"
    assert figure.layout.title.text == "Kaplan–Meier (1 − survival)"


def test_cif_is_below_km_and_matches_the_engine(demo_con):
    km = recidivism_curves(demo_con, ViewFilters(), method="km")
    cif = recidivism_curves(demo_con, ViewFilters(), method="cif")
    engine, _ = cumulative_incidence_from_db(demo_con)
    expected = engine.at([730]).query("cause == 'reoffence'")["cif"].iloc[0]
    assert cif.horizon_table["within_730"].iloc[0].startswith(f"{expected * 100:.1f}%")
    assert cif.curves["recidivism"].iloc[-1] <= km.curves["recidivism"].iloc[-1]
    assert cif.logrank_p is None and render_note(cif.test_note).startswith("One group only")


def test_curves_stop_before_fewer_than_k_are_at_risk(demo_con):
    k = 200
    result = recidivism_curves(demo_con, ViewFilters(min_cell=k), breakdown="release_year")
    assert (result.curves["n_risk"] >= k).all()
    everything = kaplan_meier_from_db(demo_con, by="release_year").result.table
    assert result.curves["time"].max() < everything["time"].max()


def test_at_risk_counts_below_k_are_hidden_with_a_complement(demo_con):
    result = recidivism_curves(demo_con, ViewFilters(Selection(sexes=("F",))),
                               breakdown="age_band")
    table = result.at_risk.set_index("group")
    for column in table.columns:
        cells = table[column]
        shown = cells[cells != "<10"].astype(int)
        assert ((shown >= 10) | (shown == 0)).all()
    assert (table.to_numpy() == "<10").any()
    # no hidden count can be solved from the column totals or along a row (the drop
    # between two months is people too): checked exactly by the sweep's audit
    from tests.views.test_disclosure_sweep import _audit_curves

    assert _audit_curves(demo_con, ViewFilters(Selection(sexes=("F",))), 10, "age_band",
                         "km") == []



def test_small_groups_are_listed_not_fatal(demo_con):
    result = recidivism_curves(demo_con, ViewFilters(Selection(sexes=("F",)), min_cell=100),
                               breakdown="age_band")
    assert result.hidden_groups  # e.g. 55+ has fewer than 100 women
    assert not set(result.hidden_groups) & set(result.curves["group"])
    rows = result.horizon_table.set_index("group")
    assert (rows.loc[list(result.hidden_groups), "releases"] == "<100").all()


def test_the_view_holds_no_words_and_renders_in_each_language(demo_con):
    result = recidivism_curves(demo_con, ViewFilters(), breakdown="sex", method="cif")
    french = render_table(result.horizon_table, "fr")
    assert list(french.columns) == ["Groupe", "Libérations", "Dans l'année (IC à 95 %)",
                                    "Dans les 2 ans (IC à 95 %)", "Dans les 3 ans (IC à 95 %)"]
    assert list(french["Groupe"]) == list(result.horizon_table["group"])  # data, as recorded
    russian = curves_figure(result, "ru")
    assert russian.layout.title.text == catalog("ru")["Cumulative incidence (competing risks)"]
    assert russian.layout.yaxis.title.text == "Кумулятивная частота рецидива (%)"
    assert russian.layout.xaxis.title.text == "Время после освобождения (месяцы)"
    assert render_note(result.test_note, "sr").startswith("Log-rang test")
    assert render_note(result.test_note, "sr").endswith("konkurentni ishodi su cenzurisani)")


def test_program_breakdown_and_errors(demo_con):
    result = recidivism_curves(demo_con, ViewFilters(), breakdown="program:VOC-METAL")
    assert set(result.curves["group"]) == {"participant", "non-participant"}
    with pytest.raises(AnalysisError, match="unknown breakdown"):
        recidivism_curves(demo_con, ViewFilters(), breakdown="shoe_size")
    with pytest.raises(AnalysisError, match="no releases"):
        recidivism_curves(demo_con, ViewFilters(Selection(facilities=("Nowhere",))))
    assert np.isfinite(result.logrank_p)
