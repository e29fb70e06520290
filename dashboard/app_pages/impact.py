"""Impact: the donor view of a programme, project or funder (matched comparison)."""

from dataclasses import replace

import streamlit as st

from analysis.charts import balance_plot, forest_plot, overlap_plot, step_curves
from analysis.constants import DEFAULT_HORIZONS
from analysis.pdf_report import pdf_unavailable
from analysis.views.impact import (
    RATE_FORMATS,
    SUBJECT_KINDS,
    attrition_rows,
    balance_rows,
    cost_text,
    default_subject,
    headline_text,
    impact_covariates,
    impact_page,
    impact_report,
    impact_report_pdf,
    impact_subjects,
    linked_subject,
    note_texts,
    planning,
    reason_texts,
    subject_label,
)
from analysis.views.portfolio import (
    impact_portfolio,
    portfolio_document,
    portfolio_forest_rows,
    portfolio_rows,
)
from dashboard import auth, cache, notices
from dashboard.i18n import current_language, t
from dashboard.impact_covariates import draw_covariate_choice, requested_covariates
from dashboard.safe_text import md_literal
from dashboard.widgets import (
    horizon_option,
    show_figure,
    show_table,
    show_tabs,
    small_sample_note,
)

filters = st.session_state["filters"]
language = current_language()
ESTIMATE_FORMATS = {"estimate": "%.2f", "lower": "%.2f", "upper": "%.2f", "p": "%.3f"}

st.title(t("Impact"))
st.caption(t("Participants compared with similar people released from the same facilities in "
             "the same period who did not take part. The sidebar selection limits the "
             "releases the comparison starts from; the outcome decides which events count."))

subjects = cache.run_view(impact_subjects, filters)
if not subjects:
    st.info(t("There is no programme to evaluate here."))
    st.stop()
left, right = st.columns([3, 1])
# Labels are looked up now, in this run's language: Streamlit may call format_func later.
subject_labels = {s: subject_label(s, language) for s in subjects}
if "impact-subject" not in st.session_state and subjects:
    # The link's ?program= (or project, funder), else the programme with most participants.
    linked, unknown = linked_subject(subjects, st.query_params.to_dict())
    if unknown and filters.scope.limits_programs:  # a donor: not even "not in the data"
        for rejection in unknown:  # the next run opens on the donor's own programme
            st.query_params.pop(rejection.field, None)
        auth.record("access_refused", link={r.field: r.value for r in unknown})
        notices.refuse_out_of_reach(unknown)
    opened = linked or cache.run_view(default_subject, filters)
    st.session_state["impact-subject"] = opened
    notices.report(replace(r, used=subject_labels.get(opened)) for r in unknown)
subject = left.selectbox(t("Programme, project or funder"), subjects, key="impact-subject",
                         format_func=lambda s: subject_labels.get(s, s))
for kind in SUBJECT_KINDS:  # the subject travels in the URL, so a link opens on it
    if subject is not None and kind == subject.kind:
        if st.query_params.get(kind) != subject.value:
            st.query_params[kind] = subject.value
    else:
        st.query_params.pop(kind, None)
# Labels are looked up now, in this run's language: Streamlit may call format_func later.
horizons = {d: horizon_option(d) for d in DEFAULT_HORIZONS}
horizon = right.selectbox(t("Horizon"), tuple(horizons), key="impact-horizon",
                          format_func=horizons.get)
choice = {"kind": subject.kind, "value": subject.value, "horizon_days": horizon}
# The adjustment set (dashboard/impact_covariates.py): its place is kept here, above the
# results; it is drawn once the evaluation has said what the default set is.
covariate_slot = st.container()
covariate_names = cache.run_view(impact_covariates, filters)
evaluated_subject = (subject.kind, subject.value, horizon)
adjusted = requested_covariates(covariate_names, evaluated_subject)
# One view computes the matched and the weighted results: they share the cohort and the
# propensity model, most of the work on a large database. It holds numbers and codes
# (one stored result for every language); the words are written here.
evaluated = cache.run_view(impact_page, filters, **choice, **adjusted)
result = evaluated.primary
draw_covariate_choice(covariate_slot, covariate_names, evaluated_subject, result, adjusted)

# A project or funder: each of its programmes on its own too (computed when asked: one
# evaluation per programme), before the pooled result, which may not exist.
if subject.kind != "program" and st.toggle(t("Each programme on its own"),
                                           key="impact-portfolio-on"):
    portfolio = cache.run_view(impact_portfolio, filters, **choice)
    if portfolio.error:
        st.warning(md_literal(portfolio.error), icon=":material/info:")
    else:
        st.caption(t("Every programme of {name}, evaluated on its own: one row and one "
                     "forest-plot line each, with its verdict under the reporting rules and "
                     "its cost per reoffence avoided.", name=md_literal(subject.value)))
        show_table(portfolio_rows(portfolio, language), key="impact-portfolio",
                   formats={t("Participants who reoffended"): "percent",
                            t("Comparison who reoffended"): "percent"})
        show_figure(forest_plot(portfolio_forest_rows(portfolio, language), language=language,
                                title=t("Hazard ratio of each programme (95% CI)")),
                    key="impact-portfolio-forest")
        name = f"portfolio-{subject.kind}-{subject.value}-{horizon}d-{language}".replace(" ", "-")
        html_column, pdf_column = st.columns(2)
        html_column.download_button(
            t("Download the portfolio report (HTML)"), file_name=f"{name}.html",
            data=auth.deferred(lambda: portfolio_document(portfolio, language), "report",
                               subject=choice, format="html", language=language,
                               portfolio=True), mime="text/html",
            key="impact-portfolio-html", icon=":material/download:", on_click="ignore")
        pdf_column.download_button(
            t("Download the portfolio report (PDF)"), file_name=f"{name}.pdf",
            data=auth.deferred(lambda: portfolio_document(portfolio, language, pdf=True),
                               "report", subject=choice, format="pdf", language=language,
                               portfolio=True),
            mime="application/pdf", key="impact-portfolio-pdf", on_click="ignore",
            icon=":material/picture_as_pdf:", disabled=pdf_unavailable() is not None,
            help=t("The PDF needs Chromium and the Python package playwright on the machine "
                   "that serves the dashboard (see docs/impact.md).")
            if pdf_unavailable() else None)

if not result.ok:
    st.warning(md_literal(result.error), icon=":material/info:")
    st.stop()

# Programme, project and funder names come from the data: every sentence that quotes
# them is shown as text (a name like "![t](http://elsewhere/x.png)" stays those characters).
st.subheader(t("Impact of {label}", label=md_literal(result.label)))
st.markdown(f"### {md_literal(headline_text(result.headline, language))}")
verdict = (t("Reportable") if result.reportable else t("Not reportable")) + " · " + (
    t("statistically significant") if result.significant
    else t("not statistically significant"))
st.markdown(t("**Honesty rules:** {verdict}.", verdict=verdict))
for reason in reason_texts(result.verdict, language):
    st.warning(md_literal(reason), icon=":material/rule:")
if result.small_sample:
    small_sample_note(0, t("the numbers of this comparison"))

# The reports first: what a donor takes away, whichever tab is open.
report_name = f"impact-{subject.value}-{horizon}d-{language}".replace(" ", "-")
html_column, pdf_column = st.columns(2)
html_column.download_button(
    t("Download the offline report (HTML)"),
    data=auth.deferred(cache.later(impact_report, filters, **choice, **adjusted,
                                   language=language),
                       "report", subject=choice, format="html", language=language),
    file_name=f"{report_name}.html",
    mime="text/html", key="impact-report", icon=":material/download:", on_click="ignore",
)
pdf_column.download_button(  # the same report, A4 with static charts, for a board meeting
    t("Download the report (PDF)"),
    data=auth.deferred(cache.later(impact_report_pdf, filters, **choice, **adjusted,
                                   language=language),
                       "report", subject=choice, format="pdf", language=language),
    file_name=f"{report_name}.pdf", mime="application/pdf", key="impact-report-pdf",
    icon=":material/picture_as_pdf:", on_click="ignore",
    disabled=pdf_unavailable() is not None,
    help=t("The PDF needs Chromium and the Python package playwright on the machine that "
           "serves the dashboard (see docs/impact.md).") if pdf_unavailable() else None,
)


def rates_and_cost() -> None:
    if result.reportable:
        show_table(result.rates, key="impact-rates", formats=RATE_FORMATS, coded=("group",),
                   caption=t("Share reoffended within {days} days since release (Kaplan–Meier, "
                             "95% CI); mean days free of reoffending up to the horizon.",
                             days=result.horizon_days))
        show_table(result.estimates, key="impact-estimates",
                   caption=t("Estimates with 95% CI."), formats=ESTIMATE_FORMATS)
        show_figure(step_curves(result.curves, value="recidivism", time_unit="months",
                                series_codes=True, language=language,
                                title=t("Share reoffended since release")), key="impact-curves")
        st.caption(t("Curves stop where fewer than {k} people remain at risk.", k=filters.min_cell))

    st.subheader(t("Cost per reoffence avoided"))
    if result.cost is not None:
        st.markdown(md_literal(cost_text(result.cost, language)))
    elif result.reportable:
        st.info(t("No cost is recorded for this programme (or costs are in several currencies)."))
    else:
        st.info(t("No cost-effectiveness can be given without a reportable result."))


def who_was_compared() -> None:
    st.subheader(t("Who was compared"))
    show_table(attrition_rows(result, language), key="impact-attrition",
               caption=t("From every release to the compared sample, with the reasons for "
                         "exclusion."))
    for note in note_texts(result.notes, language):
        st.caption(md_literal(note))


def balance_and_overlap() -> None:
    st.subheader(t("Balance and overlap"))
    balance = balance_rows(result, language)  # covariates in words, as in the offline report
    columns = st.columns(2)
    with columns[0]:
        show_figure(balance_plot(balance, language=language), key="impact-balance")
    with columns[1]:
        show_figure(overlap_plot(result.overlap, language=language), key="impact-overlap")
    st.caption(t("Score bins holding fewer than {k} people of a group are not drawn.",
                 k=filters.min_cell))
    if result.adjustment is not None:  # covariate names are data: shown as text
        for line in result.adjustment.describe(language, worded=True):
            st.caption(md_literal(line))
    show_table(balance.round(3), key="impact-balance-table")


def weighting_sensitivity() -> None:
    st.subheader(t("Sensitivity: inverse-probability weighting"))
    weighted = evaluated.sensitivity
    if weighted.error:
        st.warning(md_literal(weighted.error))
    else:
        st.markdown(md_literal(headline_text(weighted.headline, language)))
        if weighted.reportable:
            show_table(weighted.estimates, key="impact-sensitivity",
                       formats=ESTIMATE_FORMATS,
                       caption=t("The same comparison, weighting every eligible release "
                                 "instead of matching one to one."))


def planning_aid() -> None:
    st.subheader(t("Planning aid: what could an evaluation detect?"))
    with st.form("impact-planning"):
        cols = st.columns(3)
        planned = cols[0].number_input(t("Participants with follow-up"), min_value=10,
                                       max_value=1_000_000, value=200, step=10)
        default_rate = round(result.comparison_rate or 0.35, 2)
        base = cols[1].number_input(t("Reoffending without the programme"), min_value=0.01,
                                    max_value=0.99, value=max(0.01, min(0.99, default_rate)),
                                    step=0.01, format="%.2f")
        ratio = cols[2].number_input(t("Comparison people per participant"), min_value=0.5,
                                     max_value=10.0, value=1.0, step=0.5)
        st.form_submit_button(t("Compute"))
    aid = cache.run_view(planning, filters, participants=int(planned),
                         base_rate=float(base), comparison_ratio=float(ratio))
    st.info(md_literal(aid.sentence(language)), icon=":material/calculate:")


# One section at a time (three of them draw charts): the page runs again, from the cache,
# when the reader opens another tab.
show_tabs("impact-tab", [("result", t("Result"), rates_and_cost),
                         ("compared", t("Who was compared"), who_was_compared),
                         ("balance", t("Balance and overlap"), balance_and_overlap),
                         ("sensitivity", t("Sensitivity"), weighting_sensitivity),
                         ("planning", t("Planning aid"), planning_aid)])
