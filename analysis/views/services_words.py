"""The Services and coverage page's results in words: tables with headers in the
reader's language (numbers stay numbers, for the downloads) and the sentences around them.

The views (:mod:`analysis.views.services`) hold numbers and codes; everything here is
rendered at the edge, through the catalogs. Region and provider names come from the
data: they stay as they are (a table cell is text; Markdown contexts escape them).

Examples
--------
>>> service_type_name("drug_treatment", "fr"), gap_text("no_service", "en")
('traitement des addictions', 'no service')
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analysis.charts.services import capacity_demand_plot, funnel_plot, gaps_map
from analysis.i18n import N_, translator
from analysis.impact.wording import SECONDARY_LABEL

# The guide's words for the contract's codes: the page and the printed guide say the same.
from analysis.services.guide_html import (
    PROVIDER_KIND_WORDS,
    SERVICE_TYPE_WORDS,
    SEX_SERVED_WORDS,
)
from analysis.services.vocabulary import NEEDS
from analysis.views.services import ServicesCoverage, ServicesFollowThrough, nan_if_label

#: Need code -> its words (analysis.services.vocabulary.NEEDS).
NEED_WORDS: dict[str, str] = {
    "drug_offence": N_("drug offence"),
    "women": N_("women"),
    "under_25": N_("under 25"),
}
#: Gap reason -> its words (analysis.services.vocabulary.GAP_REASONS).
GAP_WORDS: dict[str, str] = {
    "no_service": N_("no service"),
    "capacity_below_demand": N_("capacity below demand"),
    "none_for_women": N_("none for women"),
}


def service_type_name(code: str, language: str = "en") -> str:
    """A service type in words (an unknown code as it is)."""
    words = SERVICE_TYPE_WORDS.get(str(code))
    return translator(language)(words) if words else str(code)


def gap_text(reason: str, language: str = "en") -> str:
    """A gap's reason in words."""
    words = GAP_WORDS.get(str(reason))
    return translator(language)(words) if words else str(reason)


def _cell(value: object, language: str) -> object:
    """A count as it is, the hidden code in words, a label ("<10") as it is."""
    if value == SECONDARY_LABEL:
        return translator(language)("hidden")
    return value


def _whole(value: object) -> object:
    """A count as a whole number (not the float a column with an unknown holds), an
    unknown (None, NaN) as None, a label ("<10") as it is."""
    if value is None or isinstance(value, str):
        return value
    number = float(value)  # type: ignore[arg-type]
    return None if number != number else int(number)


def _gaps_cell(gaps, language: str) -> str:
    return "; ".join(f"{service_type_name(t, language)}: {gap_text(r, language)}"
                     for t, r in gaps)


def coverage_rows(result: ServicesCoverage, language: str = "en") -> pd.DataFrame:
    """One row per region: releases, upcoming releases, each need (count and share),
    how many service types are offered, and the gaps in words."""
    tr = translator(language)
    table = result.regions_table
    columns: dict[str, object] = {
        tr("Release region"): table["region"].astype(str).tolist(),
        tr("Releases in the last 12 months"): [_cell(v, language) for v in table["releases_12m"]],
        tr("Expected releases in the next 12 months"): [
            _cell(v, language) for v in table["upcoming_releases"]],
    }
    for need in NEEDS:
        name = tr(NEED_WORDS[need])
        columns[tr("Releases: {need}", need=name)] = [_cell(v, language) for v in table[need]]
        columns[tr("Share: {need}", need=name)] = table[f"{need}_share"].astype(float).tolist()
    columns[tr("Service types offered")] = table["service_types"].astype("int64").tolist()
    columns[tr("Gaps")] = [_gaps_cell(g, language) for g in table["gaps"]]
    return pd.DataFrame(columns)


def coverage_formats(language: str = "en") -> dict[str, str]:
    """Screen formats of :func:`coverage_rows`: the shares as percentages."""
    tr = translator(language)
    return {tr("Share: {need}", need=tr(NEED_WORDS[need])): "percent" for need in NEEDS}


def supply_rows(result: ServicesCoverage, region: str, service_type: str = "",
                language: str = "en") -> pd.DataFrame:
    """The services of one region by type: providers, services, places a year, whether
    women are served, the demand (releases with the type's need) and the gap."""
    tr = translator(language)
    supply = result.supply[result.supply["region"] == region]
    if service_type:
        supply = supply[supply["service_type"] == service_type]
    gaps = result.gaps[result.gaps["region"] == region]
    reasons = {t: "; ".join(gap_text(r, language) for r in part["reason"])
               for t, part in gaps.groupby("service_type")}
    return pd.DataFrame({
        tr("Service type"): [service_type_name(t, language) for t in supply["service_type"]],
        tr("Providers"): supply["providers"].astype("int64").tolist(),
        tr("Services"): supply["services"].astype("int64").tolist(),
        # An unknown is a word, not an empty cell: a column of whole numbers with a gap
        # would be read as floats and written 127.000.
        tr("Places a year"): [tr("unknown") if _whole(v) is None else _whole(v)
                              for v in supply["capacity"]],
        tr("Open to women"): [tr("yes") if w else tr("no") for w in supply["serves_women"]],
        tr("Demand: releases with the need"): [
            "" if _whole(v) is None else _cell(_whole(v), language) for v in supply["demand"]],
        tr("Gap"): [reasons.get(t, "") for t in supply["service_type"]],
    })


def _word(words: dict[str, str], code: object, language: str) -> str:
    text = words.get(str(code))
    return translator(language)(text) if text else ("" if code is None else str(code))


def directory_rows(directory: pd.DataFrame, service_type: str = "",
                   language: str = "en") -> pd.DataFrame:
    """The services of a region (of ``service_type``, or all) with their provider, in
    words (names, contacts and languages from the data as they are)."""
    tr = translator(language)
    if service_type:
        directory = directory[directory["service_type"] == service_type]

    # cells may be None, NaN or pandas' NA (a nullable integer column): all mean empty
    def text(values) -> list[str]:
        return ["" if pd.isna(v) else str(v) for v in values]

    def day(values) -> list[str]:
        return ["" if pd.isna(v) else pd.Timestamp(v).date().isoformat() for v in values]

    return pd.DataFrame({
        tr("Service type"): [service_type_name(t, language) for t in directory["service_type"]],
        tr("Service"): text(directory["service"]),
        tr("Provider"): text(directory["provider"]),
        tr("Kind"): [_word(PROVIDER_KIND_WORDS, k, language) for k in directory["kind"]],
        tr("Serves"): [_word(SEX_SERVED_WORDS, s, language) for s in directory["sex_served"]],
        tr("Languages"): text(directory["languages"]),
        tr("Places a year"): [None if pd.isna(v) else int(v) for v in directory["capacity"]],
        tr("Valid from"): day(directory["valid_from"]),
        tr("Valid to"): day(directory["valid_to"]),
        tr("Every region"): [tr("yes") if not pd.isna(v) and v else tr("no")
                             for v in directory["national"]],
        tr("Phone"): text(directory["phone"]),
        tr("Email"): text(directory["email"]),
        tr("Website"): text(directory["website"]),
    })


def women_rows(result: ServicesCoverage, language: str = "en") -> pd.DataFrame:
    """Per region: women released in the last 12 months, the service types open to
    women, and the types offered to men only."""
    tr = translator(language)
    rows = []
    for line in result.regions_table.itertuples(index=False):
        supply = result.supply[(result.supply["region"] == line.region)
                               & (result.supply["services"] > 0)]
        open_to = [service_type_name(t, language)
                   for t, w in zip(supply["service_type"], supply["serves_women"], strict=True)
                   if w]
        men_only = [service_type_name(t, language)
                    for t, w in zip(supply["service_type"], supply["serves_women"], strict=True)
                    if not w]
        rows.append({tr("Release region"): str(line.region),
                     tr("Women released in the last 12 months"): _cell(line.women, language),
                     tr("Service types open to women"): len(open_to),
                     tr("Offered to men only"): ", ".join(men_only)})
    return pd.DataFrame(rows, columns=[tr("Release region"),
                                       tr("Women released in the last 12 months"),
                                       tr("Service types open to women"),
                                       tr("Offered to men only")])


def follow_rows(result: ServicesFollowThrough, region: str = "", service_type: str = "",
                language: str = "en") -> pd.DataFrame:
    """The follow-through funnel: per service type and region, referred, reached
    (attended or completed), completed, declined, not available, the shares reached and
    completed, people, the median days from release to first contact and the people
    reached within 30 days of release."""
    tr = translator(language)
    rows = result.rows
    if region:
        rows = rows[rows["region"] == region]
    if service_type:
        rows = rows[rows["service_type"] == service_type]
    return pd.DataFrame({
        tr("Service type"): [service_type_name(t, language) for t in rows["service_type"]],
        tr("Release region"): rows["region"].astype(str).tolist(),
        tr("Referred"): [_cell(v, language) for v in rows["referred"]],
        tr("Reached (attended or completed)"): [_cell(v, language) for v in rows["attended"]],
        tr("Completed"): [_cell(v, language) for v in rows["completed"]],
        tr("Declined"): [_cell(v, language) for v in rows["declined"]],
        tr("Not available"): [_cell(v, language) for v in rows["not_available"]],
        tr("Share reached"): rows["attended_share"].astype(float).tolist(),
        tr("Share completed"): rows["completed_share"].astype(float).tolist(),
        tr("People referred"): [_cell(v, language) for v in rows["people"]],
        tr("Median days from release to first contact"):
            rows["median_days_to_contact"].astype(float).tolist(),
        tr("Reached within 30 days of release"): [
            _cell(v, language) for v in rows["contact_within_30"]],
    })


def follow_formats(language: str = "en") -> dict[str, str]:
    """Screen formats of :func:`follow_rows`."""
    tr = translator(language)
    return {tr("Share reached"): "percent", tr("Share completed"): "percent",
            tr("Median days from release to first contact"): "%.0f"}


def comparison_caveats(service_type: str, language: str = "en") -> list[str]:
    """What the reoffending comparison of people who reached a service cannot say."""
    tr = translator(language)
    what = (tr("a service of the type {type}", type=service_type_name(service_type, language))
            if service_type else tr("any service"))
    return [
        tr("People who reached {what} are compared with similar people released from the "
           "same facilities in the same period who had not (yet) reached one. Reaching a "
           "service is not random: those who get there may differ in ways the records do "
           "not hold (motivation, family, a place to live), so the difference is not "
           "proof that the service caused it.", what=what),
        tr("Reaching a service counts from the first contact, or from the referral date "
           "when no first contact is recorded; only referrals attended or completed count. "
           "Time before it counts as not reached, so nobody's time is credited to a "
           "service before they reached it."),
    ]


# ------------------------------------------------------------------ charts

def capacity_figure(result: ServicesCoverage, region: str, service_type: str = "",
                    language: str = "en") -> go.Figure:
    """Places a year against demand per service type in ``region`` (a hidden demand,
    or a type without a need proxy, has no demand bar)."""
    tr = translator(language)
    supply = result.supply[result.supply["region"] == region]
    if service_type:
        supply = supply[supply["service_type"] == service_type]
    frame = pd.DataFrame({
        "service_type": [service_type_name(t, language) for t in supply["service_type"]],
        "capacity": nan_if_label(supply["capacity"]),
        "demand": nan_if_label(supply["demand"])})
    return capacity_demand_plot(frame, language=language, title=tr(
        "Places a year against demand in {region}", region=region))


def funnel_figure(result: ServicesFollowThrough, region: str, service_type: str = "",
                  language: str = "en") -> go.Figure:
    """Referred, reached and completed per service type in ``region``."""
    tr = translator(language)
    rows = result.rows[result.rows["region"] == region]
    if service_type:
        rows = rows[rows["service_type"] == service_type]
    frame = pd.DataFrame({
        "service_type": [service_type_name(t, language) for t in rows["service_type"]],
        **{name: nan_if_label(rows[name]) for name in ("referred", "attended", "completed")}})
    return funnel_plot(frame, language=language, title=tr(
        "From referral to completion in {region}", region=region))


def map_figure(result: ServicesCoverage, service_type: str = "",
               language: str = "en") -> go.Figure:
    """The regions' outlines, each filled by its number of gaps (of ``service_type``
    only, when one is chosen)."""
    tr = translator(language)
    counts = pd.Series({str(r): sum(1 for t, _ in g if not service_type or t == service_type)
                        for r, g in zip(result.regions_table["region"],
                                        result.regions_table["gaps"], strict=True)},
                       dtype="int64")
    title = (tr("Gaps in {type} by region, as of {date}",
                type=service_type_name(service_type, language), date=result.as_of.isoformat())
             if service_type else
             tr("Gaps by region, as of {date}", date=result.as_of.isoformat()))
    return gaps_map(result.boundaries, counts, language=language, title=title)
