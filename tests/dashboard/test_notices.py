"""What of a link cannot be used is said in one notice; an empty selection looks the same
on every page; the Impact page opens on the programme with the most participants."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.survival.episodes import Selection
from analysis.views.filters import QUERY_KEYS, Rejection, ViewFilters
from analysis.views.impact import default_subject
from dashboard.notices import LONGEST_VALUE, notice_markdown, rejection_markdown
from dashboard.safe_text import md_literal
from tests.dashboard.pages import as_read, frames, open_page

PAGES = ("overview", "recidivism", "programs", "impact", "subgroups", "planning", "services", "data")
EMPTY_TITLE = {"en": "No releases match the selection",
               "fr": "Aucune libération ne correspond à la sélection"}


@pytest.fixture(autouse=True)
def _database(demo_db, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(demo_db))


def _notices(at) -> list[str]:
    return [as_read(info.value) for info in at.info if "link" in str(info.proto.icon)]


FIELDS = sorted({*QUERY_KEYS, "period", "lang", "page", "program", "project", "funder",
                 "by", "method", "something-else"} - {"from", "to"})


def _as_typed(text: str) -> str:
    """``text`` as the notice shows it: cut, control characters as spaces, trimmed."""
    if len(text) > LONGEST_VALUE:
        text = text[:LONGEST_VALUE - 1] + "…"
    return as_read(md_literal(text))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FIELDS), st.text(min_size=1, max_size=90),
       st.text(min_size=1, max_size=20))
def test_every_notice_names_the_value_and_what_is_used_as_text(field, value, used):
    if field == "period":
        value, used = f"{value.replace('/', '')}/2020-01-01", "2020-01-01/2021-01-01"
    sentence = rejection_markdown(Rejection(field, value, used))
    read = as_read(sentence)
    assert "\n" not in sentence  # one sentence: a value cannot start a new list item
    assert _as_typed(value.split("/")[0] if field == "period" else value) in read
    if field in ("k", "lang", "page", "program", "project", "funder", "by", "method"):
        assert _as_typed(used) in read
    if field == "period":
        assert "2020-01-01 to 2021-01-01" in read


def test_several_rejections_make_one_list_under_one_heading():
    text = notice_markdown([Rejection("k", "1", "10"), Rejection("facility", "X", None)])
    lines = text.splitlines()
    assert lines[0] == "Some values in the link could not be used:"
    assert [line[:2] for line in lines[1:]] == ["- ", "- "]


def test_after_a_bad_link_the_notice_goes_and_the_view_is_the_nearest_valid_one(demo_db):
    at = open_page("overview", {"k": "1", "from": "2024-06-30", "to": "2023-01-01",
                                "facility": "Nowhere,Northgate Prison", "lang": "xx"})
    # open_page's first run read the link (on the Overview); the notice went with it.
    assert _notices(at) == []
    at.run()
    assert _notices(at) == []
    # The view is the nearest valid one, and the URL now says so.
    assert at.sidebar.number_input(key="flt_k").value == 10
    assert at.sidebar.date_input(key="flt_period").value == (dt.date(2023, 1, 1),
                                                              dt.date(2024, 6, 30))
    assert at.sidebar.multiselect(key="flt_facilities").value == ["Northgate Prison"]
    assert "k" not in at.query_params and "lang" not in at.query_params


def test_the_notice_names_each_value_and_what_is_used(app):
    for key, value in {"k": "abc", "from": "2024-06-30", "to": "2023-01-01",
                       "facility": "Nowhere", "lang": "xx", "year": "12345"}.items():
        app.query_params[key] = value
    app.run()
    assert not app.exception
    (notice,) = _notices(app)
    assert notice.startswith("Some values in the link could not be used:")
    for expected in ("“abc”", "k = 10 is used", "(2024-06-30 to 2023-01-01): 2023-01-01 to "
                     "2024-06-30 is used", "Facility: “Nowhere” is not in the data",
                     "The language “xx” is not available: English is used",
                     "release year “12345”"):
        assert expected in notice, expected
    assert len(notice.splitlines()) == 6  # the heading and one line per value


def test_a_date_outside_the_data_does_not_pin_the_period_to_one_day(app):
    app.query_params["from"] = "2040-01-01"
    app.run()
    first, last = app.sidebar.date_input(key="flt_period").value
    assert first < last  # the whole data range, not its last day
    (notice,) = _notices(app)
    assert "“2040-01-01”" in notice and "starts with the first release" in notice


def test_the_notice_is_in_the_reader_s_language(app):
    app.query_params["lang"] = "fr"
    app.query_params["k"] = "1"
    app.run()
    (notice,) = _notices(app)
    assert "k = 10 est utilisé" in notice


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_empty_selection_looks_the_same_on_every_page(language):
    for page in PAGES:
        at = open_page(page, {"year": "1950", "lang": language})
        titles = [as_read(h.value) for h in at.subheader]
        assert titles.count(EMPTY_TITLE[language]) == 1, page
        assert len(at.title) == 1, page  # the page's own title, above the empty state
        assert not [w.value for w in at.warning if "no releases" in w.value.lower()], page
        if page != "data":  # the Data page still describes the whole database
            assert frames(at) == [], page
        assert at.button(key="empty-selection-reset")


def test_the_empty_state_resets_the_filters():
    at = open_page("subgroups", {"year": "1950", "k": "20"})
    at.button(key="empty-selection-reset").click().run()
    assert not at.exception
    assert "year" not in at.query_params and "k" not in at.query_params
    assert frames(at)  # the page's tables are back


def test_impact_opens_on_the_programme_with_most_participants(demo_con):
    at = open_page("impact", {"sex": "F"})
    leader = default_subject(demo_con, ViewFilters(Selection(sexes=("F",))))
    assert at.selectbox(key="impact-subject").value == leader
    assert at.query_params["program"] in (leader.value, [leader.value])


def test_impact_opens_on_the_link_s_programme_or_says_it_does_not_exist(demo_con):
    at = open_page("impact", {"program": "VOC-METAL"})
    assert at.selectbox(key="impact-subject").value.value == "VOC-METAL"
    assert _notices(at) == []
    at = open_page("impact", {"program": "NOPE"})
    leader = default_subject(demo_con, ViewFilters())
    assert at.selectbox(key="impact-subject").value == leader
    (notice,) = _notices(at)
    assert notice.startswith("There is no programme “NOPE” in the data:")
    assert leader.value in notice
    assert at.query_params["program"] in (leader.value, [leader.value])


def test_an_unknown_breakdown_or_method_is_named():
    at = open_page("recidivism", {"by": "shoe_size", "method": "magic"})
    (notice,) = _notices(at)
    assert "The breakdown “shoe_size” is not available: No breakdown is shown." in notice
    assert "“magic”" in notice
