"""``desist hazard``: the JSON contract, the text in every language, exit status 2 on user
errors, and a help that loads no analysis stack."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.i18n import LANGUAGES, translator
from tests.test_cli_start import HEAVY, _loaded_by

MONTH_KEYS = {"month", "start_day", "end_day", "at_risk", "events", "censored", "hazard",
              "lower", "upper"}


def run(*args: str):
    return CliRunner().invoke(main, ["hazard", *args])


@pytest.fixture(scope="module")
def by_region(demo_db):
    result = run("--db", str(demo_db), "--by", "release_region", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_json_contract(by_region):
    assert set(by_region) == {"disclosure", "event_types", "by", "months", "conf_level",
                              "groups"}
    assert by_region["by"] == "release_region" and by_region["months"] == 24
    assert by_region["disclosure"]["min_cell"] == 10
    for group in by_region["groups"]:
        assert set(group) == {"group", "releases", "months", "first_year_shares"}
        assert [row["month"] for row in group["months"]] == list(range(1, 25))
        assert all(set(row) == MONTH_KEYS for row in group["months"])
        assert [s["months"] for s in group["first_year_shares"]] == [1, 3, 6]
        assert [s["days"] for s in group["first_year_shares"]] == [30, 91, 183]
        # numbers only: every value but the group's name is a number or null
        values = [v for row in group["months"] for v in row.values()]
        values += [s["share"] for s in group["first_year_shares"]]
        assert all(v is None or isinstance(v, int | float) for v in values)


def test_json_equals_the_study_result(demo_db, by_region):
    import analysis as ds

    with ds.open_study(demo_db) as study:
        fitted = study.monthly_hazard("release_region")
    assert fitted.as_dict(ds.DisclosurePolicy(k=10)) == by_region


def test_no_count_below_k_is_printed(by_region):
    counts = [row[name] for g in by_region["groups"] for row in g["months"]
              for name in ("at_risk", "events", "censored")]
    assert not any(c is not None and 0 < c < 10 for c in counts)
    assert by_region["disclosure"]["hidden_values"] > 0


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_text_output_in_every_language(demo_db, lang):
    result = run("--db", str(demo_db), "--by", "sex", "--months", "6", "--lang", lang)
    assert result.exit_code == 0, result.output
    tr = translator(lang)
    assert tr("month") in result.output and tr("hazard") in result.output
    assert result.output.count("\n") > 10
    if lang != "en":
        assert "Monthly hazard" not in result.output


def test_min_cell_below_five_needs_the_unsafe_flag(demo_db):
    refused = run("--db", str(demo_db), "--min-cell", "3", "--json")
    assert refused.exit_code == 2 and "--unsafe-analyst-output" in refused.output
    allowed = run("--db", str(demo_db), "--min-cell", "1", "--unsafe-analyst-output",
                  "--months", "3", "--json")
    assert allowed.exit_code == 0
    payload = json.loads(allowed.output[allowed.output.index("{"):])
    assert payload["disclosure"]["unsafe_analyst_output"] is True
    assert payload["disclosure"]["hidden_values"] == 0


@pytest.mark.parametrize("args", [["--months", "0"], ["--months", "121"],
                                  ["--by", "shoe_size"], ["--events", "parking"]])
def test_user_errors_exit_2(demo_db, args):
    result = run("--db", str(demo_db), *args)
    assert result.exit_code == 2, result.output


def test_help_imports_no_heavy_module():
    assert _loaded_by(["hazard", "--help"], HEAVY) == []
