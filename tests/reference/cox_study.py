"""A small study database for checking ``desist cox`` standard errors against R.

The committed tables ``data/cox_study/{releases,events,programs,participation}.csv``
(synthetic, numpy seed 20261201, written by :func:`generate`) hold 300 people with one
to three releases each, a person-level frailty (so the robust SE clustered by person
differs from the model SE), an in-prison programme ``VOC`` (baseline indicator) and a
post-release programme ``JOB`` (time-varying exposure). :func:`load` puts them in a
study database; :func:`model_frame` is the counting-process frame ``desist cox`` fits
(``--covariates age_at_release,sex --programs VOC,JOB``), written to
``data/cox_study.csv`` for ``cox_reference.R``, which fits it with ``coxph`` (model SE)
and ``coxph(cluster = person_id)`` (robust SE).

Regenerate (only when changing the case; goldens are then added, never edited)::

    .venv/bin/python -m tests.reference.cox_study
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analysis.store.schema import migrate
from analysis.survival.follow_up import prepare_for_analysis

DATA = Path(__file__).resolve().parent / "data"
TABLES = DATA / "cox_study"
FRAME = DATA / "cox_study.csv"
COVARIATES = ["age_at_release", "sex"]
PROGRAMS = ["VOC", "JOB"]
FRAME_COLUMNS = ["person_id", "release_id", "start", "stop", "event", *COVARIATES, *PROGRAMS]
FOLLOW_UP_END = dt.date(2022, 12, 31)
DATES = {"releases": ["release_date", "follow_up_end"], "events": ["event_date"],
         "participation": ["start_date", "end_date"]}


def generate(seed: int = 20261201, people: int = 300) -> dict[str, pd.DataFrame]:
    """The four tables of the synthetic study (see the module notes)."""
    rng = np.random.default_rng(seed)
    releases, events, participation = [], [], []
    for person in range(people):
        pid = f"p{person:03d}"
        frailty = rng.gamma(1.0, 1.0)  # variance 1: releases of a person are alike
        sex = "F" if rng.random() < 0.3 else "M"
        age = round(float(rng.uniform(18, 55)), 1)
        day = dt.date(2019, 1, 1) + dt.timedelta(days=int(rng.integers(0, 400)))
        for k in range(int(rng.integers(1, 4))):
            if day >= FOLLOW_UP_END:
                break
            rid = f"r{person:03d}{k}"
            voc = rng.random() < 0.35
            releases.append({"release_id": rid, "person_id": pid, "release_date": day,
                             "facility": "North", "follow_up_end": FOLLOW_UP_END,
                             "sex": sex, "age_at_release": age, "batch_id": "b1"})
            if voc:
                participation.append({
                    "person_id": pid, "program_id": "VOC",
                    "start_date": day - dt.timedelta(days=120),
                    "end_date": day - dt.timedelta(days=20), "status": "completed",
                    "release_id": rid, "batch_id": "b1"})
            lp = -0.02 * (age - 35) + 0.3 * (sex == "M") - 0.5 * voc
            t = int(np.ceil(rng.exponential(400 / (frailty * np.exp(lp)))))
            events.append({"person_id": pid, "event_date": day + dt.timedelta(days=t),
                           "event_type": "rearrest", "batch_id": "b1"})
            if rng.random() < 0.4:
                participation.append({
                    "person_id": pid, "program_id": "JOB",
                    "start_date": day + dt.timedelta(days=int(rng.integers(1, 150))),
                    "end_date": None, "status": "ongoing", "release_id": None,
                    "batch_id": "b1"})
            day = day + dt.timedelta(days=t + int(rng.integers(30, 200)))
            age = round(age + (day - releases[-1]["release_date"]).days / 365.25, 1)
    programs = pd.DataFrame({
        "program_id": PROGRAMS, "name": ["Vocational", "Jobs"],
        "category": ["vocational", "employment"], "setting": ["in_prison", "post_release"],
        "batch_id": "b1"})
    events = pd.DataFrame(events).drop_duplicates(["person_id", "event_date"])
    events = events[events["event_date"] <= FOLLOW_UP_END]
    participation = pd.DataFrame(participation).drop_duplicates(
        ["person_id", "program_id", "start_date"])
    return {"releases": pd.DataFrame(releases), "events": events, "programs": programs,
            "participation": participation}


def read_tables() -> dict[str, pd.DataFrame]:
    """The committed tables."""
    return {name: pd.read_csv(TABLES / f"{name}.csv", parse_dates=DATES.get(name, []))
            for name in ("releases", "events", "programs", "participation")}


def load(path: str | Path) -> str:
    """Write the committed tables into a new study database at ``path``."""
    con = duckdb.connect(str(path))
    try:
        migrate(con)
        for table, frame in read_tables().items():
            for column in DATES.get(table, []):
                frame[column] = frame[column].dt.date
            con.register("frame", frame)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")
            con.unregister("frame")
        prepare_for_analysis(con, "reference")  # the derived follow-up table, as an import builds it
    finally:
        con.close()
    return str(path)


def model_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The counting-process rows ``desist cox`` fits on this study, sorted."""
    from analysis.survival.episodes import Outcome, build_episodes
    from analysis.survival.exposures import add_exposures

    episodes = build_episodes(con, Outcome(), columns=COVARIATES)
    frame = add_exposures(con, episodes, PROGRAMS).frame[FRAME_COLUMNS]
    return frame.sort_values(["release_id", "start"]).reset_index(drop=True)


def main() -> None:
    TABLES.mkdir(parents=True, exist_ok=True)
    for name, frame in generate().items():
        frame.to_csv(TABLES / f"{name}.csv", index=False)
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(load(Path(tmp) / "study.duckdb"), read_only=True)
        try:
            model_frame(con).to_csv(FRAME, index=False)
        finally:
            con.close()


if __name__ == "__main__":
    main()
