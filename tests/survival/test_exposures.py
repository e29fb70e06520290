"""Programme exposures: baseline custody-period indicators and counting-process splits."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.errors import AnalysisError
from analysis.store.schema import migrate
from analysis.survival.cox import CoxModel
from analysis.survival.exposures import add_exposures
from analysis.survival.follow_up import refresh_follow_up

D = dt.date
#: every test runs with the custody-period facts computed on the fly and stored


def make_db(path, releases, programs, participation):
    con = duckdb.connect(str(path))
    migrate(con)
    con.register("rel_df", pd.DataFrame(releases).assign(batch_id="b1"))
    con.execute("INSERT INTO releases BY NAME SELECT * FROM rel_df")
    con.register("prog_df", pd.DataFrame(programs).assign(batch_id="b1"))
    con.execute("INSERT INTO programs BY NAME SELECT * FROM prog_df")
    if len(participation):
        part = pd.DataFrame(participation).assign(batch_id="b1")
        if "release_id" not in part:
            part["release_id"] = None
        part["release_id"] = part["release_id"].astype(object)
        con.register("part_df", part)
        con.execute("INSERT INTO participation BY NAME SELECT * FROM part_df")
    refresh_follow_up(con, "b1")  # as an import does: analyses read the stored lists
    return con


FOLLOW_UP_END = D(2024, 12, 31)


def rel(rid, pid, day):
    return {"release_id": rid, "person_id": pid, "release_date": day, "facility": "F1",
            "follow_up_end": FOLLOW_UP_END}


PROGRAMS = [
    {"program_id": "EDU", "name": "Education", "category": "education", "setting": "in_prison"},
    {"program_id": "COM", "name": "Community", "category": "other", "setting": "community"},
    {"program_id": "MENT", "name": "Mentoring", "category": "post_release_support",
     "setting": "post_release"},
    {"program_id": "JOB", "name": "Jobs", "category": "employment", "setting": "post_release"},
]


def episodes(rows):
    return pd.DataFrame(rows, columns=["release_id", "person_id", "release_date", "time",
                                       "event"])


@pytest.fixture
def small(tmp_path):
    releases = [rel("r1", "p1", D(2020, 1, 1)), rel("r2", "p1", D(2021, 6, 1)),
                rel("r3", "p2", D(2020, 3, 1)), rel("r4", "p3", D(2020, 5, 1))]
    part = [
        # p1: education before the first release -> r1 only
        {"person_id": "p1", "program_id": "EDU", "start_date": D(2019, 5, 1),
         "end_date": D(2019, 9, 1), "status": "completed"},
        # p1: education during the second custody period, dropped out -> r2 ("any" only)
        {"person_id": "p1", "program_id": "EDU", "start_date": D(2021, 1, 1),
         "end_date": D(2021, 3, 1), "status": "dropped_out"},
        # p2: education that starts after release is not a baseline exposure
        {"person_id": "p2", "program_id": "EDU", "start_date": D(2020, 4, 1),
         "end_date": None, "status": "ongoing"},
        # p2: mentoring day 10..30 after release
        {"person_id": "p2", "program_id": "MENT", "start_date": D(2020, 3, 11),
         "end_date": D(2020, 3, 31), "status": "completed"},
        # p3: open-ended job programme from day 50
        {"person_id": "p3", "program_id": "JOB", "start_date": D(2020, 6, 20),
         "end_date": None, "status": "ongoing"},
        # p3: community programme from the release day to day 20 (named release)
        {"person_id": "p3", "program_id": "COM", "start_date": D(2020, 5, 1),
         "end_date": D(2020, 5, 21), "status": "completed", "release_id": "r4"},
        # p1: mentoring after the second release only
        {"person_id": "p1", "program_id": "MENT", "start_date": D(2021, 6, 5),
         "end_date": D(2021, 6, 15), "status": "completed"},
    ]
    con = make_db(tmp_path / "s.duckdb", releases, PROGRAMS, part)
    eps = episodes([("r1", "p1", D(2020, 1, 1), 300, 0), ("r2", "p1", D(2021, 6, 1), 200, 1),
                    ("r3", "p2", D(2020, 3, 1), 100, 1), ("r4", "p3", D(2020, 5, 1), 80, 0)])
    yield con, eps
    con.close()


def test_baseline_custody_period(small):
    con, eps = small
    data = add_exposures(con, eps, ["EDU"])
    assert data.entry_col is None and data.baseline_programs == ("EDU",)
    flags = data.frame.set_index("release_id")["EDU"].to_dict()
    assert flags == {"r1": 1, "r2": 1, "r3": 0, "r4": 0}
    completed = add_exposures(con, eps, ["EDU"], variant="completed").frame
    assert completed.set_index("release_id")["EDU"].to_dict() == {"r1": 1, "r2": 0, "r3": 0,
                                                                   "r4": 0}


def test_post_release_current_splits_episode(small):
    con, eps = small
    data = add_exposures(con, eps, ["MENT", "JOB"], exposure="current")
    assert data.entry_col == "start" and data.duration_col == "stop"
    r3 = data.frame[data.frame.release_id == "r3"][["start", "stop", "MENT", "event"]]
    assert r3.values.tolist() == [[0, 10, 0, 0], [10, 30, 1, 0], [30, 100, 0, 1]]
    r4 = data.frame[data.frame.release_id == "r4"][["start", "stop", "JOB", "event"]]
    assert r4.values.tolist() == [[0, 50, 0, 0], [50, 80, 1, 0]]  # open end: still exposed
    r2 = data.frame[data.frame.release_id == "r2"][["start", "stop", "MENT", "event"]]
    assert r2.values.tolist() == [[0, 4, 0, 0], [4, 14, 1, 0], [14, 200, 0, 1]]
    # the mentoring of the second release is not attributed to the first one
    r1 = data.frame[data.frame.release_id == "r1"]
    assert r1[["start", "stop", "MENT"]].values.tolist() == [[0, 300, 0]]
    # one event per episode, person-time preserved
    assert data.frame.groupby("release_id")["event"].sum().to_dict() == eps.set_index(
        "release_id")["event"].to_dict()
    widths = (data.frame.stop - data.frame.start).groupby(data.frame.release_id).sum()
    assert widths.to_dict() == eps.set_index("release_id")["time"].to_dict()


def test_community_programmes_are_time_varying(small):
    con, eps = small
    data = add_exposures(con, eps, ["COM", "EDU"])
    assert data.time_varying_programs == ("COM",) and data.baseline_programs == ("EDU",)
    r4 = data.frame[data.frame.release_id == "r4"][["start", "stop", "COM", "event"]]
    assert r4.values.tolist() == [[0, 20, 1, 0], [20, 80, 0, 0]]


def test_post_release_ever(small):
    con, eps = small
    frame = add_exposures(con, eps, ["MENT"], exposure="ever").frame
    r3 = frame[frame.release_id == "r3"][["start", "stop", "MENT", "event"]]
    assert r3.values.tolist() == [[0, 10, 0, 0], [10, 100, 1, 1]]


def test_event_on_programme_start_day_is_unexposed(small):
    con, eps = small
    eps = eps.assign(time=np.where(eps.release_id == "r3", 10, eps.time))
    frame = add_exposures(con, eps, ["MENT"]).frame
    assert frame[frame.release_id == "r3"][["start", "stop", "MENT", "event"]].values.tolist(
    ) == [[0, 10, 0, 1]]


def test_mixed_baseline_and_time_varying_and_zero_time(small):
    con, eps = small
    eps = pd.concat([eps, episodes([("r9", "p9", D(2020, 1, 1), 0, 1)])])
    data = add_exposures(con, eps, ["EDU", "MENT"])
    assert data.dropped_zero_time == 1
    assert set(data.frame.release_id) == {"r1", "r2", "r3", "r4"}
    assert (data.frame.groupby("release_id")["EDU"].nunique() == 1).all()


@pytest.mark.parametrize("programs", [["EDU"], ["EDU", "MENT", "COM"]])
def test_without_the_ids_the_frame_is_the_same_otherwise(small, programs):
    con, eps = small
    eps = eps.assign(code=np.arange(len(eps)))  # how a caller keeps track of releases
    kept = add_exposures(con, eps, programs).frame
    dropped = add_exposures(con, eps, programs, drop_ids=True).frame
    assert "release_id" not in dropped and "person_id" not in dropped
    pd.testing.assert_frame_equal(dropped, kept.drop(columns=["release_id", "person_id"]))
    assert "release_id" in eps  # the caller's episodes are left as they were


def test_unknown_program_and_bad_options(small):
    con, eps = small
    with pytest.raises(AnalysisError, match="unknown program.*NOPE.*known programs: COM"):
        add_exposures(con, eps, ["NOPE"])
    with pytest.raises(AnalysisError, match="exposure"):
        add_exposures(con, eps, ["MENT"], exposure="sometimes")


def test_time_varying_exposure_removes_immortal_time_bias(tmp_path):
    """A useless post-release programme looks protective as a baseline indicator only."""
    rng = np.random.default_rng(11)
    n = 3000
    start = D(2020, 1, 1)
    days = rng.integers(0, 365, n)
    t_event = np.ceil(rng.exponential(400, n))  # the programme has no effect at all
    time = np.minimum(t_event, 730)
    event = (t_event <= 730).astype(int)
    prog_day = np.ceil(rng.exponential(120, n))  # joined only if still free by then
    joined = prog_day < time
    releases = [rel(f"r{i}", f"p{i}", start + dt.timedelta(days=int(days[i])))
                for i in range(n)]
    part = [{"person_id": f"p{i}", "program_id": "MENT",
             "start_date": start + dt.timedelta(days=int(days[i] + prog_day[i])),
             "end_date": None, "status": "ongoing"} for i in np.flatnonzero(joined)]
    con = make_db(tmp_path / "b.duckdb", releases, PROGRAMS, part)
    eps = episodes([(f"r{i}", f"p{i}", start + dt.timedelta(days=int(days[i])), time[i],
                     event[i]) for i in range(n)])
    naive = eps.assign(MENT=joined.astype(int))
    biased = CoxModel().fit(naive, "time", "event", ["MENT"]).summary["hr"].iloc[0]
    data = add_exposures(con, eps, ["MENT"], exposure="ever")
    fair = CoxModel().fit(data.frame, data.duration_col, data.event_col, ["MENT"],
                          entry_col=data.entry_col, cluster_col="person_id").summary
    assert biased < 0.7
    assert fair["hr_lower"].iloc[0] < 1 < fair["hr_upper"].iloc[0]
    assert 0.85 < fair["hr"].iloc[0] < 1.15
    con.close()
