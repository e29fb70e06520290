"""Programme impact on the demo database and on hand-made cases."""

import datetime as dt
import json
import re
import subprocess
import sys

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.errors import AnalysisError
from analysis.impact.cohort import build_cohort, resolve_programmes
from analysis.impact.evaluation import ImpactEvaluation
from analysis.impact.propensity import PropensityScore
from analysis.impact.wording import POST_RELEASE_LANDMARK, attrition_table, reason_text
from analysis.store.schema import migrate
from analysis.survival.episodes import Outcome
from analysis.survival.follow_up import prepare_for_analysis

REARREST = Outcome.named("rearrest")
#: A tag that would make the browser fetch something from another host.
EXTERNAL_RESOURCE = re.compile(
    r"""<(script|link|img|iframe)[^>]+(src|href)\s*=\s*["']?(https?:)?//""", re.I
)


@pytest.mark.parametrize("method", ["match", "iptw"])
def test_in_prison_programme_result_is_complete(demo_con, method):
    result = ImpactEvaluation(program="VOC-METAL", method=method, outcome=REARREST).fit(demo_con)
    payload = result.as_dict()
    for key in (
        "program",
        "method",
        "horizon_days",
        "counts",
        "participants",
        "comparison",
        "difference",
        "hazard_ratio",
        "significant",
        "reportable",
        "balance",
        "cost",
        "summary_text",
    ):
        assert key in payload
    assert set(payload["counts"]) >= {"participants", "eligible", "matched", "comparison"}
    assert (
        0 <= result.participants.lower <= result.participants.rate <= result.participants.upper <= 1
    )
    assert result.difference.lower < result.difference.estimate < result.difference.upper
    assert result.hazard_ratio.lower < result.hazard_ratio.estimate < result.hazard_ratio.upper
    assert result.balance["smd_after"].abs().max() < result.balance["smd_before"].abs().max()
    assert result.summary_text.startswith(
        ("For every 100 participants", "No result can be reported")
    )
    json.dumps(payload, default=float)  # serialisable
    # The JSON contract keeps its English words under the same keys.
    assert all(set(row) == {"step", "participants", "comparison", "note"}
               for row in payload["attrition"])
    assert payload["attrition"][0]["step"] == "releases with the programme / without it"
    assert payload["attrition"][0]["note"] == ""
    assert re.fullmatch(r"\d+ releases? from facilities or periods without the programme "
                        r"excluded", payload["attrition"][1]["note"])
    unmatched = result.attrition["removed"].iloc[-1]
    assert payload["attrition"][-1]["note"] == (
        "every eligible release, weighted" if method == "iptw" else
        f"{unmatched} participant{'' if unmatched == 1 else 's'} without a comparison person "
        "within the caliper")
    assert all(isinstance(text, str) for key in ("rules", "notes") for text in payload[key])
    assert payload["summary_text"] == result.headline("en")
    if method == "match":
        assert result.counts["matched"] == result.counts["comparison"]
        assert result.attrition["step"].iloc[-1] == "matched"


def test_matching_removes_the_selection_bias_of_a_null_programme(demo_con):
    """Prison work has no true effect; its naive comparison looks protective."""
    result = ImpactEvaluation(program="WORK-BRAND", outcome=REARREST).fit(demo_con)
    naive = result.naive["hazard_ratio"]
    assert naive["upper"] < 0.95  # naive: clearly "protective"
    assert result.hazard_ratio.lower <= 1.0 <= result.hazard_ratio.upper


def test_unknown_programme_and_empty_project_are_clear_errors(demo_con):
    with pytest.raises(AnalysisError, match="unknown programme 'NOPE'"):
        ImpactEvaluation(program="NOPE").fit(demo_con)
    with pytest.raises(AnalysisError, match="no programme belongs to project or funder"):
        ImpactEvaluation(project="Nobody").fit(demo_con)
    with pytest.raises(AnalysisError, match="exactly one"):
        ImpactEvaluation().fit(demo_con)
    with pytest.raises(AnalysisError, match="method"):
        ImpactEvaluation(program="VOC-METAL", method="magic")


def _insert(con, table, frame):
    con.register("incoming_rows", frame)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_rows")
    con.unregister("incoming_rows")


def _landmark_db(tmp_path):
    """Six releases, one post-release programme; outcomes at known days."""
    con = duckdb.connect(str(tmp_path / "lm.duckdb"))
    migrate(con)
    base = dt.date(2020, 1, 1)
    _insert(
        con,
        "releases",
        pd.DataFrame(
            {
                "release_id": [f"r{i}" for i in range(6)],
                "person_id": [f"p{i}" for i in range(6)],
                "release_date": [base] * 6,
                "facility": ["A"] * 6,
                "follow_up_end": [base + dt.timedelta(days=700)] * 6,
                "batch_id": "b",
            }
        ),
    )
    con.execute(
        "INSERT INTO programs VALUES ('PRS', 'Probation support', 'post_release_support',"
        " 'post_release', 'P', 'F', 100, 'EUR', 'b')"
    )
    # p0 starts on day 10 (by the landmark), p1 on day 200 (after it), p2 on day 10 but
    # reoffends on day 50 (before the landmark: not at risk at day 90).
    _insert(
        con,
        "participation",
        pd.DataFrame(
            {
                "person_id": ["p0", "p1", "p2"],
                "program_id": "PRS",
                "start_date": [base + dt.timedelta(days=d) for d in (10, 200, 10)],
                "batch_id": "b",
            }
        ),
    )
    _insert(
        con,
        "events",
        pd.DataFrame(
            {
                "person_id": ["p0", "p2", "p3"],
                "event_date": [base + dt.timedelta(days=d) for d in (300, 50, 400)],
                "event_type": "rearrest",
                "batch_id": "b",
            }
        ),
    )
    prepare_for_analysis(con, "b")  # the derived follow-up table, as an import builds it
    return con


def test_post_release_programme_is_compared_at_a_landmark(tmp_path):
    con = _landmark_db(tmp_path)
    programmes = resolve_programmes(con, program="PRS")
    cohort = build_cohort(con, programmes, covariates=(), landmark_days=90)
    frame = cohort.frame.set_index("release_id")
    assert "r2" not in frame.index  # reoffended before day 90: not at risk at the landmark
    assert frame.loc["r0", "treated"] and not frame.loc["r1", "treated"]  # r1 started after L
    assert frame.loc["r0", "time"] == 300 - 90 and frame.loc["r0", "event"] == 1
    assert frame.loc["r3", "time"] == 400 - 90
    assert frame.loc["r4", "time"] == 700 - 90 and frame.loc["r4", "event"] == 0
    assert cohort.landmark_days == 90
    assert [note.code for note in cohort.notes] == [POST_RELEASE_LANDMARK]
    assert "day 90" in reason_text(cohort.notes[0])


def test_too_few_participants_is_not_reportable(demo_con):
    result = ImpactEvaluation(program="DISENG", outcome=REARREST, horizon_days=365).fit(demo_con)
    if result.counts["participants_with_outcomes"] < 60:
        assert not result.reportable and not result.significant
        assert result.summary_text.startswith("No result can be reported")
    else:  # the fixture is large enough: the rule still holds on the numbers
        assert result.reportable


def test_cli_impact_json_and_offline_report(demo_db, tmp_path):
    desist = [sys.executable, "-m", "analysis.cli.run"]
    out = subprocess.run(
        [
            *desist,
            "impact",
            "--db",
            str(demo_db),
            "--program",
            "VOC-METAL",
            "--events",
            "rearrest",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["method"] == "match" and payload["horizon_days"] == 365
    bad = subprocess.run(
        [*desist, "impact", "--db", str(demo_db), "--program", "NOPE"],
        capture_output=True,
        text=True,
    )
    assert (
        bad.returncode == 2 and "unknown programme" in bad.stderr and "Traceback" not in bad.stderr
    )
    report = tmp_path / "r" / "voc.html"
    done = subprocess.run(
        [*desist, "report", "--db", str(demo_db), "--program", "VOC-METAL", "--out", str(report)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    page = report.read_text(encoding="utf-8")
    assert "Impact of VOC-METAL" in page and "For every 100" in page
    assert not EXTERNAL_RESOURCE.search(page)
    assert np.isfinite(payload["hazard_ratio"]["estimate"])


def test_result_has_a_notebook_html_view(demo_con):
    result = ImpactEvaluation(program="VOC-METAL", outcome=REARREST).fit(demo_con)
    page = result._repr_html_()
    assert "Impact of VOC-METAL" in page and "<table" in page and "hazard ratio" in page


def test_completers_are_compared_with_people_who_did_not_take_part(demo_con):
    from analysis.survival.episodes import build_episodes
    from analysis.survival.exposures import add_exposures

    programmes = resolve_programmes(demo_con, program="VOC-METAL")
    episodes = build_episodes(demo_con, REARREST)
    took_part = add_exposures(demo_con, episodes, ["VOC-METAL"]).frame
    completed = add_exposures(demo_con, episodes, ["VOC-METAL"], variant="completed").frame
    leavers = set(took_part.loc[(took_part["VOC-METAL"] == 1) & (completed["VOC-METAL"] == 0),
                                "release_id"])
    assert leavers, "the demo has participants who did not complete"

    cohort = build_cohort(demo_con, programmes, outcome=REARREST, variant="completed")
    comparison = set(cohort.frame.loc[~cohort.frame["treated"], "release_id"])
    assert not comparison & leavers
    step = cohort.attrition[cohort.attrition["step"] == "completers"]
    assert len(step) == 1 and step["removed"].iloc[0] == len(leavers)
    words = attrition_table(cohort.attrition)
    assert words["step"].str.contains("non-completing").sum() == 1
    assert words["note"].str.startswith(f"{len(leavers)} releases that took part").sum() == 1

    anyone = build_cohort(demo_con, programmes, outcome=REARREST)
    assert "completers" not in set(anyone.attrition["step"])


def test_cli_sub_analyses_follow_the_same_rules(demo_db):
    from click.testing import CliRunner

    from analysis.cli import main

    runner = CliRunner()
    base = ["impact", "--db", str(demo_db), "--program", "EDU-BASIC", "--events", "rearrest"]
    women = runner.invoke(main, [*base, "--sex", "F", "--json"])
    assert women.exit_code == 0, women.output
    payload = json.loads(women.output)
    assert payload["sub_analysis"] == {"sex": ["F"], "age_band": [], "completed_only": False}
    everyone = json.loads(runner.invoke(main, [*base, "--json"]).output)
    assert payload["counts"]["participants"] < everyone["counts"]["participants"]
    if payload["counts"]["participants_with_outcomes"] < 60:  # few women took part
        assert not payload["reportable"] and not payload["significant"]

    completers = runner.invoke(main, [*base, "--completed-only", "--age-band", "18-24,25-34"])
    assert completers.exit_code == 0, completers.output
    assert "Sub-analysis: age band 18-24, 25-34; completers only" in completers.output

    bad = runner.invoke(main, [*base, "--age-band", "99"])
    assert bad.exit_code == 2 and "unknown age band" in bad.output
    metal = [*base[:3], "--program", "VOC-METAL", "--sex", "F"]  # not offered to women
    none = runner.invoke(main, metal)
    assert none.exit_code == 2 and "no participants in the selection" in none.output



@pytest.mark.parametrize("program", ["VOC-METAL", "EDU-BASIC", "COMM-DRUG"])
def test_the_hazard_ratio_adjusts_for_every_column_of_the_propensity_model(
    demo_con, monkeypatch, program
):
    """The matched Cox model uses the propensity design, reference levels included; the
    weighted one is marginal: taking part alone, with the ATT weights.

    (Indicators remade in the matched sample once picked another reference level when two
    levels tied there, which silently dropped a level from the adjustment.) Only columns
    constant in the compared sample, or whose people all (or none) reoffended, are left out.
    """
    import analysis.impact.evaluation as evaluation

    calls = []
    real_fit, real_hr = evaluation.CoxModel.fit, evaluation._hazard_ratio

    def hazard_ratio(prepared, rows, design, *clusters):
        calls.append({"rows": rows, "design": design})
        return real_hr(prepared, rows, design, *clusters)

    def fit(self, frame, duration, event, covariates, **options):
        if calls and "frame" not in calls[-1]:  # the model _hazard_ratio fits
            calls[-1].update(frame=frame, covariates=list(covariates))
        return real_fit(self, frame, duration, event, covariates, **options)

    monkeypatch.setattr(evaluation, "_hazard_ratio", hazard_ratio)
    monkeypatch.setattr(evaluation.CoxModel, "fit", fit)
    prepared = ImpactEvaluation(program=program, outcome=REARREST).prepare(demo_con)
    # the prepared evaluation keeps the score without its design (memory): fit it again
    assert not hasattr(prepared.propensity, "design_")
    propensity_design = PropensityScore(list(prepared.cohort.covariates),
                                        prepared.categorical).fit(
        prepared.cohort.frame, "treated").design_
    assert list(propensity_design.columns) == prepared.propensity.design_columns_
    fitted = []
    monkeypatch.setattr(evaluation.CoxModel, "fit", lambda self, frame, *args, **options: (
        fitted.append((list(args[2]), options)), fit(self, frame, *args, **options))[1])
    prepared.result("iptw")
    assert not calls  # no covariate-adjusted model for the weighted method
    ((covariates, options),) = [f for f in fitted if "weights_col" in f[1]]
    assert covariates == ["programme"]
    assert options["weights_col"] == "weight" and options["cluster_col"] == "person_id"
    for method in ("match",):
        calls.clear()
        prepared.result(method)
        (call,) = calls
        pd.testing.assert_frame_equal(call["design"], propensity_design.take(call["rows"]))
        event = call["frame"]["event"].to_numpy(dtype=bool)
        expected = []
        for name in propensity_design.columns:
            values = call["design"][name].to_numpy()
            if values.min() == values.max():
                continue
            if set(np.unique(values)) <= {0.0, 1.0}:
                among = event[values == 1]
                if not among.any() or among.all():
                    continue
            expected.append(name)
        assert call["covariates"] == ["programme", *expected]
        assert expected


def test_a_method_that_cannot_compare_leaves_the_other_one(demo_con):
    """Both comparisons are made when the score is fitted: a caliper no one meets
    refuses the matched result, with its reason, every time it is asked for, and the
    weighted result is the one of an evaluation with a usual caliper."""
    narrow = ImpactEvaluation(program="VOC-METAL", outcome=REARREST, caliper_sd=1e-12)
    prepared = narrow.prepare(demo_con)
    for _ in range(2):
        with pytest.raises(AnalysisError, match="within the caliper"):
            prepared.result("match")
    weighted = prepared.result("iptw")
    usual = ImpactEvaluation(program="VOC-METAL", outcome=REARREST).prepare(demo_con)
    assert weighted.as_dict() == usual.result("iptw").as_dict()
