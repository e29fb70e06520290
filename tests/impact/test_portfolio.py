"""The portfolio report of a funder or project: one row and one forest-plot line per
programme, each the programme's own evaluation, under the reporting rules and disclosure
control; as HTML and as PDF (`desist report --funder/--project`), and on the Impact page.

A project's programmes are evaluated once for the module through the Impact page's
view and once through the API (the two must agree), and the CLI writes one PDF.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.disclosure import DisclosurePolicy
from analysis.errors import AnalysisError
from analysis.i18n import translator
from analysis.impact.evaluation import ImpactEvaluation
from analysis.impact.portfolio import (
    STATUS_WORDS,
    Portfolio,
    evaluate_portfolio,
    forest_rows,
    portfolio_programmes,
    portfolio_table,
    publish_portfolio,
)
from analysis.impact.portfolio_report import build_portfolio_html
from analysis.impact.rules import MULTIPLE_COMPARISONS
from analysis.impact.wording import reason_text
from analysis.views.filters import ViewFilters
from analysis.views.portfolio import (
    impact_portfolio,
    portfolio_document,
    portfolio_forest_rows,
    portfolio_rows,
)
from tests.html_document import HtmlDocument
from tests.impact.pdf_text import pdf_info, pdf_text, squeezed

FUNDER = "Global Fund"
PROJECT = "Skills for Work"


@pytest.fixture(scope="module")
def con(demo_db):
    from analysis.store import connect_readonly

    connection = connect_readonly(demo_db)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def programmes(con):
    return con.execute("SELECT program_id, name FROM programs WHERE project = ? "
                       "ORDER BY program_id", [PROJECT]).fetchall()


@pytest.fixture(scope="module")
def view(con):
    """The Impact page's portfolio of the project."""
    return impact_portfolio(con, ViewFilters(), kind="project", value=PROJECT)


@pytest.fixture(scope="module")
def skills(con):
    """The project's portfolio, each programme evaluated as its single report does."""
    return evaluate_portfolio(con, "project", PROJECT, horizon_days=365,
                              evaluate=lambda p: ImpactEvaluation(program=p).fit(con))


@pytest.fixture(scope="module")
def portfolio_pdf(demo_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("portfolio") / "portefeuille.pdf"
    done = CliRunner().invoke(main, ["report", "--db", str(demo_db), "--project",
                                     PROJECT, "--pdf", "--lang", "fr",
                                     "--out", str(out)])
    assert done.exit_code == 0, done.output
    return out.read_bytes()


def test_one_row_per_programme(view, programmes):
    table = view.published.table
    assert list(zip(table["program_id"], table["name"], strict=True)) == programmes
    assert len(programmes) == 2


def test_a_funder_s_programmes_are_those_it_funds(con):
    expected = con.execute("SELECT program_id, name FROM programs WHERE funder = ? "
                           "ORDER BY program_id", [FUNDER]).fetchall()
    assert list(portfolio_programmes(con, "funder", FUNDER)) == expected and len(expected) >= 3


def test_each_row_is_the_programme_s_own_evaluation(view, skills):
    # the page's view evaluates each programme as its single report does
    table = view.published.table.set_index("program_id")
    for entry in skills.entries:
        alone, row = entry.result, table.loc[entry.program_id]
        assert row["hr"] == pytest.approx(alone.hazard_ratio.estimate)
        assert row["difference"] == pytest.approx(100 * alone.difference.estimate)
        expected = ("not_reported" if not alone.reportable else "no_difference"
                    if not alone.significant else "reduction"
                    if alone.difference.estimate < 0 else "increase")
        assert row["status"] == expected


def test_every_verdict_follows_the_rules(view):
    table = view.published.table
    assert set(table["status"]) <= set(STATUS_WORDS)
    withheld = table["status"].isin(["not_reported", "not_evaluated"])
    assert table.loc[withheld, ["hr", "difference", "participant_rate"]].isna().all().all()
    assert table.loc[~withheld, "hr"].notna().all()
    # a cost per reoffence avoided only for a reported result, and then a positive sum
    shown = table[table["cost"] == "shown"]
    assert (~shown["status"].isin(["not_reported", "not_evaluated"])).all()
    assert (shown["cost_per_reoffence_avoided"] > 0).all() and shown["currency"].notna().all()


def test_counts_below_k_never_leave_the_portfolio(skills):
    huge = portfolio_table(skills, DisclosurePolicy(k=1000))
    for shown, entry in zip(huge["participants"], skills.entries, strict=True):
        assert shown in ("<1000", "hidden") or int(shown) >= 1000
        if entry.result.participants.n < 1000:
            assert not str(shown).isdigit()
    hidden = ~huge["participants"].str.isdigit()
    assert huge.loc[hidden, "cost"].eq("none").all()  # total cost = n x cost each
    with pytest.raises(AnalysisError, match="at least 5"):
        publish_portfolio(Portfolio("project", "x", 365, ()), DisclosurePolicy(k=3))


def test_a_programme_that_cannot_be_evaluated_keeps_its_row_saying_why(con, skills):
    known = {entry.program_id: entry.result for entry in skills.entries}

    def evaluate(program_id):
        if program_id == "VOC-WOOD":
            raise AnalysisError("no participant of VOC-WOOD in the selection")
        return known[program_id]

    portfolio = evaluate_portfolio(con, "project", PROJECT, horizon_days=365,
                                   evaluate=evaluate)
    table = portfolio_table(portfolio, DisclosurePolicy())
    row = table.set_index("program_id").loc["VOC-WOOD"]
    assert row["status"] == "not_evaluated" and np.isnan(row["hr"])
    page = build_portfolio_html(portfolio, language="fr")
    assert "Évaluation impossible" in page
    assert "Raison : no participant of VOC-WOOD in the selection" in page


def test_an_unknown_project_names_the_known_ones(con):
    with pytest.raises(AnalysisError, match="projects: .*Skills for Work"):
        portfolio_programmes(con, "project", "Nope")


def test_one_forest_line_per_programme_in_the_table_order(view):
    table = view.published.table
    lines = forest_rows(table)
    assert len(lines) == len(table)
    assert [term.split(" – ")[0] for term in lines["term"]][::-1] == list(table["program_id"])


def test_the_page_table_has_numbers_to_compute_with(view):
    rows = portfolio_rows(view, "fr")
    tr = translator("fr")
    assert rows.columns[0] == tr("Programme") and len(rows) == len(view.published.table)
    difference = tr("Difference (percentage points)")
    bounds = [tr("{measure}: lower 95% limit", measure=difference),
              tr("{measure}: upper 95% limit", measure=difference)]
    for column in (difference, *bounds, tr("Hazard ratio")):
        assert pd.api.types.is_float_dtype(rows[column]), column
    assert set(rows[tr("Verdict")]) <= {tr(words) for words in STATUS_WORDS.values()}
    assert len(portfolio_forest_rows(view, "fr")) == len(rows)


def test_the_portfolio_report_in_html(view, programmes):
    page = portfolio_document(view, "ar")
    assert page.startswith('<!DOCTYPE html>\n<html lang="ar" dir="rtl">')
    document = HtmlDocument()
    document.feed(page)
    text = "\n".join(document.text)
    tr = translator("ar")
    assert tr("Programmes of project {name}", name=PROJECT) in text
    assert reason_text(MULTIPLE_COMPARISONS, "ar") in text
    assert page.count("<tr") == len(programmes) + 1  # a header row, one per programme
    assert page.count('class="js-plotly-plot"') + page.count('class="figure"') >= 1


def test_the_portfolio_pdf_in_french(portfolio_pdf):
    info = pdf_info(portfolio_pdf)
    assert len(portfolio_pdf) < 1_000_000 and int(info["Pages"]) <= 6
    text = squeezed(pdf_text(portfolio_pdf))
    tr = translator("fr")
    # (table headers wrap over several lines, which extraction interleaves: not those)
    for words in (tr("Programmes of project {name}", name=PROJECT),
                  tr("Results by programme"), tr("Hazard ratio of each programme (95% CI)"),
                  tr("One row per programme"), "VOC-METAL", "VOC-WOOD",
                  tr("page {page} of {pages}", page=1, pages=int(info["Pages"]))):
        assert squeezed(words) in text, words


@pytest.mark.parametrize("arguments, message", [
    (["--program", "VOC-METAL", "--funder", FUNDER], "exactly one of"),
    (["--program", "VOC-METAL", "--pooled"], "--pooled goes with"),
    (["--funder", "Nobody"], "no programme has funder 'Nobody'"),
])
def test_the_report_command_refuses_what_it_cannot_do(demo_db, tmp_path, arguments, message):
    out = tmp_path / "r.html"
    done = CliRunner().invoke(main, ["report", "--db", str(demo_db), *arguments,
                                     "--out", str(out)])
    assert done.exit_code == 2 and message in done.output and not out.exists()
