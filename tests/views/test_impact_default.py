"""The Impact page opens on the programme with the most participants, or the link's one;
an empty selection is recognised before any analysis runs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import AnalysisError
from analysis.survival.episodes import Selection
from analysis.views import stored
from analysis.views.choices import selection_is_empty
from analysis.views.filters import Rejection, ViewFilters
from analysis.views.impact import (
    SUBJECT_KINDS,
    Subject,
    default_subject,
    impact_page,
    impact_subjects,
    linked_subject,
)
from analysis.views.overview import overview
from analysis.views.programs import program_catalog


def _most_participants(con, filters) -> str:
    catalogue = program_catalog(con, filters)
    counts = [(-int(n) if str(n).isdigit() else 0, pid)
              for pid, n in zip(catalogue["program_id"], catalogue["participants"], strict=True)]
    return min(counts)[1]


@pytest.mark.parametrize("selection", [Selection(), Selection(sexes=("F",)),
                                       Selection(facilities=("Lakeside Open Prison",))])
def test_default_is_the_catalogue_programme_with_most_participants(demo_con, selection):
    filters = ViewFilters(selection)
    chosen = default_subject(demo_con, filters)
    assert chosen is not None and chosen.kind == "program"
    assert chosen in impact_subjects(demo_con, filters)
    assert chosen.value == _most_participants(demo_con, filters)


def test_the_default_depends_on_the_selection_not_on_the_order_of_codes(demo_con):
    everyone = default_subject(demo_con, ViewFilters())
    women = default_subject(demo_con, ViewFilters(Selection(sexes=("F",))))
    first_code = impact_subjects(demo_con, ViewFilters())[0]
    # Before, the page opened on the first code (COMM-DRUG, the smallest but one). The
    # demo's women take probation support more than basic education: another leader.
    assert first_code.value not in (everyone.value, women.value)
    assert everyone != women


def test_the_stored_default_view_is_the_one_the_page_opens_on(demo_con):
    requests = {stored.view_key(view): options
                for view, options in stored.default_requests(demo_con)}
    opened = default_subject(demo_con, ViewFilters())
    assert requests[stored.view_key(impact_page)]["value"] == opened.value
    assert requests[stored.view_key(impact_page)]["kind"] == opened.kind


SUBJECTS = (Subject("program", "VOC-METAL", "VOC-METAL — Metalwork"),
            Subject("project", "Skills for Work", "project: Skills for Work"),
            Subject("funder", "Global Fund", "funder: Global Fund"))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*SUBJECT_KINDS, "k", "page"]),
                       st.sampled_from([s.value for s in SUBJECTS]) | st.text(max_size=12)))
def test_the_link_names_a_subject_or_is_named_in_a_rejection(params):
    found, unknown = linked_subject(SUBJECTS, params)
    named = [(kind, params[kind]) for kind in SUBJECT_KINDS if params.get(kind)]
    known = [(kind, value) for kind, value in named
             if any((s.kind, s.value) == (kind, value) for s in SUBJECTS)]
    assert (found.kind, found.value) == known[0] if known else found is None
    assert unknown == tuple(Rejection(kind, value, None) for kind, value in named
                            if (kind, value) not in known)


def test_selection_is_empty_exactly_when_the_analyses_find_no_release(demo_con):
    assert not selection_is_empty(demo_con, ViewFilters())
    nobody = ViewFilters(Selection(release_years=(1950,)))
    assert selection_is_empty(demo_con, nobody)
    with pytest.raises(AnalysisError, match="no releases match the selection"):
        overview(demo_con, nobody)
    # The derived age band is selected as the analyses select it.
    assert not selection_is_empty(demo_con, ViewFilters(Selection(age_bands=("25-34",))))
