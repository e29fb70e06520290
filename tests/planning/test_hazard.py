"""The monthly hazard: agreement with R, a hand-checked study, and what may be shown.

Goldens in tests/reference/planning/monthly_hazard_{table,shares}.csv come from
tests/reference/planning/monthly_hazard.R (base R's cut/table and prop.test for the life
table, R survival's Aalen–Johansen for the shares) on the individual episode times of
monthly_hazard_episodes.csv; one test re-runs the script and checks it reproduces them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

import analysis as ds
from analysis.disclosure import DisclosurePolicy, determined
from analysis.planning.hazard import (
    TABLE_COLUMNS,
    MonthlyHazardAnalysis,
    first_year_shares,
    life_table,
    month_end_day,
    wilson_interval,
)
from analysis.planning.hazard_disclosure import hidden_cells
from analysis.survival.grouping import Grouping
from analysis.views.risk_table import day_of_month
from tests.reference import run_r_script
from tests.survival.km_db import D, make_db

REF = Path(__file__).resolve().parents[1] / "reference" / "planning"
TOL = 1e-10


def reference_day_table() -> pd.DataFrame:
    """The R fixture's episodes counted per group and day, as DuckDB's day_counts does."""
    episodes = pd.read_csv(REF / "monthly_hazard_episodes.csv")
    counts = episodes.assign(n_event=episodes["cause"] == 1, n_competing=episodes["cause"] == 2,
                             n_censored=episodes["cause"] == 0)
    return (counts.groupby(["group", "time"], as_index=False)
            [["n_event", "n_competing", "n_censored"]].sum().astype(
                {"n_event": "int64", "n_competing": "int64", "n_censored": "int64"}))


def assert_close(actual, expected, what):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, what
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), what
    ok = ~np.isnan(expected)
    np.testing.assert_allclose(actual[ok], expected[ok], rtol=0, atol=TOL, err_msg=what)


def test_life_table_matches_base_r():
    golden = pd.read_csv(REF / "monthly_hazard_table.csv")
    table = life_table(reference_day_table(), months=24)
    assert table["group"].tolist() == golden["group"].tolist()
    for column in ("month", "start_day", "end_day", "at_risk", "events", "censored",
                   "effective_at_risk", "hazard", "lower", "upper"):
        assert_close(table[column], golden[column], column)
    # the fixture exercises what it is for: ties, censoring, empty months
    assert golden["hazard"].isna().any() and (golden["censored"] > 0).mean() > 0.5


def test_first_year_shares_match_r_survival():
    golden = pd.read_csv(REF / "monthly_hazard_shares.csv")
    shares = first_year_shares(reference_day_table())
    assert shares["group"].tolist() == golden["group"].tolist()
    for column in ("months", "days", "incidence", "incidence_first_year", "share"):
        assert_close(shares[column], golden[column], column)


def test_r_script_reproduces_the_committed_goldens(tmp_path):
    run_r_script("planning/monthly_hazard.R", tmp_path)
    for name in ("monthly_hazard_table.csv", "monthly_hazard_shares.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / name), pd.read_csv(REF / name),
                                      check_exact=False, rtol=1e-12, atol=1e-12)


def test_months_end_on_the_days_of_the_dashboard_month_tables():
    assert [month_end_day(m) for m in range(121)] == [day_of_month(m) for m in range(121)]
    assert [month_end_day(m) for m in (1, 3, 6, 12, 24, 36)] == [30, 91, 183, 365, 730, 1095]


def test_wilson_interval_is_statsmodels_wilson():
    events = np.array([0, 1, 3, 7, 10, 10])
    trials = np.array([7.5, 12.0, 10.5, 40.0, 10.0, 250.5])
    lower, upper = wilson_interval(events, trials)
    want_lower, want_upper = proportion_confint(events, trials, method="wilson")
    np.testing.assert_allclose(lower, want_lower, atol=1e-12)
    np.testing.assert_allclose(upper, want_upper, atol=1e-12)
    assert lower[0] == 0.0 and upper[4] == 1.0
    assert np.isnan(wilson_interval([0], [0])[0]).all()


# --- a study small enough to check by hand --------------------------------------------

RELEASED = D(2020, 1, 1)


def day(n: int) -> dt.date:
    return RELEASED + dt.timedelta(days=n)


@pytest.fixture(scope="module")
def hand_study():
    """12 releases on 2020-01-01, followed to 2023-12-31 unless they die.

    Rearrests on days 10 and 30 (month 1), 31 (month 2), 365 (month 12) and 366 (month
    13); one death on day 45 (month 2); seven never reoffend.
    """
    releases = [{"release_id": f"r{i}", "person_id": f"p{i}", "release_date": RELEASED}
                for i in range(12)]
    releases[3].update(follow_up_end=day(45), follow_up_end_reason="death")
    events = [(f"p{i}", day(n), "rearrest") for i, n in ((0, 10), (1, 30), (2, 31), (4, 365),
                                                         (5, 366))]
    con = make_db(releases=releases, events=events)
    with ds.Study(con, outcome="rearrest") as study:
        yield study.monthly_hazard(months=14)
    con.close()


def test_hand_checked_life_table(hand_study):
    table = hand_study.table.set_index("month")
    assert list(hand_study.table.columns) == list(TABLE_COLUMNS)
    assert table.loc[1, ["at_risk", "events", "censored"]].tolist() == [12, 2, 0]
    # the death on day 45 leaves the risk set as a censoring: 10 - 1/2 at risk
    assert table.loc[2, ["at_risk", "events", "censored", "competing"]].tolist() == [10, 1, 1, 1]
    assert table.loc[2, "hazard"] == pytest.approx(1 / 9.5, abs=1e-15)
    assert table.loc[1, "hazard"] == pytest.approx(2 / 12, abs=1e-15)
    assert table.loc[3:11, "events"].sum() == 0 and (table.loc[3:12, "at_risk"] == 8).all()
    assert table.loc[12, "hazard"] == pytest.approx(1 / 8)      # day 365 is month 12
    assert table.loc[13, ["at_risk", "events"]].tolist() == [7, 1]   # day 366 is month 13
    assert table.loc[14, "at_risk"] == 6
    # Wilson interval of month 1: 2 of 12
    low, high = proportion_confint(2, 12, method="wilson")
    assert (table.loc[1, "lower"], table.loc[1, "upper"]) == pytest.approx((low, high))


def test_hand_checked_first_year_shares(hand_study):
    # Aalen–Johansen: 1/12 on day 10, 1/12 on day 30, 1/12 on day 31, then the death
    # (S = 8/12), then 8/12 * 1/8 = 1/12 on day 365: F(30) = 2/12, F(91) = 3/12,
    # F(365) = 4/12
    shares = hand_study.shares.set_index("months")
    assert shares["share"].tolist() == pytest.approx([0.5, 0.75, 0.75], abs=1e-15)
    assert shares["incidence_first_year"].iloc[0] == pytest.approx(4 / 12, abs=1e-15)
    assert shares["events"].tolist() == [2, 3, 3]


def test_unsuppressed_json_is_the_table(hand_study):
    payload = hand_study.as_dict(DisclosurePolicy(k=1), unsafe=True)
    assert payload["disclosure"]["hidden_values"] == 0
    assert payload["disclosure"]["unsafe_analyst_output"] is True
    group = payload["groups"][0]
    assert group["releases"] == 12 and len(group["months"]) == 14
    assert group["months"][1] == {"month": 2, "start_day": 31, "end_day": 61, "at_risk": 10,
                                  "events": 1, "censored": 1, "hazard": 1 / 9.5,
                                  "lower": pytest.approx(proportion_confint(
                                      1, 9.5, method="wilson")[0]),
                                  "upper": pytest.approx(proportion_confint(
                                      1, 9.5, method="wilson")[1])}
    assert [s["share"] for s in group["first_year_shares"]] == pytest.approx([0.5, 0.75, 0.75])


def test_small_study_at_k10_hides_every_small_count(hand_study):
    group = hand_study.as_dict(DisclosurePolicy(k=10))["groups"][0]
    assert group["releases"] == 12
    month1 = group["months"][0]
    assert month1["at_risk"] == 12 and month1["events"] is None and month1["hazard"] is None
    assert all(s["share"] is None for s in group["first_year_shares"])  # 4 reoffenders


# --- disclosure: a reader's linear algebra on what is shown ---------------------------

def reader_can_solve(payload: dict, truth: MonthlyHazardAnalysis, k: int) -> list:
    """Counts of 1 to k-1 a reader works out from the JSON and the life table's sums.

    Built from the published numbers alone, without the module's own system: unknowns
    are the hidden counts; the relations are n_m = n_{m+1} + d_m + c_m, the releases
    (n_1), the reoffenders of the first year (known from the dashboard) and the shares
    read as the reoffenders by months 1, 3, 6 (exact without censoring).
    """
    leaks = []
    for group in payload["groups"]:
        part = truth.table[truth.table["group"] == group["group"]].set_index("month")
        last = int(part.index.max())
        values: dict[Hashable, float] = {}
        relations: list[tuple[Hashable, list[Hashable]]] = []
        unknown = set()
        for row in group["months"]:
            m = row["month"]
            for name in ("at_risk", "events", "censored"):
                values[(name, m)] = float(part.loc[m, name])
                if row[name] is None:
                    unknown.add((name, m))
            values[("left", m)] = values[("events", m)] + values[("censored", m)]
            unknown.add(("left", m))
            relations += [(("at_risk", m), [("at_risk", m + 1), ("left", m)]),
                          (("left", m), [("events", m), ("censored", m)])]
        values[("at_risk", last + 1)] = values[("at_risk", last)] - values[("left", last)]
        unknown.add(("at_risk", last + 1))
        if last >= 12:
            values["year"] = float(part.loc[1:12, "events"].sum())
            relations.append(("year", [("events", m) for m in range(1, 13)]))
            for share in group["first_year_shares"]:
                key = ("by", share["months"])
                values[key] = float(part.loc[1:share["months"], "events"].sum())
                relations.append((key, [("events", m) for m in range(1, share["months"] + 1)]))
                if share["share"] is None:
                    unknown.add(key)
        solved = determined(values, relations, unknown)
        leaks += [(group["group"], key) for key in solved if 0 < values[key] < k]
        # an estimate is shown only where its three counts are (it gives them away)
        for row in group["months"]:
            if row["hazard"] is not None:
                assert None not in (row["at_risk"], row["events"], row["censored"])
                assert row["hazard"] == pytest.approx(
                    row["events"] / (row["at_risk"] - row["censored"] / 2))
    return leaks


def random_day_table(seed: int, size: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    time = np.minimum(rng.exponential(300, size).astype(int), 900)
    cause = rng.choice([0, 1, 2], size=size, p=[0.55, 0.4, 0.05])
    frame = pd.DataFrame({"group": np.where(rng.random(size) < 0.6, "a", "b"), "time": time,
                          "n_event": cause == 1, "n_competing": cause == 2,
                          "n_censored": cause == 0})
    return frame.groupby(["group", "time"], as_index=False).sum().astype(
        {"n_event": "int64", "n_competing": "int64", "n_censored": "int64"})


def analysis_of(day_table: pd.DataFrame, months: int) -> MonthlyHazardAnalysis:
    return MonthlyHazardAnalysis(life_table(day_table, months), first_year_shares(day_table),
                                 day_table, ("rearrest",), Grouping("group"),
                                 ds.Outcome(), ds.Selection())


@settings(max_examples=25)
@given(seed=st.integers(0, 10_000), size=st.sampled_from([40, 200, 1500]),
       months=st.sampled_from([3, 12, 24]), k=st.sampled_from([5, 10]))
def test_no_small_count_can_be_worked_out(seed, size, months, k):
    fitted = analysis_of(random_day_table(seed, size), months)
    payload = fitted.as_dict(DisclosurePolicy(k=k))
    assert reader_can_solve(payload, fitted, k) == []
    shown = [v for g in payload["groups"] for row in g["months"]
             for v in (row["at_risk"], row["events"], row["censored"]) if v is not None]
    assert not any(0 < v < k for v in shown)


def test_hidden_values_counts_the_nulls():
    fitted = analysis_of(random_day_table(7, 1500), 24)
    payload = fitted.as_dict(DisclosurePolicy(k=10))
    nulls = sum(v is None for g in payload["groups"] for row in g["months"]
                for v in row.values()) + sum(s["share"] is None for g in payload["groups"]
                                             for s in g["first_year_shares"])
    assert payload["disclosure"]["hidden_values"] == nulls > 0


def test_people_leaving_on_a_day_other_outputs_count_are_protected():
    # 2,000 releases, many events and censorings every month, but only 3 leave on day
    # 183, the day on which the dashboard's month table counts those at risk (time >= 183)
    rng = np.random.default_rng(5)
    time = rng.choice(np.r_[np.arange(1, 183), np.arange(184, 800)], size=1997)
    frame = pd.DataFrame({"group": "all", "time": np.r_[time, [183, 183, 183]]})
    frame["n_event"] = rng.random(len(frame)) < 0.5
    frame["n_competing"] = False
    frame["n_censored"] = ~frame["n_event"]
    table = frame.groupby(["group", "time"], as_index=False).sum().astype(
        {"n_event": "int64", "n_competing": "int64", "n_censored": "int64"})
    inner = life_table(table, 24)
    hide = hidden_cells(inner, table, 24, DisclosurePolicy(k=10))
    outside = int(inner.loc[inner["month"] == 7, "at_risk"].iloc[0]) + 3  # time >= 183
    # a reader who has the month table's 'outside' cannot tell the 3 apart
    chain = {("at_risk", 7), ("events", 6), ("censored", 6), ("events", 7), ("censored", 7),
             ("at_risk", 8)}
    assert ("at_risk", 7) in hide and len(chain & hide) >= 3
    assert outside == int((table["time"] >= 183).mul(
        table[["n_event", "n_competing", "n_censored"]].sum(axis=1)).sum())


def test_on_the_demo_the_large_groups_are_shown(demo_db):
    with ds.open_study(demo_db) as study:
        fitted = study.monthly_hazard("sex", months=12)
    payload = fitted.as_dict(DisclosurePolicy(k=10))
    men = next(g for g in payload["groups"] if g["group"] == "M")
    assert men["months"][0]["hazard"] is not None
    shares = [s["share"] for s in men["first_year_shares"]]
    assert None not in shares and 0 < shares[0] < shares[1] < shares[2] < 1
    assert reader_can_solve(payload, fitted, 10) == []
