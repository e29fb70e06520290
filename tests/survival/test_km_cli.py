"""``desist km`` and ``desist cif``: JSON shape, human output, exit status 2 on user errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.store.schema import connect_readonly
from analysis.survival.kaplan_meier import kaplan_meier_from_db
from tests.survival.km_db import D, make_db


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("km") / "study.duckdb"
    rng = np.random.default_rng(3)
    releases, events = [], []
    for i in range(300):
        release = D(2018, 1, 1) + np.timedelta64(int(rng.integers(0, 700)), "D").item()
        releases.append({"release_id": f"r{i}", "person_id": f"p{i}", "release_date": release,
                         "follow_up_end": D(2023, 12, 31),
                         "follow_up_end_reason": "death" if i % 17 == 0 else "data_cutoff",
                         "sex": "F" if i % 3 == 0 else "M"})
        if rng.random() < 0.6:
            events.append((f"p{i}", release + np.timedelta64(int(rng.integers(1, 1500)),
                                                             "D").item(),
                           "rearrest" if rng.random() < 0.7 else "reconviction"))
    participation = [(f"p{i}", "EDU", D(2017, 6, 1), None) for i in range(0, 300, 4)]
    con = make_db(path, releases, events, [("EDU", "in_prison"), ("JOBS", "post_release")],
                  participation)
    con.close()
    return str(path)


def run(*args):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_km_json_has_the_documented_shape(db):
    code, out = run("km", "--db", db, "--by", "sex", "--json")
    assert code == 0, out
    payload = json.loads(out)
    assert set(payload) == {"disclosure", "event_types", "groups", "logrank"}
    assert payload["disclosure"]["min_cell"] == 10 and payload["disclosure"]["suppressed"]
    assert payload["event_types"] == ["rearrest", "reconviction"]
    assert [g["group"] for g in payload["groups"]] == ["F", "M"]
    for g in payload["groups"]:
        assert set(g) == {"group", "n", "events", "median_days", "horizons"}
        assert [h["days"] for h in g["horizons"]] == [365, 730, 1095]
        for h in g["horizons"]:
            assert set(h) == {"days", "survival", "se", "lower", "upper", "recidivism",
                              "n_risk"}
            assert h["recidivism"] == pytest.approx(1 - h["survival"])
            assert h["lower"] < h["survival"] < h["upper"]
    assert set(payload["logrank"]) == {"chi2", "df", "p"} and payload["logrank"]["df"] == 1
    assert sum(g["n"] for g in payload["groups"]) == 300


def test_km_json_values_equal_the_library(db):
    # k = 5: the 7 rearrests by day 100 may be shown (at k = 10 that rate is hidden)
    code, out = run("km", "--db", db, "--events", "rearrest", "--horizons", "100,400",
                    "--json", "--min-cell", "5")
    payload = json.loads(out)
    assert payload["logrank"] is None and payload["event_types"] == ["rearrest"]
    group = payload["groups"][0]
    assert group["group"] == "all"
    con = connect_readonly(db)
    from analysis.survival.episodes import Outcome
    lib = kaplan_meier_from_db(con, outcome=Outcome.named("rearrest")).result
    con.close()
    at = lib.at([100, 400])
    assert [h["survival"] for h in group["horizons"]] == pytest.approx(at["survival"].tolist())
    assert [h["n_risk"] for h in group["horizons"]] == at["n_risk"].tolist()
    median = lib.summary["median"].iloc[0]
    assert group["median_days"] == (None if np.isnan(median) else median)


def test_km_by_program_and_human_output(db):
    code, out = run("km", "--db", db, "--by", "program:EDU")
    assert code == 0, out
    assert "participant: 75 releases" in out and "non-participant: 225 releases" in out
    assert "Log-rank test" in out and "complete" in out


def test_cif_json(db):
    code, out = run("cif", "--db", db, "--json", "--horizons", "365")
    assert code == 0, out
    payload = json.loads(out)
    assert payload["causes"] == ["reoffence", "competing"]
    g = payload["groups"][0]
    assert g["n"] == 300 and set(g["events"]) == {"reoffence", "competing"}
    h = g["horizons"][0]
    assert set(h["cif"]) == {"reoffence", "competing"}
    assert set(h["cif"]["reoffence"]) == {"estimate", "se", "lower", "upper"}
    code, out = run("cif", "--db", db, "--json", "--by-reason")
    assert json.loads(out)["causes"] == ["reoffence", "death"]
    code, out = run("cif", "--db", db, "--by", "sex")
    assert code == 0 and "Aalen–Johansen" in out


@pytest.mark.parametrize("args, message", [
    (["--by", "shoe"], "unknown breakdown field 'shoe'"),
    (["--by", "program:NOPE"], "unknown program 'NOPE'"),
    (["--by", "program:JOBS"], "immortal-time bias"),
    (["--events", "arson"], "unknown event type"),
    (["--horizons", "1y"], "--horizons must be whole numbers"),
    (["--by", "sex", "--min-group-size", "150"], "groups too small to estimate"),
])
@pytest.mark.parametrize("command", ["km", "cif"])
def test_user_errors_exit_2(db, command, args, message):
    code, out = run(command, "--db", db, *args)
    assert code == 2
    assert message in out


def test_missing_database_exits_2(tmp_path):
    code, out = run("km", "--db", str(tmp_path / "none.duckdb"))
    assert code == 2 and "no database" in out


def _far_horizon(db) -> int:
    """A horizon at which 1 to 9 releases are still at risk (near the end of follow-up)."""
    con = connect_readonly(db)
    lib = kaplan_meier_from_db(con).result
    con.close()
    at = lib.at(list(range(1500, 2200, 5)))
    small = at[(at["n_risk"] > 0) & (at["n_risk"] < 10)]
    return int(small["days"].iloc[0])


def test_km_json_hides_a_small_number_at_risk(db):
    # Regression: `desist km --json` printed n_risk 4 (and the survival beside it).
    days = _far_horizon(db)
    code, out = run("km", "--db", db, "--json", "--horizons", f"365,{days}")
    assert code == 0, out
    payload = json.loads(out)
    far = payload["groups"][0]["horizons"][-1]
    assert far["days"] == days
    assert far["n_risk"] is None and far["survival"] is None and far["recidivism"] is None
    assert payload["disclosure"]["hidden_values"] >= 6
    assert payload["disclosure"]["unsafe_analyst_output"] is False
    for group in payload["groups"]:
        for h in group["horizons"]:
            assert h["n_risk"] is None or h["n_risk"] >= 10


def test_km_text_output_hides_a_small_number_at_risk(db):
    days = _far_horizon(db)
    code, out = run("km", "--db", db, "--horizons", f"{days}")
    assert code == 0, out
    row = next(line for line in out.splitlines() if line.strip().startswith(str(days)))
    assert "<10" in row


def test_unsafe_analyst_output_is_said_in_the_json(db):
    days = _far_horizon(db)
    result = CliRunner().invoke(main, ["km", "--db", db, "--json", "--horizons", f"{days}",
                                       "--min-cell", "1", "--unsafe-analyst-output"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["disclosure"]["unsafe_analyst_output"] is True
    assert payload["disclosure"]["suppressed"] is False
    assert 0 < payload["groups"][0]["horizons"][0]["n_risk"] < 10
    assert "unsafe analyst output" in result.stderr


@pytest.mark.parametrize("command", ["km", "cif", "cox"])
@pytest.mark.parametrize("option", ["--min-cell", "--min-group-size"])
def test_min_cell_below_5_is_refused(db, command, option):
    # Regression: `km --min-group-size 1` was accepted.
    if command == "cox" and option == "--min-group-size":
        option = "--min-cell"
    code, out = run(command, "--db", db, option, "4", "--json")
    assert code == 2
    assert "--min-cell must be at least 5, not 4" in out


def test_cif_json_hides_small_counts(db):
    days = _far_horizon(db)
    code, out = run("cif", "--db", db, "--json", "--horizons", f"365,{days}")
    assert code == 0, out
    payload = json.loads(out)
    assert payload["disclosure"]["min_cell"] == 10
    group = payload["groups"][0]
    assert group["horizons"][-1]["n_risk"] is None
    assert group["horizons"][-1]["cif"]["reoffence"]["estimate"] is None
    # 5 deaths end follow-up before any reoffence: hidden; the reoffences stay shown
    # (the rest of the group is not published, so nothing can be subtracted)
    assert group["events"]["competing"] is None
    assert group["events"]["reoffence"] >= 10
    unsafe = CliRunner().invoke(main, ["cif", "--db", db, "--json", "--min-cell", "1",
                                       "--unsafe-analyst-output"])
    assert json.loads(unsafe.stdout)["groups"][0]["events"]["competing"] == 5


def test_cox_json_has_the_disclosure_block(db):
    code, out = run("cox", "--db", db, "--covariates", "sex", "--json")
    assert code == 0, out
    payload = json.loads(out)
    assert payload["disclosure"]["min_cell"] == 10 and payload["disclosure"]["suppressed"]
    assert payload["n"] == 300 and payload["events"] >= 10
    # a k larger than the releases without an event hides the events (300 - events < k)
    code, out = run("cox", "--db", db, "--covariates", "sex", "--json", "--min-cell", "295")
    payload = json.loads(out)
    assert payload["n"] == 300 and payload["events"] is None
    assert payload["disclosure"]["hidden_values"] == 1
