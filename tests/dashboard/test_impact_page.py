"""Impact page: headline, rules, curves, attrition, report button, planning aid."""

from __future__ import annotations

import re

import pytest

from tests.dashboard.pages import as_read, frames, open_page, open_tab


@pytest.fixture(autouse=True)
def _database(demo_db, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(demo_db))


def _choose(at, program: str):
    box = at.selectbox(key="impact-subject")
    label = next(o for o in box.options if o.startswith(program))
    return box.select(label).run()


def _markdown(at) -> str:
    return "\n".join(as_read(m.value) for m in at.markdown)


def test_matched_evaluation_of_a_programme():
    at = _choose(open_page("impact"), "VOC-METAL")
    assert not at.exception
    assert any(as_read(h.value).startswith("Impact of VOC-METAL") for h in at.subheader)
    text = _markdown(at)
    assert "For every 100 participants" in text
    assert "Honesty rules" in text and "Reportable" in text
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download the offline report (HTML)" in labels  # above the tabs
    # only the open tab is drawn: the result first, each other tab when opened
    assert [tab.label for tab in at.tabs] == ["Result", "Who was compared",
                                              "Balance and overlap", "Sensitivity",
                                              "Planning aid"]
    rates = frames(at)[0]
    assert list(rates["Group"]) == ["participants", "comparison"]
    assert len(at.get("plotly_chart")) == 1  # the curves
    assert not any("Step" in f.columns for f in frames(at))
    open_tab(at, "impact", "Who was compared")
    assert any("Step" in f.columns for f in frames(at))  # attrition
    open_tab(at, "impact", "Balance and overlap")
    assert len(at.get("plotly_chart")) == 2  # balance, overlap
    balance = next(f for f in frames(at) if "SMD before" in f.columns)
    assert "age at release" in set(balance["Covariate"])  # in words, not age_at_release
    assert "offense category: public_order" in set(balance["Covariate"])
    assert not any("[" in c for c in balance["Covariate"])
    open_tab(at, "impact", "Planning aid")
    assert any("participants" in i.value and "detect" in i.value for i in at.info)


def test_a_selection_without_participants_explains_itself():
    at = _choose(open_page("impact", {"year": "2017", "sex": "F", "k": "50"}), "DISENG")
    assert not at.exception
    messages = " ".join(w.value for w in at.warning)
    assert "participant" in messages or "reported" in messages


def test_a_mixed_funder_is_refused_with_a_message():
    at = open_page("impact")
    box = at.selectbox(key="impact-subject")
    funder = next(o for o in box.options if o == "Funder: European Union")
    at = box.select(funder).run()
    assert not at.exception
    assert any("separately" in w.value for w in at.warning)


def test_the_headline_is_in_the_language_of_the_link():
    at = _choose(open_page("impact", {"lang": "fr"}), "VOC-METAL")
    assert not at.exception
    text = _markdown(at)
    assert "### Sur 100 participants, " in text
    assert "For every 100 participants" not in text
    assert "Reportable" not in text  # the page's own words are French too
    overview = open_page("overview", {"lang": "fr"})
    assert "La récidive est le premier événement" in _markdown(overview)


def test_one_stored_impact_page_serves_every_language(monkeypatch):
    """The importer stored the default Impact page once; Arabic and English readers
    both get it from storage, each in their own words."""
    from analysis.impact.evaluation import ImpactEvaluation
    from analysis.views import stored
    from dashboard import cache

    served = []
    real_lookup = stored.lookup

    def lookup(con, view, filters, options):
        result = real_lookup(con, view, filters, options)
        if stored.view_key(view) == "impact:impact_page":
            served.append(result is not None)
        return result

    def not_computed(self, con):
        raise AssertionError("the Impact page was computed instead of read from storage")

    monkeypatch.setattr(stored, "lookup", lookup)
    monkeypatch.setattr(ImpactEvaluation, "prepare", not_computed)
    headlines = {}
    for language in ("ar", "en"):
        cache.clear()  # nothing kept in memory from another test or language
        at = open_page("impact", {"lang": language})
        headlines[language] = [m.value for m in at.markdown if m.value.startswith("### ")]
    assert served == [True, True]
    assert len(headlines["ar"]) == len(headlines["en"]) == 1
    assert headlines["ar"] != headlines["en"]
    assert not re.search(r"[A-Za-z]{4,}", headlines["ar"][0].replace("VOC", ""))


def test_the_adjustment_set_opens_on_the_default_and_a_choice_travels_in_the_link():
    at = open_page("impact", {"program": "VOC-METAL"}, timeout=120)
    chosen = at.multiselect(key="impact-covariates")
    # the default set: the standard fields and the demo's own covariates
    assert {"age_at_release", "sex", "education_level", "employment_before"} <= set(
        chosen.value)
    assert "covariates" not in at.query_params
    at = chosen.set_value(["age_at_release", "sex"]).run()
    assert not at.exception
    assert at.query_params["covariates"] in ("age_at_release,sex", ["age_at_release,sex"])
    open_tab(at, "impact", "Balance and overlap")
    balance = next(f for f in frames(at) if "SMD before" in f.columns)
    # balance covers exactly what is adjusted for
    assert all(c == "age at release" or c.startswith("sex") for c in balance["Covariate"])
    assert "age at release" in set(balance["Covariate"])
    assert any("Adjusted for" in as_read(c.value) for c in at.caption)


def test_a_covariate_in_the_link_that_is_not_in_the_data_is_named_and_left_out():
    at = open_page("impact", {"program": "VOC-METAL",
                              "covariates": "age_at_release,shoe_size"}, timeout=120)
    assert at.multiselect(key="impact-covariates").value == ["age_at_release"]
    notices = [as_read(m.value) for m in at.warning] + [as_read(m.value) for m in at.info]
    assert any("shoe_size" in n and "does not adjust for it" in n for n in notices), notices
