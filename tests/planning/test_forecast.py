"""The forecast on fixtures worked by hand, the SQL inputs against an oracle, and the
disclosure of its counts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analysis.disclosure import DisclosurePolicy
from analysis.errors import AnalysisError
from analysis.planning.forecast import add_months, check_months
from analysis.study import Study
from analysis.survival.episodes import Outcome, Selection
from analysis.survival.forecast_inputs import history_counts
from analysis.survival.grouping import Grouping
from tests.survival.km_db import make_db

D = dt.date
AS_OF = D(2023, 12, 31)


def _release(rid: str, day: dt.date, **extra) -> dict:
    return {"release_id": rid, "person_id": "p" + rid, "release_date": day, **extra}


@pytest.fixture
def worked():
    """Five releases worked by hand in docs/planning.md (rearrest; as of 2023-12-31).

    r1 and r2 are rearrested on days 10 and 20, r4 dies on day 15, r3 (day 364) and r5
    (released 2023-12-21, day 10) are still at risk. The curve: F1(10) = 1/5,
    S(10) = 4/5, S(15) = 8/15, F1(20) = 1/5 + 8/15 * 1/2 = 7/15, flat after.
    """
    releases = [
        _release("1", D(2023, 1, 1)), _release("2", D(2023, 1, 1)),
        _release("3", D(2023, 1, 1)),
        _release("4", D(2023, 1, 1), follow_up_end=D(2023, 1, 16),
                 follow_up_end_reason="death"),
        _release("5", D(2023, 12, 21)),
    ]
    events = [("p1", D(2023, 1, 11), "rearrest"), ("p2", D(2023, 1, 21), "rearrest")]
    con = make_db(releases=releases, events=events)
    yield con
    con.close()


def _expected(con, days: int, **options) -> float:
    fitted = Study(con, outcome="rearrest").forecast(months=(3,), backtest=False, **options)
    return float(fitted.table["expected"].iloc[0])


def test_the_worked_example_gives_one_third_for_the_person_released_ten_days_ago(worked):
    fitted = Study(worked, outcome="rearrest").forecast(months=(3, 12), backtest=False)
    # r3 is past every event day (probability 0); r5, 10 days out: (7/15 - 1/5) / (4/5)
    assert fitted.as_of == AS_OF
    assert fitted.groups.to_dict("records") == [
        {"group": "all", "at_risk": 2, "upcoming_releases": 0, "pooled_curve": False}]
    assert fitted.table["expected"].tolist() == pytest.approx([1 / 3, 1 / 3], abs=1e-12)
    assert fitted.table["days"].tolist() == [91, 366]
    assert (fitted.table["lower"] == 0).all() and (fitted.table["upper"] == 1).all()


def test_an_upcoming_release_adds_the_curve_up_to_the_end_of_the_window(worked):
    # p9 is expected on 2024-01-11 (and, sent again later, on 2024-03-01: counted once);
    # p7's date lies before the as-of date: not upcoming
    worked.execute("INSERT INTO expected_releases (person_id, expected_release_date, "
                   "facility, batch_id) VALUES ('p9', DATE '2024-01-11', 'North', 'b'), "
                   "('p9', DATE '2024-03-01', 'North', 'b'), "
                   "('p7', DATE '2023-12-01', 'North', 'b'), "
                   "('p8', DATE '2024-06-01', 'North', 'b')")
    fitted = Study(worked, outcome="rearrest").forecast(months=(3, 12), backtest=False)
    three, twelve = fitted.table.to_dict("records")
    # released on day 11 after the as-of date: F1(91 - 11) = 7/15 within 3 months
    assert three["expected_upcoming"] == pytest.approx(7 / 15, abs=1e-12)
    assert three["expected"] == pytest.approx(1 / 3 + 7 / 15, abs=1e-12)
    # within 12 months both upcoming releases count, each with F1 = 7/15
    assert twelve["expected_upcoming"] == pytest.approx(14 / 15, abs=1e-12)
    assert fitted.groups["upcoming_releases"].tolist() == [2]


def test_events_after_the_as_of_date_are_never_used_to_fit(worked):
    before = _expected(worked, 91)
    # a rearrest of r3 in 2024 (after the as-of date) must not change the forecast
    worked.execute("INSERT INTO events VALUES ('p3', DATE '2024-02-01', 'rearrest', NULL, 'b')")
    worked.execute("UPDATE releases SET follow_up_end = DATE '2024-06-30'")
    from analysis.survival.follow_up import prepare_for_analysis
    prepare_for_analysis(worked, "b")
    assert _expected(worked, 91, as_of=AS_OF) == pytest.approx(before, abs=1e-12)


def test_an_as_of_date_outside_the_data_is_refused_with_the_data_s_span(worked):
    with pytest.raises(AnalysisError, match="outside the data, which runs from 2023-01-01 "
                                            "to 2023-12-31"):
        Study(worked, outcome="rearrest").forecast(as_of=D(2024, 3, 1))


def test_a_breakdown_upcoming_releases_cannot_have_is_refused(worked):
    with pytest.raises(AnalysisError, match="not release_year"):
        Study(worked, outcome="rearrest").forecast(by="release_year")


@pytest.mark.parametrize("months", [[], [0], [61], [3, 100]])
def test_months_outside_1_to_60_are_refused(months):
    with pytest.raises(AnalysisError, match="from 1 to 60"):
        check_months(months)


def test_add_months_keeps_the_day_or_takes_the_month_s_last():
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2024, 3, 31), -13) == D(2023, 2, 28)


# --- the SQL inputs against the rules written in pandas --------------------------------


def _oracle(episodes: pd.DataFrame, as_of: dt.date, window_from: dt.date | None):
    """The history the forecast reads, computed from one row per episode."""
    since = (pd.Timestamp(as_of) - pd.to_datetime(episodes["release_date"])).dt.days
    kept = episodes[pd.to_datetime(episodes["release_date"]) <= pd.Timestamp(as_of)].copy()
    since = since[kept.index]
    entry = 0 if window_from is None else (
        (pd.Timestamp(window_from) - pd.to_datetime(kept["release_date"])).dt.days.clip(lower=0))
    kept["t"] = np.minimum(kept["time"], since)
    kept["e"] = entry
    ended = kept["time"] <= since
    competing = (kept["cause"] == 2) | kept["end_reason"].isin(["next_release", "reincarceration"])
    kept["c"] = np.where(~ended, 0, np.where(kept["cause"] == 1, 1, np.where(competing, 2, 0)))
    kept["at_risk"] = (kept["time"] > since) | (
        (kept["time"] == since) & (kept["cause"] == 0) & (kept["end_reason"] == "follow_up_end"))
    kept = kept[(kept["e"] == 0) | (kept["t"] > kept["e"])]
    exits = kept.groupby(["t", "c", "at_risk"]).size().rename("n").reset_index()
    entries = kept[kept["e"] > 0].groupby("e").size().rename("n").reset_index()
    return exits.sort_values(["t", "c", "at_risk"]).reset_index(drop=True), entries


@pytest.mark.parametrize("window", [None, D(2021, 6, 30)])
def test_history_counts_follow_the_rules_on_the_demo(demo_db, window):
    import duckdb

    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        outcome = Outcome.named("rearrest")
        as_of = D(2023, 6, 30)
        exits, entries, _ = history_counts(con, Grouping(None), outcome, Selection(), as_of,
                                           window)
        study = Study(con, outcome=outcome)
        want_exits, want_entries = _oracle(study.episodes(), as_of, window)
        got = (exits.groupby(["t", "c", "at_risk"])["n"].sum().reset_index()
               .sort_values(["t", "c", "at_risk"]).reset_index(drop=True))
        pd.testing.assert_frame_equal(got, want_exits, check_dtype=False)
        got_entries = entries.groupby("e")["n"].sum().reset_index()
        pd.testing.assert_frame_equal(got_entries.reset_index(drop=True),
                                      want_entries.reset_index(drop=True), check_dtype=False)
    finally:
        con.close()


# --- disclosure -------------------------------------------------------------------------


def test_a_small_group_s_counts_and_forecast_are_hidden_and_cannot_be_subtracted(worked):
    fitted = Study(worked, outcome="rearrest").forecast(months=(3,), by="sex",
                                                        backtest=False)
    shown = fitted.as_dict(DisclosurePolicy(k=10))
    (group,) = shown["groups"]  # every release has an unknown sex: one group of 2
    assert group["at_risk"] is None and group["horizons"][0]["expected"] is None
    # everyone together is the same two people: withheld as well
    assert shown["total"]["at_risk"] is None and shown["total"]["horizons"][0]["expected"] is None
    assert shown["disclosure"]["hidden_values"] >= 4 + 3


def test_linked_suppression_hides_a_second_count_when_the_total_is_published():
    from analysis.planning.forecast import ForecastAnalysis

    groups = pd.DataFrame({"group": ["A", "B", "C"], "at_risk": [500, 3, 40],
                           "upcoming_releases": [0, 0, 0], "pooled_curve": False})
    table = pd.DataFrame({"group": ["A", "B", "C"], "months": 3, "days": 91,
                          "expected": [50.0, 0.3, 4.0], "expected_released": [50.0, 0.3, 4.0],
                          "expected_upcoming": 0.0, "lower": [40, 0, 1], "upper": [60, 1, 8]})
    fitted = ForecastAnalysis(D(2024, 1, 1), ("rearrest",), (3,), Grouping("sex"), groups,
                              table)
    hidden = fitted.hidden_counts(DisclosurePolicy(k=10))["at_risk"]
    # B (3) is small; with the total known, one more count must go so B cannot be solved
    assert "B" in hidden and len(hidden) == 2
    shown = fitted.as_dict(DisclosurePolicy(k=10))
    assert [g["at_risk"] is None for g in shown["groups"]].count(True) == 2
    assert fitted.withheld_groups(DisclosurePolicy(k=10)) == {"B"}
