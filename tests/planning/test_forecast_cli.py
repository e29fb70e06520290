"""``desist forecast``: the JSON contract of issue 16, the backtest beside it, text in every
language, exit status 2 on bad input, and a help that loads no analysis stack."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.i18n import LANGUAGES, translator
from tests.test_cli_start import HEAVY, _loaded_by


def run(*args: str):
    return CliRunner().invoke(main, ["forecast", *args])


@pytest.fixture(scope="module")
def by_region(demo_db):
    result = run("--db", str(demo_db), "--by", "release_region", "--events",
                 "reincarceration", "--backtest", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_json_contract(by_region):
    assert set(by_region) == {"disclosure", "as_of", "event_types", "by", "level", "groups",
                              "total", "backtest", "backtest_as_of", "backtest_coverage"}
    assert by_region["event_types"] == ["reincarceration"] and by_region["level"] == 0.9
    assert by_region["as_of"] == "2025-06-30"  # the demo's last day
    for group in by_region["groups"]:
        assert set(group) == {"group", "at_risk", "upcoming_releases", "pooled_curve",
                              "horizons"}
        assert [h["months"] for h in group["horizons"]] == [3, 6, 12]
        for line in group["horizons"]:
            assert set(line) == {"months", "expected", "lower", "upper"}
            if line["expected"] is not None:
                assert line["lower"] <= line["upper"]
    assert any(g["upcoming_releases"] for g in by_region["groups"]), "the demo has them"


def test_with_a_breakdown_everyone_together_is_the_forecast_without_it(demo_db, by_region):
    result = run("--db", str(demo_db), "--events", "reincarceration", "--json")
    assert result.exit_code == 0, result.output
    (everyone,) = json.loads(result.output)["groups"]
    total = by_region["total"]
    assert {k: everyone[k] for k in total} == total
    counts = [g["at_risk"] for g in by_region["groups"]]
    assert None not in counts, "the demo's regions are large"
    assert total["at_risk"] == sum(counts)
    twelve = [h for g in by_region["groups"] for h in g["horizons"] if h["months"] == 12]
    # the groups' expected numbers add up to everyone's (within rounding), their
    # intervals do not: everyone's is narrower than the sum of the groups'
    if all(h["expected"] is not None for h in twelve):
        (mine,) = [h for h in total["horizons"] if h["months"] == 12]
        assert sum(h["expected"] for h in twelve) == pytest.approx(mine["expected"], rel=0.02)
        assert mine["upper"] - mine["lower"] < sum(h["upper"] - h["lower"] for h in twelve)


def test_without_a_breakdown_there_is_no_separate_total(demo_db):
    result = run("--db", str(demo_db), "--months", "3", "--json")
    assert json.loads(result.output)["total"] is None


def test_the_backtest_is_made_a_year_earlier_and_says_how_often_it_was_right(by_region):
    assert by_region["backtest_as_of"] == "2024-06-30"
    rows = by_region["backtest"]
    assert {tuple(sorted(r)) for r in rows} == {
        ("group", "lower", "months", "observed", "predicted", "upper")}
    cells = [r for r in rows if r["observed"] is not None and r["lower"] is not None]
    inside = sum(r["lower"] <= r["observed"] <= r["upper"] for r in cells)
    assert 0 <= by_region["backtest_coverage"] <= 1
    if len(cells) == len(rows):  # nothing hidden: the coverage is the share shown
        assert by_region["backtest_coverage"] == pytest.approx(inside / len(cells), abs=1e-4)


def test_no_count_below_k_is_printed(by_region):
    counts = [g[name] for g in by_region["groups"] for name in ("at_risk", "upcoming_releases")]
    counts += [r["observed"] for r in by_region["backtest"]]
    assert not any(c is not None and 0 < c < 10 for c in counts)


def test_json_equals_the_study_result(demo_db, by_region):
    import analysis as ds

    with ds.open_study(demo_db, outcome="reincarceration") as study:
        fitted = study.forecast(by="release_region")
    assert fitted.as_dict(ds.DisclosurePolicy(k=10)) == by_region


def test_without_backtest_it_is_null_and_as_of_moves_the_forecast(demo_db):
    result = run("--db", str(demo_db), "--as-of", "2024-06-30", "--months", "12,3", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["backtest"] is None and shown["as_of"] == "2024-06-30"
    assert [h["months"] for h in shown["groups"][0]["horizons"]] == [3, 12]


@pytest.mark.parametrize("language", LANGUAGES)
def test_text_output_is_in_the_chosen_language(demo_db, language):
    result = run("--db", str(demo_db), "--backtest", "--lang", language)
    assert result.exit_code == 0, result.output
    tr = translator(language)
    assert tr("90% interval") in result.output and tr("observed") in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--months", "0,3"], "whole numbers of months from 1 to 60"),
    (["--months", "abc"], "whole numbers of months from 1 to 60"),
    (["--as-of", "2030-01-01"], "outside the data"),
    (["--as-of", "30/06/2024"], "'%Y-%m-%d'"),
    (["--by", "release_year"], "release_year"),
])
def test_bad_input_exits_2_with_a_message_naming_it(demo_db, args, message):
    result = run("--db", str(demo_db), *args)
    assert result.exit_code == 2
    assert message in result.output


def test_help_loads_no_analysis_stack():
    assert _loaded_by(["forecast", "--help"], HEAVY) == []
