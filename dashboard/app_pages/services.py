"""Services and coverage: what exists in each region, what is missing, how many released
people reached a service, and how their reoffending compares (honestly caveated)."""

import streamlit as st

from analysis.views.impact import (
    RATE_FORMATS,
    attrition_rows,
    headline_text,
    note_texts,
    reason_texts,
)
from analysis.views.services import (
    region_detail,
    services_comparison,
    services_coverage_view,
    services_follow_through,
    services_span,
)
from analysis.views.services_directory import services_directory
from analysis.views.services_link import ServicesChoice
from analysis.views.services_words import (
    capacity_figure,
    comparison_caveats,
    coverage_formats,
    coverage_rows,
    directory_rows,
    follow_formats,
    follow_rows,
    funnel_figure,
    map_figure,
    supply_rows,
    women_rows,
)
from dashboard import cache
from dashboard.i18n import current_language, t
from dashboard.safe_text import md_literal
from dashboard.services_inputs import follow_in_url, region_choice, type_and_date
from dashboard.widgets import show_figure, show_table, show_tabs, small_sample_note

filters = st.session_state["filters"]
language = current_language()

st.title(t("Services and coverage"))
st.caption(t("For planners and the organisations that help people after release: which "
             "services exist in each release region, what is missing, how many released "
             "people reached a service, and how their reoffending compares. Each number is "
             "defined in docs/services.md."))

span = cache.run_view(services_span, filters)
region_column, type_column, date_column = st.columns([2, 2, 1])
service_type, as_of = type_and_date(span, type_column, date_column)
coverage = cache.run_view(services_coverage_view, filters, as_of=as_of)
region = region_choice(coverage.regions, region_column)
detail = region_detail(coverage.regions_table, region)
follow_in_url(ServicesChoice(region, service_type, as_of), coverage.regions[0]
              if coverage.regions else "")

if not coverage.has_services:
    st.info(t("No services are recorded in this database yet. To describe them, add "
              "providers.csv and services.csv to the dataset folder (and referrals.csv for "
              "referral follow-through, regions.geojson for a map), then import it again: "
              "see docs/data-contract.md."), icon=":material/info:")

def coverage_by_region() -> None:
    st.subheader(t("Coverage by region"))
    st.caption(t("As of {date}: releases in the 12 months up to it, expected releases in the 12 "
                 "months after it, the share with each need (a drug offence, women, under 25), "
                 "how many service types are offered, and the gaps: a type with no service, "
                 "capacity below the releases with its need, or a type offered to men only "
                 "where women are released. Counts of fewer than {k} people read {label}, and "
                 "a number that would reveal one is hidden.", date=coverage.as_of.isoformat(),
                 k=filters.min_cell, label=coverage.suppressed_label))
    show_table(coverage_rows(coverage, language), key="services-coverage",
               formats=coverage_formats(language), title=t("Coverage by region"))
    if coverage.has_boundaries:
        show_figure(map_figure(coverage, service_type, language), key="services-map")


def services_in_region() -> None:
    if not coverage.has_services:
        return  # said above the tabs
    if detail is None:
        st.info(t("Choose a region above to see its services."), icon=":material/info:")
        return
    st.subheader(t("Services in {region}", region=md_literal(detail)))
    st.caption(t("Places a year against demand (the releases of the last 12 months with the "
                 "service's need) for the types compared with a need; a hidden demand has "
                 "no bar. A service in several regions shares its places evenly between "
                 "them."))
    show_figure(capacity_figure(coverage, detail, service_type, language),
                key="services-capacity")
    show_table(supply_rows(coverage, detail, service_type, language), key="services-supply",
               title=t("Services in {region}", region=detail))
    st.markdown("#### " + t("Who offers them"))
    directory = cache.run_view(services_directory, filters, region=detail, as_of=as_of)
    show_table(directory_rows(directory, service_type, language), key="services-directory",
               title=t("Who offers them"))


def services_for_women() -> None:
    if not coverage.has_services:
        return  # said above the tabs
    st.subheader(t("Services for women"))
    st.caption(t("Women released in the last 12 months in each region, how many service "
                 "types are open to women there, and the types offered to men only."))
    show_table(women_rows(coverage, language), key="services-women",
               title=t("Services for women"))


def referral_follow_through() -> None:
    follow = cache.run_view(services_follow_through, filters)
    st.subheader(t("Referral follow-through"))
    if not len(follow.rows):
        no_referrals()
    else:
        st.caption(t("Referred, then reached (attended or completed), completed, declined or "
                     "not available, by service type and release region; the median days from "
                     "release to first contact, and how many were reached within 30 days of "
                     "release: risk is highest just after release. Counts of fewer than {k} "
                     "people read {label}, and a count that would reveal one is hidden.",
                     k=filters.min_cell, label=follow.suppressed_label))
        if detail is not None:
            show_figure(funnel_figure(follow, detail, service_type, language),
                        key="services-funnel")
        show_table(follow_rows(follow, "", service_type, language), key="services-follow",
                   formats=follow_formats(language), title=t("Referral follow-through"))


def reoffending_compared() -> None:
    if not has_referral_rows():
        no_referrals()
        return
    st.subheader(t("Reoffending of those who reached a service"))
    result = cache.run_view(services_comparison, filters, service_type=service_type)
    for caveat in comparison_caveats(service_type, language):
        st.caption(md_literal(caveat))
    if not result.ok:
        st.warning(md_literal(result.error), icon=":material/info:")
        st.stop()
    st.markdown(f"### {md_literal(headline_text(result.headline, language))}")
    verdict = (t("Reportable") if result.reportable else t("Not reportable")) + " · " + (
        t("statistically significant") if result.significant
        else t("not statistically significant"))
    st.markdown(t("**Honesty rules:** {verdict}.", verdict=verdict))
    for reason in reason_texts(result.verdict, language):
        st.warning(md_literal(reason), icon=":material/rule:")
    if result.small_sample:
        small_sample_note(0, t("the numbers of this comparison"))
    for note in note_texts(result.notes, language):
        st.caption(md_literal(note))
    if result.reportable:
        show_table(result.rates, key="services-rates", formats=RATE_FORMATS,
                   coded=("group",),
                   caption=t("Share reoffended within {days} days since release "
                             "(Kaplan–Meier, 95% CI); mean days free of reoffending up to "
                             "the horizon.", days=result.horizon_days))
    show_table(attrition_rows(result, language), key="services-attrition",
               caption=t("From every release to the compared sample, with the reasons for "
                         "exclusion."))


def has_referral_rows() -> bool:
    return bool(len(cache.run_view(services_follow_through, filters).rows))


def no_referrals() -> None:
    st.info(t("No referrals are recorded for this selection. Add referrals.csv (who was "
              "referred to which service, when, and how far they got) to the dataset folder "
              "and import it again to follow them through."), icon=":material/info:")


# One section at a time (most draw a chart): the page runs again, from the cache, when
# the reader opens another tab.
show_tabs("services-tab", [("coverage", t("Coverage by region"), coverage_by_region),
                           ("region", t("Services in the region"), services_in_region),
                           ("women", t("Services for women"), services_for_women),
                           ("referrals", t("Referral follow-through"), referral_follow_through),
                           ("comparison", t("Reoffending compared"), reoffending_compared)])
