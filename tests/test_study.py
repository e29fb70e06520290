"""``Study``: one object from the CLI or a notebook to the SQL builder, and nothing else.

Its results equal the engines' (no number changes on the way), its configuration is
fixed at construction, it closes only the connection it opened, it computes a study's
episodes once for many analyses, and the CLI reaches the data only through it: no SQL
in ``analysis/cli``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import tokenize
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import analysis as ds
from analysis.cli import main
from analysis.contract import EVENT_TYPES
from analysis.disclosure import DisclosurePolicy
from analysis.errors import AnalysisError
from analysis.results import html_block
from analysis.study import Study, as_outcome
from analysis.survival.competing_risks import cumulative_incidence_from_db
from analysis.survival.episodes import Outcome
from analysis.survival.fixed_horizon import fixed_horizon_rates_from_db
from analysis.survival.grouping import resolve_grouping
from analysis.survival.kaplan_meier import kaplan_meier_from_db
from tests.survival.km_db import D, make_db

ROOT = Path(__file__).resolve().parents[1]
REARREST = Outcome.named("rearrest")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("study") / "study.duckdb"
    rng = np.random.default_rng(5)
    releases, events = [], []
    for i in range(400):
        release = D(2018, 1, 1) + np.timedelta64(int(rng.integers(0, 900)), "D").item()
        releases.append({"release_id": f"r{i}", "person_id": f"p{i}", "release_date": release,
                         "follow_up_end": D(2023, 12, 31),
                         "follow_up_end_reason": "deportation" if i % 19 == 0 else "data_cutoff",
                         "sex": "F" if i % 3 == 0 else "M",
                         "facility": "North" if i % 2 else "South"})
        if rng.random() < 0.6:
            events.append((f"p{i}", release + np.timedelta64(int(rng.integers(1, 1500)),
                                                             "D").item(),
                           "rearrest" if rng.random() < 0.7 else "reconviction"))
    con = make_db(path, releases, events, [("EDU", "in_prison")],
                  [(f"p{i}", "EDU", D(2017, 6, 1), None) for i in range(0, 400, 4)])
    con.close()
    return str(path)


@pytest.fixture()
def study(db):
    with ds.open_study(db, outcome=REARREST) as opened:
        yield opened


def test_study_results_equal_the_engines(study):
    con = study.connection
    for by in (None, "sex", "program:EDU"):
        km = study.kaplan_meier(by)
        engine = kaplan_meier_from_db(con, by, REARREST)
        pd.testing.assert_frame_equal(km.table, engine.result.table)
        pd.testing.assert_frame_equal(km.summary, engine.result.summary)
        assert km.by == engine.by and km.event_types == engine.event_types
        assert (km.logrank is None) == (engine.logrank is None)
        cif = study.cumulative_incidence(by, by_reason=True)
        engine_cif, types = cumulative_incidence_from_db(con, by, REARREST, by_reason=True)
        pd.testing.assert_frame_equal(cif.table, engine_cif.table)
        assert cif.event_types == types
        rates = study.fixed_horizon_rates([365, 730], by)
        pd.testing.assert_frame_equal(rates.rates, fixed_horizon_rates_from_db(
            con, [365, 730], REARREST, grouping=resolve_grouping(con, by)))


def test_day_counts_are_those_the_curves_are_fitted_on(study):
    pd.testing.assert_frame_equal(study.day_counts("sex"), study.kaplan_meier("sex").day_table)


def test_the_selection_reaches_every_analysis(study):
    women = study.with_selection(sexes=("F",))
    assert women.kaplan_meier().summary["n"].iloc[0] == study.kaplan_meier(
        "sex").summary.set_index("group").loc["F", "n"]
    assert women.cox(["facility"]).n_releases == women.kaplan_meier().summary["n"].iloc[0]
    assert women.fixed_horizon_rates([365]).summary["releases"].iloc[0] == 134


def test_a_study_is_configured_once_and_never_changed(study):
    with pytest.raises(AttributeError, match="immutable"):
        study.outcome = Outcome()
    any_event = study.with_outcome(None)
    assert study.outcome == REARREST and any_event.outcome == Outcome()
    assert any_event.connection is study.connection  # one connection, one cache
    assert study.kaplan_meier().event_types == ("rearrest",)
    assert any_event.kaplan_meier().event_types == ("rearrest", "reconviction")
    km = study.kaplan_meier("sex")
    with pytest.raises(dataclasses.FrozenInstanceError):
        km.logrank = None  # type: ignore[misc]


def _temp_tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()]


def test_episodes_are_materialized_once_for_many_analyses(db):
    with ds.open_study(db, outcome=REARREST) as study:
        first = study.kaplan_meier("sex")
        assert _temp_tables(study.connection) == []  # one analysis: the direct path
        study.fixed_horizon_rates([365], "sex")
        study.with_selection(sexes=("M",)).cumulative_incidence()
        assert _temp_tables(study.connection) == ["_desist_episodes_rearrest"]
        again = study.kaplan_meier("sex")  # read from the table: the same numbers
        pd.testing.assert_frame_equal(first.table, again.table)
        assert len(_temp_tables(study.connection)) == 1


def test_a_borrowed_connection_stays_open_and_an_owned_one_is_closed(db):
    con = duckdb.connect(db, read_only=True)
    with Study(con, outcome="rearrest") as borrowed:
        borrowed.kaplan_meier()
    assert con.execute("SELECT count(*) FROM releases").fetchone() == (400,)
    con.close()
    owned = ds.open_study(db)
    owned.close()
    with pytest.raises(AnalysisError, match="closed"):
        owned.kaplan_meier()


def test_groupings_travel_as_objects(study):
    sex = study.grouping("sex")
    assert study.kaplan_meier(sex).grouping is sex
    with pytest.raises(AnalysisError, match="unknown breakdown field 'shoe'"):
        study.grouping("shoe")
    with pytest.raises(AnalysisError, match="at least two groups"):
        study.logrank(None)
    assert study.logrank("sex").as_dict() == study.kaplan_meier("sex").logrank.as_dict()


@pytest.mark.parametrize("args, method", [
    (["km", "--by", "sex", "--events", "rearrest", "--horizons", "365,730"], "kaplan_meier"),
    (["cif", "--by", "facility", "--events", "rearrest", "--horizons", "365,730"],
     "cumulative_incidence"),
])
def test_as_dict_is_the_cli_json(db, study, args, method):
    out = CliRunner().invoke(main, [*args, "--db", db, "--json"])
    assert out.exit_code == 0, out.output
    fitted = getattr(study, method)(args[2])
    assert json.loads(out.output) == json.loads(json.dumps(
        fitted.as_dict(DisclosurePolicy(k=10), [365, 730])))


def test_cox_as_dict_is_the_cli_json(db, study):
    out = CliRunner().invoke(main, ["cox", "--db", db, "--covariates", "sex", "--events",
                                    "rearrest", "--json", "--min-cell", "5"])
    assert out.exit_code == 0, out.output
    expected = study.cox(["sex"]).as_dict(DisclosurePolicy(k=5))
    assert json.loads(out.output) == json.loads(json.dumps(expected))


def test_the_old_public_functions_still_work_with_a_connection_or_a_study(db, study):
    con = duckdb.connect(db, read_only=True)
    old = ds.kaplan_meier(con, by="sex", outcome=REARREST)
    new = ds.kaplan_meier(study, by="sex")
    pd.testing.assert_frame_equal(old.result.at([365]), new.result.at([365]))
    assert ds.fixed_horizon_rates(con, [365], outcome=REARREST).equals(
        study.fixed_horizon_rates([365]).rates)
    assert ds.cumulative_incidence(con, outcome="rearrest").causes == ("reoffence",
                                                                       "competing")
    assert ds.fit_cox(con, ["sex"], outcome=REARREST).se_type == "robust"
    con.close()


def test_notebook_views_escape_data_text():
    page = html_block("by <facility>", [("groups", pd.DataFrame({"group": ["<script>"]}))])
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_study_repr_html_shows_the_tables(study):
    page = study.kaplan_meier("sex")._repr_html_()
    assert "<table" in page and "log-rank" in page
    assert "<table" in study.cox(["sex"])._repr_html_()


@given(st.lists(st.sampled_from(EVENT_TYPES), min_size=1, max_size=6),
       st.sampled_from([",", ", ", " ,"]))
def test_an_outcome_is_read_from_a_list_of_event_types(types, separator):
    outcome = as_outcome(separator.join(types))
    assert outcome.event_types == tuple(dict.fromkeys(types))
    assert as_outcome(types) == outcome and as_outcome(outcome) is outcome


def test_unknown_event_types_are_refused():
    with pytest.raises(AnalysisError, match="unknown event type"):
        as_outcome("rearrest,arson")


# --- no SQL in the command line ---------------------------------------------------------

CLI = ROOT / "analysis" / "cli"
#: SQL in a string literal: a statement's keywords, upper case as the project writes SQL
#: (prose such as "select the releases from..." is not SQL).
SQL_TEXT = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
                      r"CREATE\s+(TEMP\s+|OR\s+REPLACE\s+)?(TABLE|VIEW|INDEX)|DROP\s+TABLE|"
                      r"ALTER\s+TABLE|PRAGMA\s|SET\s+\w+\s*=|ATTACH\s|COPY\s.+\s(TO|FROM))",
                      re.DOTALL)
#: In code: running SQL, or a grouping's SQL pieces.
SQL_CODE = re.compile(r"\.(execute|executemany|sql|query|fetchall|fetchone|df)\s*\(|"
                      r"\b(key_sql|label_sql|group_sql|episodes_query|episodes_sql|"
                      r"day_counts|connect_readonly|import\s+duckdb)\b")


def sql_in(source: str) -> list[str]:
    """The SQL statements in string literals, and the SQL calls in code, of ``source``."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING and SQL_TEXT.search(token.string):
            found.append(f"line {token.start[0]}: SQL text {token.string[:60]!r}")
    code = "".join(line.split("#", 1)[0] + "\n" for line in source.splitlines())
    found += [f"code: {m.group(0)!r}" for m in SQL_CODE.finditer(code)]
    return found


def test_the_cli_has_no_sql():
    offenders = {path.name: hits for path in sorted(CLI.glob("*.py"))
                 if (hits := sql_in(path.read_text(encoding="utf-8")))}
    assert not offenders, f"SQL in analysis/cli (go through analysis.study.Study): {offenders}"


@pytest.mark.parametrize("source", [
    'con.execute("SELECT 1")',
    'rows = """SELECT name\\n  FROM covariates"""',
    'sql = f"CREATE TEMP TABLE {name} AS {query}"',
    '"SET enable_progress_bar = false"',
    "table, _ = day_counts(con, outcome)",
    "x = grouping.key_sql",
    "import duckdb",
])
def test_the_sql_check_sees_sql(source):
    assert sql_in(source)


def test_the_sql_check_passes_words():
    assert not sql_in('help = "Select the releases to analyse, from the database"\n'
                      '"the JSON sets se_type"\n')


# --- --lang -----------------------------------------------------------------------------

def test_text_output_speaks_the_chosen_language_and_json_stays_english(db):
    runner = CliRunner()
    base = ["km", "--db", db, "--by", "sex", "--horizons", "365"]
    french = runner.invoke(main, [*base, "--lang", "fr"])
    assert french.exit_code == 0, french.output
    assert "libérations" in french.output and "Test du log-rank" in french.output
    arabic = runner.invoke(main, [*base, "--lang", "ar"]).output
    assert "حالات الإفراج" in arabic or "حالة إفراج" in arabic
    russian = runner.invoke(main, ["cif", "--db", db, "--lang", "ru"]).output
    assert "Кумулятивная инцидентность" in russian and "конкурирующий исход" in russian
    serbian = runner.invoke(main, ["cox", "--db", db, "--covariates", "sex", "--lang", "sr"])
    assert serbian.exit_code == 0 and "Koksov model" in serbian.output
    as_json = [runner.invoke(main, [*base, "--json", "--lang", lang]).output
               for lang in ("en", "fr", "ar")]
    assert as_json[0] == as_json[1] == as_json[2]


def test_an_unknown_language_is_refused(db):
    result = CliRunner().invoke(main, ["km", "--db", db, "--lang", "de"])
    assert result.exit_code == 2 and "'de' is not one of" in result.output


@pytest.mark.parametrize("command", ["km", "cif", "cox", "impact", "report"])
def test_every_analysis_command_takes_a_language(command):
    option = {param.name: param for param in main.commands[command].params}["lang"]
    assert list(option.type.choices) == ["en", "fr", "ar", "ru", "sr"]
    assert option.default == "en"


def test_impact_and_report_pass_the_language_on(demo_db, tmp_path):
    runner = CliRunner()
    base = ["--db", str(demo_db), "--program", "VOC-METAL"]
    french = runner.invoke(main, ["impact", *base, "--lang", "fr"])
    assert french.exit_code == 0, french.output
    assert "Impact de VOC-METAL" in french.output and "rapport de risques" in french.output
    english = runner.invoke(main, ["impact", *base, "--json"]).output
    assert runner.invoke(main, ["impact", *base, "--json", "--lang", "ru"]).output == english
    out = tmp_path / "rapport.html"
    written = runner.invoke(main, ["report", *base, "--lang", "fr", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert out.is_file() and "rapport écrit dans" in written.output
