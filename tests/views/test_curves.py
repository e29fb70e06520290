"""Recidivism-over-time view: engine agreement, truncation, at-risk suppression, small groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import AnalysisError
from analysis.i18n import catalog
from analysis.results import events_by_horizon
from analysis.survival.competing_risks import cumulative_incidence_from_db
from analysis.survival.episodes import Selection
from analysis.survival.kaplan_meier import kaplan_meier_from_db
from analysis.views.curves import AT_RISK_MONTHS, curves_figure, recidivism_curves
from analysis.views.estimates import view_study
from analysis.views.filters import ViewFilters
from analysis.views.overview import overview
from analysis.views.words import render_cell, render_note, render_table


def test_km_by_sex_matches_the_engine(demo_con):
    result = recidivism_curves(demo_con, ViewFilters(), breakdown="sex")
    fitted = kaplan_meier_from_db(demo_con, by="sex")
    assert result.logrank_p == pytest.approx(fitted.logrank.p)
    assert render_note(result.test_note).startswith("Log-rank test across the 2 groups")
    at = fitted.result.at([365]).set_index("group")
    shown = result.horizon_table.set_index("group")
    for group, row in at.iterrows():
        assert shown.loc[group, "within_365"] == pytest.approx(row["recidivism"])
        assert shown.loc[group, "within_365_lower"] == pytest.approx(row["recidivism_lower"])
        assert shown.loc[group, "within_365_upper"] == pytest.approx(row["recidivism_upper"])
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
    assert cif.horizon_table["within_730"].iloc[0] == pytest.approx(expected)
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
    assert list(french.columns) == [
        "Groupe", "Libérations",
        "Personnes ayant récidivé dans l'année", "Récidive dans l'année",
        "Dans l'année, borne inférieure à 95 %", "Dans l'année, borne supérieure à 95 %",
        "Personnes ayant récidivé dans les 2 ans", "Récidive dans les 2 ans",
        "Dans les 2 ans, borne inférieure à 95 %", "Dans les 2 ans, borne supérieure à 95 %",
        "Personnes ayant récidivé dans les 3 ans", "Récidive dans les 3 ans",
        "Dans les 3 ans, borne inférieure à 95 %", "Dans les 3 ans, borne supérieure à 95 %"]
    # the rates stay numbers for the downloads; a missing count says why, in words
    assert pd.api.types.is_float_dtype(french["Récidive dans les 3 ans"])
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


HORIZONS = (365, 730, 1095)


def _counts_and_rates(result):
    # with a breakdown, the first line is the selection's own (tested below)
    groups = result.horizon_table.iloc[1:] if result.breakdown else result.horizon_table
    table = groups.set_index("group")
    for days in HORIZONS:
        yield days, table[f"reoffended_{days}"], table[f"within_{days}"]


@pytest.mark.parametrize("selection, breakdown, k", [
    (Selection(), "facility", 10),
    (Selection(), "release_year", 10),
    (Selection(sexes=("F",)), "age_band", 10),
    (Selection(sexes=("F",)), "offense_category", 25),
])
def test_people_who_reoffended_sit_beside_their_rate(demo_con, selection, breakdown, k):
    result = recidivism_curves(demo_con, ViewFilters(selection, min_cell=k),
                               breakdown=breakdown)
    day_table = view_study(demo_con, ViewFilters(selection)).day_counts(breakdown)
    events = events_by_horizon(day_table, HORIZONS)
    codes = {f"<{k}", "hidden", "suppressed", "not_reached"}
    risk = result.risk_table[result.risk_table["measure"] == "events"].set_index("group")
    for days, counts, rates in _counts_and_rates(result):
        for group, count in counts.items():
            shown = isinstance(count, int)
            assert shown == np.isfinite(rates[group]), (group, days, count)
            assert count == events[(group, days)] if shown else count in codes
            assert not shown or count == 0 or count >= k
            if group in result.hidden_groups:
                assert count == "suppressed"
        # a count the risk table hides (reoffended so far at a whole year) stays hidden
        column = {365: "at_12", 730: "at_24"}.get(days)
        if column in risk.columns:
            for group, cell in risk[column].items():
                if not cell.isdigit():
                    assert not isinstance(counts[group], int), (group, days)
    # every reason is worded
    assert all(render_cell(code, "ar") != code for code in codes - {f"<{k}"})


def test_recent_cohorts_are_not_followed_long_enough(demo_con):
    result = recidivism_curves(demo_con, ViewFilters(), breakdown="release_year")
    last = result.horizon_table.iloc[-1]
    assert last["reoffended_1095"] == "not_reached" and np.isnan(last["within_1095"])


def test_without_a_breakdown_the_counts_are_the_overviews(demo_con):
    for selection in (Selection(), Selection(sexes=("F",), age_bands=("55+",))):
        curves = recidivism_curves(demo_con, ViewFilters(selection))
        seen = overview(demo_con, ViewFilters(selection)).horizon_table.set_index("within")
        for days, counts, rates in _counts_and_rates(curves):
            assert counts["all"] == seen.loc[days, "reoffended"]
            if isinstance(counts["all"], int):
                assert rates["all"] == pytest.approx(seen.loc[days, "km_rate"])


def test_sweep_finds_no_small_count_in_the_horizon_table(demo_con):
    from tests.views.test_disclosure_sweep import _audit_curves

    for selection, breakdown in ((Selection(), "sex"), (Selection(), "facility"),
                                 (Selection(sexes=("F",)), "age_band")):
        assert _audit_curves(demo_con, ViewFilters(selection), 10, breakdown, "km") == []


def test_the_horizon_download_holds_numbers(demo_con):
    import io

    from openpyxl import load_workbook

    from analysis.views.tables import to_xlsx_bytes
    from analysis.views.words import column_header

    result = recidivism_curves(demo_con, ViewFilters(), breakdown="release_year")
    table = result.horizon_table
    sheet = load_workbook(io.BytesIO(to_xlsx_bytes(render_table(table))))["table"]
    header = [c.value for c in sheet[1]]
    kinds = set()
    for code in table.columns[2:]:
        column = header.index(column_header(code)) + 1
        cells = [row[0] for row in sheet.iter_rows(min_row=2, min_col=column, max_col=column)]
        for cell, value in zip(cells, table[code], strict=True):
            if isinstance(value, int) or (code.startswith("within") and np.isfinite(value)):
                assert cell.data_type == "n" and cell.value == pytest.approx(value), code
                kinds.add("number")
            elif code.startswith("within"):
                assert cell.value is None, code  # a rate not shown: an empty cell
            else:  # why the count is missing, in words
                assert cell.data_type == "s" and cell.value == render_cell(value), code
                kinds.add("reason")
    assert kinds == {"number", "reason"}


def test_a_breakdown_opens_with_the_selection_then_the_groups_by_rate(demo_con):
    filters = ViewFilters(Selection(sexes=("M",)))
    result = recidivism_curves(demo_con, filters, breakdown="facility")
    alone = recidivism_curves(demo_con, filters).horizon_table
    first = result.horizon_table.iloc[[0]].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, alone)
    assert first["group"].iloc[0] == "all"
    rates = result.horizon_table["within_365"].iloc[1:]
    shown = rates.dropna()
    assert list(shown) == sorted(shown, reverse=True) and rates.isna().sum() == \
        rates.iloc[len(shown):].isna().sum()  # missing rates last
    assert len(result.horizon_table) == 1 + len(set(result.curves["group"]) |
                                                set(result.hidden_groups))
