"""The Recidivism page past five groups: small multiples or one group highlighted, and the
risk table under the chart (issue 14)."""

from __future__ import annotations


def _curves_page(app, breakdown: str):
    app.run()
    app.switch_page("app_pages/recidivism.py").run()
    app.selectbox(key="rec_by").set_value(breakdown).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _chart(app) -> dict:
    return app.get("plotly_chart")[0].proto.spec


def test_seven_facilities_open_as_small_multiples(app):
    _curves_page(app, "facility")
    layout = app.radio(key="rec_layout")
    assert layout.value == "facets"
    assert layout.options == ["One small chart per group", "One group highlighted",
                              "All in one chart"]
    assert '"xaxis7"' in _chart(app)  # seven plots
    assert any("Grey: all releases." in c.value for c in app.caption)
    # the risk table is the page's first table: two rows per facility, a column a year
    risk = app.dataframe[0].value
    assert list(risk.columns[:4]) == ["Group", "Measure", "0 months", "12 months"]
    assert list(risk["Measure"][:2]) == ["Number at risk", "Reoffended so far"]
    assert len(risk) == 14


def test_one_facility_highlighted_then_all_in_one_chart(app):
    _curves_page(app, "facility")
    app.radio(key="rec_layout").set_value("highlight").run()
    app.selectbox(key="rec_highlight").set_value("Northgate Prison").run()
    assert not app.exception
    assert '"other groups"' in _chart(app) and '"Northgate Prison"' in _chart(app)
    app.radio(key="rec_layout").set_value("overlay").run()
    spec = _chart(app)
    assert '"yaxis2"' in spec and "Number at risk (reoffended so far)" in spec


def test_few_groups_need_no_choice(app):
    _curves_page(app, "sex")
    assert not [r for r in app.radio if r.key == "rec_layout"]
    assert "Number at risk (reoffended so far)" in _chart(app)
    assert any("in brackets, how many had reoffended" in c.value for c in app.caption)
