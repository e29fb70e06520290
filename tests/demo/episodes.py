"""Analysis frames built straight from a demo dataset folder, for the recovery tests.

Deliberately independent of the product's survival engine: the demo must be checked
against the truth with nothing but pandas and statsmodels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: Covariates the re-arrest hazard depends on, as the generating model uses them.
NUMERIC = ["age_at_release", "female", "prior_convictions", "sentence_months"]
CATEGORICAL = ["offense_category", "facility", "release_year"]
REFERENCE = {
    "offense_category": "violent",
    "facility": "Northgate Prison",
    "release_year": "2017",
}


def read_dataset(folder: Path) -> dict[str, pd.DataFrame]:
    dates = {
        "releases": ["release_date", "follow_up_end"],
        "participation": ["start_date", "end_date"],
        "events": ["event_date"],
        "programs": [],
        "expected_releases": ["expected_release_date"],
    }
    return {
        name: pd.read_csv(folder / f"{name}.csv", parse_dates=cols, keep_default_na=True)
        for name, cols in dates.items()
    }


def episodes(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per release: time to the first re-arrest after it (days) and the event flag.

    Follow-up ends at follow_up_end or at the person's next release, whichever is first.
    """
    rel = tables["releases"].sort_values(["person_id", "release_date"]).copy()
    nxt = rel.groupby("person_id")["release_date"].shift(-1)
    rel["end"] = np.minimum(rel["follow_up_end"], nxt.fillna(rel["follow_up_end"]))
    ev = tables["events"]
    arrests = ev.loc[ev["event_type"] == "rearrest", ["person_id", "event_date"]]
    pairs = rel[["release_id", "person_id", "release_date", "end"]].merge(arrests, on="person_id")
    inside = (pairs["event_date"] > pairs["release_date"]) & (pairs["event_date"] <= pairs["end"])
    first = pairs[inside].groupby("release_id")["event_date"].min()
    rel["event_date"] = rel["release_id"].map(first)
    rel["event"] = rel["event_date"].notna().astype(int)
    stop = rel["event_date"].fillna(rel["end"])
    rel["time"] = (stop - rel["release_date"]).dt.days
    rel["female"] = (rel["sex"] == "F").astype(float)
    rel["release_year"] = rel["release_date"].dt.year.astype(str)
    return rel.reset_index(drop=True)


def program_term(program_id: str, status: str) -> str:
    """Column name of a programme indicator, e.g. ``DRUG_TC_completed``."""
    return f"{program_id.replace('-', '_')}_{status}"


def add_fixed_programmes(rel: pd.DataFrame, tables, programs: list[str]) -> list[str]:
    """0/1 columns per programme and status (completed, dropped_out), joined by release_id."""
    part = tables["participation"]
    names = []
    for pid in programs:
        rows = part[part["program_id"] == pid]
        for status in ("completed", "dropped_out"):
            ids = set(rows.loc[rows["status"] == status, "release_id"])
            name = program_term(pid, status)
            rel[name] = rel["release_id"].isin(ids).astype(float)
            names.append(name)
    return names


def split_time_varying(rel: pd.DataFrame, tables, programs: list[str]) -> pd.DataFrame:
    """Counting-process rows (entry, exit] with 0/1 columns ``<id>_active`` while each runs."""
    part = tables["participation"]
    cutoff = rel["follow_up_end"].max()
    windows = {}
    for pid in programs:
        rows = part[part["program_id"] == pid].set_index("release_id")
        s = rel["release_id"].map(rows["start_date"])
        e = rel["release_id"].map(rows["end_date"].fillna(cutoff))
        windows[pid] = (
            (s - rel["release_date"]).dt.days.to_numpy(float),
            (e - rel["release_date"]).dt.days.to_numpy(float),
        )
    time = rel["time"].to_numpy(float)
    cuts = [np.zeros(len(rel)), time]
    for s, e in windows.values():
        cuts += [s, e]
    grid = np.sort(np.minimum(np.nan_to_num(np.column_stack(cuts), nan=np.inf), time[:, None]),
                   axis=1)
    entry, exit_ = grid[:, :-1], grid[:, 1:]
    row, col = np.nonzero(exit_ > entry)
    out = rel.iloc[row].reset_index(drop=True)
    out["entry"] = entry[row, col]
    out["exit"] = exit_[row, col]
    out["event"] = out["event"].to_numpy() * (out["exit"].to_numpy() == time[row])
    for pid, (s, e) in windows.items():
        active = (s[row] <= out["entry"]) & (out["exit"] <= e[row])
        out[program_term(pid, "active")] = active.astype(float)
    return out
