"""Programmes page services: catalogue counts, hazard ratios, completers vs dropouts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analysis.disclosure import DisclosurePolicy
from analysis.survival.cox_study import fit_study_cox
from analysis.survival.episodes import Outcome, Selection
from analysis.views.filters import ViewFilters
from analysis.views.programs import (
    SECONDARY_LABEL,
    STATUSES,
    completion_outcomes,
    program_catalog,
    program_effects,
    suppress_with_total,
)

#: A selection small enough that several programmes fall below k = 10.
TINY = Selection(sexes=("F",), release_from=dt.date(2019, 1, 1), release_to=dt.date(2019, 12, 31))


def _numbers(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column, errors="coerce")


def _assert_disclosure_safe(table: pd.DataFrame, total: str, parts, k: int) -> None:
    label = f"<{k}"
    for _, row in table.iterrows():
        cells = [row[total], *(row[p] for p in parts)]
        shown = [_numbers(pd.Series([c])).iloc[0] for c in cells]
        # no visible count between 1 and k - 1
        assert not any(0 < v < k for v in shown if not np.isnan(v)), row.to_dict()
        hidden = [row[p] in (label, SECONDARY_LABEL) for p in parts]
        # never exactly one hidden part next to a published total
        if row[total] != label:
            assert sum(hidden) != 1, row.to_dict()
        if not any(hidden) and row[total] != label:
            assert int(row[total]) == sum(int(row[p]) for p in parts)


def test_suppress_with_total_hides_a_second_cell_and_labels_it_honestly():
    counts = pd.DataFrame({"n": [60, 25], "a": [45, 20], "b": [12, 5], "c": [3, 0]})
    out = suppress_with_total(counts, "n", ["a", "b", "c"], DisclosurePolicy(k=10))
    assert out.iloc[0].tolist() == ["60", "45", SECONDARY_LABEL, "<10"]
    # a zero is not disclosive, so the 5 alone would be recoverable: 20 is hidden too
    assert out.iloc[1].tolist() == ["25", SECONDARY_LABEL, "<10", "0"]


def test_catalogue_counts_every_participation_without_filters(demo_con):
    table = program_catalog(demo_con, ViewFilters())
    total = demo_con.execute("SELECT count(*) FROM participation").fetchone()[0]
    programmes = demo_con.execute("SELECT count(*) FROM programs").fetchone()[0]
    assert len(table) == programmes
    # the counts first, beside the programme's name (they used to sit off-screen)
    assert list(table.columns) == ["program_id", "name", "participants", *STATUSES, "category",
                                   "setting", "project", "funder"]
    shown = [v for c in ("participants", *STATUSES) for v in table[c] if v not in ("<10", "hidden")]
    assert shown and all(isinstance(v, int) for v in shown)  # numbers, not text
    assert _numbers(table["participants"]).sum() == total
    _assert_disclosure_safe(table, "participants", STATUSES, 10)


def test_catalogue_of_a_tiny_selection_is_suppressed(demo_con):
    table = program_catalog(demo_con, ViewFilters(selection=TINY))
    assert (table[list(STATUSES)] == "<10").any().any()
    _assert_disclosure_safe(table, "participants", STATUSES, 10)
    larger_k = program_catalog(demo_con, ViewFilters(selection=TINY, min_cell=40))
    assert (larger_k == "<40").sum().sum() > (table == "<10").sum().sum()
    _assert_disclosure_safe(larger_k, "participants", STATUSES, 40)


def test_filters_change_the_catalogue(demo_con):
    everyone = program_catalog(demo_con, ViewFilters())
    women = program_catalog(demo_con, ViewFilters(selection=Selection(sexes=("F",))))
    assert _numbers(women["participants"]).sum() < _numbers(everyone["participants"]).sum()


@pytest.fixture(scope="module")
def effects(demo_db):
    from analysis.store import connect_readonly

    with connect_readonly(demo_db) as con:
        return program_effects(con, ViewFilters())


def test_effects_estimate_every_programme_of_the_full_demo(effects):
    table = effects.table
    estimated = table[table["status"] == "estimated"]
    assert len(estimated) >= 8
    for prefix in ("", "adj_"):
        hr = estimated[f"{prefix}hr"]
        assert np.isfinite(hr).all()
        assert (estimated[f"{prefix}hr_lower"] <= hr).all()
        assert (hr <= estimated[f"{prefix}hr_upper"]).all()
    settings = table.set_index("program_id")["exposure"]
    assert settings["PROB-SUPPORT"] == "time_varying"
    assert settings["VOC-METAL"] == "at_release"
    assert set(effects.forest["model"]) == {"unadjusted", "adjusted"}
    assert len(effects.forest) == 2 * len(estimated)
    # the demo's metalwork course truly lowers re-arrest (true HR 0.78 for completers)
    assert table.set_index("program_id").loc["VOC-METAL", "adj_hr"] < 1


def test_unadjusted_model_is_the_study_cox_model_of_the_programmes(effects, demo_con):
    estimated = effects.table[effects.table["status"] == "estimated"]
    study = fit_study_cox(demo_con, [], programs=list(estimated["program_id"]))
    reference = study.model.summary.set_index("term")["hr"]
    ours = estimated.set_index("program_id")["hr"]
    np.testing.assert_allclose(ours.to_numpy(), reference.loc[ours.index].to_numpy(),
                               rtol=1e-6)


def test_the_models_read_codes_not_text_ids(demo_con, monkeypatch):
    # On a national database the split rows' copies of the text ids were most of the
    # view's memory (docs/import.md): the models cluster on integer codes instead.
    import analysis.views.programs as programs

    seen = []
    fit = programs._fit

    def spying(frame, *args):
        seen.append(frame)
        return fit(frame, *args)

    monkeypatch.setattr(programs, "_fit", spying)
    program_effects(demo_con, ViewFilters())
    assert len(seen) == 2
    for frame in seen:
        assert "release_id" not in frame and "person_id" not in frame
        assert frame["_person"].dtype.kind == "i" and frame["_release"].dtype.kind == "i"


def test_small_programmes_are_listed_as_suppressed_not_estimated(demo_con):
    result = program_effects(demo_con, ViewFilters(selection=TINY))
    table = result.table
    suppressed = table[table["status"] == "suppressed"]
    assert len(suppressed) >= 1
    assert suppressed["hr"].isna().all() and suppressed["adj_hr"].isna().all()
    assert set(suppressed["participants"]) <= {"<10", "0"}
    assert not set(suppressed["program_id"]) & set(result.forest["term"])
    shown = _numbers(table["participants"])
    assert not ((shown > 0) & (shown < 10)).any()


def test_outcome_definition_changes_the_estimates(demo_con, effects):
    rearrest = program_effects(demo_con, ViewFilters(outcome=Outcome.named("rearrest")))
    assert rearrest.n_events < effects.n_events


def test_completers_and_dropouts(demo_con):
    result = completion_outcomes(demo_con, ViewFilters(), horizon_days=365)
    table = result.table.set_index("program_id")
    assert "PROB-SUPPORT" not in table.index  # post-release: completion is not known at release
    row = table.loc["VOC-METAL"]
    for group in ("completed", "not_completed"):
        assert 0 <= row[f"{group}_lower"] <= row[f"{group}_rate"] <= row[f"{group}_upper"] <= 1
        assert int(row[f"{group}_n"]) >= 10


def test_completers_and_dropouts_hide_both_groups_when_one_is_small(demo_con):
    result = completion_outcomes(demo_con, ViewFilters(selection=TINY))
    hidden = result.table[result.table["note"] == "group_hidden"]
    assert result.note_params["k"] == 10
    assert len(hidden) >= 1
    for _, row in hidden.iterrows():
        assert np.isnan(row["completed_rate"]) and np.isnan(row["not_completed_rate"])
        assert "<10" in (row["completed_n"], row["not_completed_n"])
        assert {row["completed_n"], row["not_completed_n"]} <= {"<10", SECONDARY_LABEL, "0"}


def test_the_programmes_results_hold_codes_rendered_in_each_language(effects, demo_con):
    from analysis.i18n import catalog
    from analysis.views.words import render_note, render_table

    assert [note.code for note in effects.notes][:2] == ["two_models", "standard_errors"]
    assert render_note(effects.notes[0]).startswith("Two Cox models are fitted")
    french = render_table(effects.table, "fr")
    assert {"Code du programme", "Exposition", "État de l'estimation", "Rapport de risques",
            "Rapport de risques ajusté"} <= set(french.columns)
    assert set(french["Exposition"]) == {"à la libération",
                                         "variable dans le temps (à partir du début)"}
    assert "estimé" in set(french["État de l'estimation"])
    several = [n for n in effects.notes if n.code == "multiple_comparisons"]
    assert several and render_note(several[0], "ru") == catalog("ru")[
        "Several programmes are compared here. With many comparisons, about one in twenty "
        "programmes with no real effect will still show a 'significant' difference by "
        "chance; read single significant results among many with caution."]
    tiny = completion_outcomes(demo_con, ViewFilters(selection=TINY))
    notes = render_table(tiny.table, "ar", note_params=tiny.note_params)["ملاحظة"]
    # numbers inside Arabic text are isolated, so that they keep their order
    assert catalog("ar")["a group has fewer than {k} releases: not shown"].format(
        k="\u206810\u2069") in set(notes)


def test_a_model_that_did_not_converge_is_not_called_not_estimable(demo_con, monkeypatch):
    # the same data give a converged fit; a fit that does not settle must say so
    from analysis.errors import ModelNotConvergedError
    from analysis.views import programs

    def not_converging(*_args, **_kwargs):
        raise ModelNotConvergedError("the Cox model did not converge")

    monkeypatch.setattr(programs, "_fit", not_converging)
    result = programs.program_effects(demo_con, ViewFilters())
    # every programme the models would have estimated is "did not converge", not
    # "not estimable" (which means its participants all or none reoffended)
    assert set(result.table["status"]) - {"suppressed"} == {"not_converged"}
    assert [n.code for n in result.notes if getattr(n, "code", "").startswith("models")] == [
        "models_not_converged"]
    assert result.forest.empty
