"""The Planning page's results in words: tables with headers in the reader's language
(numbers stay numbers, for the downloads) and the sentences that say what they mean.

The views (:mod:`analysis.views.planning`, :mod:`analysis.views.planning_scenario`)
hold numbers and codes; everything here is rendered at the edge, through the catalogs.

Examples
--------
>>> import pandas as pd
>>> breakdown_name("release_region", "fr"), group_label("sex", "F", "en")
('Région de libération', 'female')
>>> coverage_text(22, 24, "en")[:62]
'The 90% intervals held the observed number in 22 of 24 cells ('
"""

from __future__ import annotations

import pandas as pd

from analysis.i18n import N_, translator
from analysis.impact.wording import SECONDARY_LABEL
from analysis.views.planning import OutcomeForecast, PlanningForecast, PlanningHazard
from analysis.views.planning_scenario import PlanningScenario
from analysis.views.terms import value_label

#: Breakdown -> its name (the group column's header).
BREAKDOWN_WORDS: dict[str, str] = {
    "release_region": N_("Release region"),
    "facility": N_("Facility"),
    "sex": N_("Sex"),
    "age_band": N_("Age band"),
    "": N_("Group"),
}
#: Outcome code -> its words in a table cell and a chart.
OUTCOME_WORDS: dict[str, str] = {
    "reoffending": N_("First reoffences"),
    "returns": N_("Returns to custody"),
}
#: Coverage of a backtest at or above which the intervals are said to be trustworthy.
TRUSTED_COVERAGE = 0.8


def breakdown_name(by: str, language: str = "en") -> str:
    """The name of a breakdown ("" is no breakdown), in ``language``."""
    return translator(language)(BREAKDOWN_WORDS[by])


def group_label(by: str, group: object, language: str = "en") -> str:
    """A group of ``by`` as shown: sex codes in words, everyone as "all releases",
    names from the data as they are."""
    if not by:
        return translator(language)("all releases")
    return str(value_label(by, str(group), language))


def _cell(value: object, language: str) -> object:
    """A count as it is, the hidden code in words, a label ("<10") as it is."""
    if value == SECONDARY_LABEL:
        return translator(language)("hidden")
    return value


def forecast_rows(result: PlanningForecast, language: str = "en") -> pd.DataFrame:
    """The forecast as one table: per group and horizon, the people at risk now and the
    upcoming releases, then the expected first reoffences and returns to custody with
    their 90% prediction limits. With a breakdown, everyone together comes first."""
    tr = translator(language)
    first = _with_total(result.reoffending)
    longest = int(first["months"].max()) if len(first) else 12
    table = pd.DataFrame({
        breakdown_name(result.by, language): [
            group_label("" if g is None else result.by, g, language) for g in first["group"]],
        tr("Months ahead"): first["months"].astype("int64"),
        tr("At risk now (released, no reoffence yet)"): [
            _cell(v, language) for v in first["at_risk"]],
        tr("Upcoming releases (next {months} months)", months=longest): [
            _cell(v, language) for v in first["upcoming_releases"]],
        tr("Expected first reoffences"): first["expected"],
        tr("First reoffences, lower 90% limit"): first["lower"],
        tr("First reoffences, upper 90% limit"): first["upper"],
    })
    if result.returns is not None:
        returns = _with_total(result.returns)
        keys = list(zip(first["group"], first["months"], strict=True))
        for header, column in ((tr("Expected returns to custody"), "expected"),
                               (tr("Returns to custody, lower 90% limit"), "lower"),
                               (tr("Returns to custody, upper 90% limit"), "upper")):
            # keyed by (group, months) in a dict: the total's group is None, which a
            # pandas index would not find again
            values = dict(zip(zip(returns["group"], returns["months"], strict=True),
                              returns[column], strict=True))
            table[header] = [values.get(key) for key in keys]
    return table


def _with_total(outcome: OutcomeForecast) -> pd.DataFrame:
    """The outcome's rows, everyone together first (group ``None``) when there is a
    breakdown."""
    if outcome.total.empty:
        return outcome.rows
    return pd.concat([outcome.total, outcome.rows], ignore_index=True)


def forecast_formats(language: str = "en") -> dict[str, str]:
    """Screen formats of :func:`forecast_rows` (expected numbers with one decimal)."""
    tr = translator(language)
    return {tr("Expected first reoffences"): "%.1f", tr("Expected returns to custody"): "%.1f",
            tr("Predicted"): "%.1f"}


def backtest_rows(result: PlanningForecast, language: str = "en") -> pd.DataFrame:
    """Both backtests as one table: predicted against observed per group and horizon."""
    tr = translator(language)
    parts = []
    for outcome in result.outcomes:
        bt = outcome.backtest
        covered = [None if v is None or v != v else tr("yes") if v else tr("no")
                   for v in bt["covered"]]
        parts.append(pd.DataFrame({
            tr("Outcome"): [tr(OUTCOME_WORDS[outcome.outcome])] * len(bt),
            breakdown_name(result.by, language): [group_label(result.by, g, language)
                                                  for g in bt["group"]],
            tr("Months ahead"): bt["months"].astype("int64"),
            tr("Predicted"): bt["predicted"].astype(float),
            tr("Lower 90% limit"): bt["lower"].astype("int64"),
            tr("Upper 90% limit"): bt["upper"].astype("int64"),
            tr("Observed"): [_cell(v, language) for v in bt["observed"]],
            tr("Inside the interval"): covered,
        }))
    return pd.concat(parts, ignore_index=True)


def coverage_text(covered: int, cells: int, language: str = "en") -> str:
    """How often the backtest's 90% intervals held what happened, and what that means.

    Examples
    --------
    >>> coverage_text(0, 0)
    'No backtest could be made: the data do not reach back far enough.'
    >>> coverage_text(10, 24)[-61:]
    'the intervals are too narrow here, so read them with caution.'
    """
    tr = translator(language)
    if cells == 0:
        return tr("No backtest could be made: the data do not reach back far enough.")
    share = covered / cells
    said = tr("The 90% intervals held the observed number in {covered} of {cells} cells "
              "({share}).", covered=tr.number(covered), cells=tr.number(cells),
              share=tr.percent(share, 0))
    meaning = (tr("That is close to the 90% they aim for: the intervals can be trusted as "
                  "ranges.") if share >= TRUSTED_COVERAGE else
               tr("That is well below the 90% they aim for: the intervals are too narrow "
                  "here, so read them with caution."))
    return f"{said} {meaning}"


def outcome_coverage_text(result: PlanningForecast, language: str = "en") -> list[str]:
    """One sentence per outcome: its words, then :func:`coverage_text`."""
    tr = translator(language)
    return [f"{tr(OUTCOME_WORDS[o.outcome])}: {coverage_text(o.covered_cells, o.shown_cells, language)}"
            for o in result.outcomes]


# ------------------------------------------------------------------ hazard

def hazard_rows(result: PlanningHazard, language: str = "en") -> pd.DataFrame:
    """The monthly life table: per group and month, the people at risk at its start,
    those who reoffended in it, and the hazard with its 95% limits."""
    tr = translator(language)
    table = result.table
    return pd.DataFrame({
        breakdown_name(result.by, language): [group_label(result.by, g, language)
                                              for g in table["group"]],
        tr("Month since release"): table["month"].astype("int64"),
        # two numbers, not "0–30": a range in text reads backwards right to left
        tr("First day since release"): table["start_day"].astype("int64"),
        tr("Last day since release"): table["end_day"].astype("int64"),
        tr("At risk at the start of the month"): [_cell(v, language)
                                                  for v in table["at_risk"]],
        tr("Reoffended in the month"): [_cell(v, language) for v in table["events"]],
        tr("Monthly hazard"): table["hazard"].astype(float),
        tr("Hazard, lower 95% limit"): table["lower"].astype(float),
        tr("Hazard, upper 95% limit"): table["upper"].astype(float),
    })


def hazard_formats(language: str = "en") -> dict[str, str]:
    """Screen formats of :func:`hazard_rows` (the hazards as percentages)."""
    tr = translator(language)
    return {tr(h): "percent" for h in ("Monthly hazard", "Hazard, lower 95% limit",
                                       "Hazard, upper 95% limit")}


def share_texts(result: PlanningHazard, language: str = "en") -> list[str]:
    """Per group, when its first-year reoffences happen, in plain words.

    Examples
    --------
    >>> shares = pd.DataFrame({"group": ["all"] * 3, "months": [1, 3, 6],
    ...                        "share": [0.2, 0.41, 0.67]})
    >>> hazard = PlanningHazard("", ("rearrest",), pd.DataFrame(), shares, (), "<10")
    >>> share_texts(hazard)[0]
    'all releases: About 4 in 10 of those who reoffend in the first year do so within 3 months. Of the first-year reoffences, 20.0% happen within 1 month, 41.0% within 3 months, 67.0% within 6 months.'
    """
    tr = translator(language)
    texts = []
    for group, part in result.shares.groupby("group", sort=False):
        shares = dict(zip(part["months"], part["share"], strict=True))
        name = group_label(result.by, group, language)
        if any(shares.get(m) is None or shares[m] != shares[m] for m in (1, 3, 6)):
            texts.append(tr("{group}: too few reoffences in the first year to say when they "
                            "happen.", group=name))
            continue
        tenths = tr("About {tenths} in 10 of those who reoffend in the first year do so "
                    "within 3 months.", tenths=tr.number(round(10 * shares[3])))
        detail = tr("Of the first-year reoffences, {one} happen within 1 month, {three} "
                    "within 3 months, {six} within 6 months.",
                    one=tr.percent(shares[1], 1), three=tr.percent(shares[3], 1),
                    six=tr.percent(shares[6], 1))
        texts.append(f"{name}: {tenths} {detail}")
    return texts


# ------------------------------------------------------------------ scenario

def scenario_rows(result: PlanningScenario, language: str = "en") -> pd.DataFrame:
    """The scenario per year: reoffences and returns avoided, prison-bed-years saved
    (each with its 90% range), and the money (in the programme's currency)."""
    tr = translator(language)
    t = result.per_year
    currency = result.payload.get("currency") or ""
    money = f" ({currency})" if currency else ""
    columns = {
        tr("Year"): "year",
        tr("Reoffences avoided"): "reoffences_avoided",
        tr("Reoffences avoided, lower 90% limit"): "lower",
        tr("Reoffences avoided, upper 90% limit"): "upper",
        tr("Returns to custody avoided"): "returns_avoided",
        tr("Returns avoided, lower 90% limit"): "returns_lower",
        tr("Returns avoided, upper 90% limit"): "returns_upper",
        tr("Prison-bed-years saved"): "bed_years_saved",
        tr("Bed-years saved, lower 90% limit"): "bed_years_lower",
        tr("Bed-years saved, upper 90% limit"): "bed_years_upper",
        tr("Programme cost") + money: "programme_cost",
        tr("Custody cost avoided") + money: "custody_cost_avoided",
        tr("Net cost") + money: "net_cost",
        tr("Net cost, lower 90% limit") + money: "net_cost_lower",
        tr("Net cost, upper 90% limit") + money: "net_cost_upper",
        tr("Cumulative net cost") + money: "cumulative_net_cost",
        tr("Probability of having broken even"): "probability_break_even",
    }
    return pd.DataFrame({header: t[code] for header, code in columns.items()})


def scenario_formats(result: PlanningScenario, language: str = "en") -> dict[str, str]:
    """Screen formats of :func:`scenario_rows`: one decimal, money whole, a percentage."""
    table = scenario_rows(result, language)
    formats = {header: "%.1f" for header in table.columns[1:10]}
    formats |= {header: "%.0f" for header in table.columns[10:16]}
    formats[table.columns[16]] = "percent"
    return formats


def _change(tr, total: dict, fewer: str, more: str, **fields) -> str:
    """``fewer`` (a number avoided, its 90% range) or, when on average the scale-up would
    add to the number, ``more`` with the figures turned round."""
    mean, lower, upper = total["mean"], total["lower"], total["upper"]
    if mean >= 0:
        return tr(fewer, mean=tr.number(mean), lower=tr.number(lower),
                  upper=tr.number(upper), **fields)
    return tr(more, mean=tr.number(-mean), lower=tr.number(-upper), upper=tr.number(-lower),
              **fields)


def scenario_headline(result: PlanningScenario, language: str = "en") -> str | None:
    """What the scale-up would change over its years, in a few sentences (``None`` when
    no figure may be given: the notes say why)."""
    tr = translator(language)
    p = result.payload
    totals = p["totals"]
    avoided, returns = totals["reoffences_avoided"], totals["returns_avoided"]
    if avoided["mean"] is None:
        return None
    texts = [_change(
        tr, avoided,
        N_("With {participants} more participants a year for {years} years: about {mean} "
           "fewer people reoffending in all (90% range {lower} to {upper})."),
        N_("With {participants} more participants a year for {years} years: about {mean} "
           "more people reoffending in all (90% range {lower} to {upper})."),
        participants=tr.number(p["participants_per_year"]), years=p["years"])]
    if returns["mean"] is not None:
        texts.append(_change(
            tr, returns,
            N_("About {mean} fewer returns to custody (90% range {lower} to {upper})."),
            N_("About {mean} more returns to custody (90% range {lower} to {upper}).")))
    probability = p["probability_benefit_exceeds_cost"]
    if probability is not None:
        texts.append(tr("Probability that the custody costs avoided exceed the programme's "
                        "cost: {probability}.", probability=tr.percent(probability, 0)))
        year = p["break_even_year"]
        texts.append(tr("On average it pays for itself by year {year}.", year=year)
                     if year is not None else
                     tr("On average it does not pay for itself within {years} years.",
                        years=p["years"]))
    return " ".join(texts)


def scenario_warning(result: PlanningScenario, language: str = "en") -> str | None:
    """The plain warning of a scenario whose effect on reoffending is not shown to be a
    reduction: not reportable or not significant (the programme may change nothing), or
    significantly more reoffending among participants."""
    tr = translator(language)
    if result.may_change_nothing:
        return tr("Scaling up {programme} may change nothing: its evaluation does not show "
                  "that it reduces reoffending. Every range below includes no change at all.",
                  programme=result.program)
    avoided = result.payload.get("totals", {}).get("reoffences_avoided", {})
    if avoided.get("mean") is not None and avoided["mean"] < 0:
        return tr("Scaling up {programme} may increase reoffending: its participants "
                  "reoffended more than similar people who did not take part.",
                  programme=result.program)
    return None
