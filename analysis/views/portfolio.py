"""Impact page services for a project's or funder's portfolio: each programme on its own.

Layer rule: a *services* module (``analysis/views/``), as :mod:`analysis.views.impact`:
pure Python, ``(con, filters, **options)`` in, a picklable, disclosure-controlled result
out (:class:`PortfolioView`: codes and numbers, worded by :func:`portfolio_rows` and
:func:`portfolio_forest_rows` in the reader's language).

Every programme of the project or funder gets the matched evaluation its own Impact page
and report compute, on the sidebar's selection; the table is published under
``filters.min_cell`` (:func:`analysis.impact.portfolio.publish_portfolio`). The portfolio
report is made from the same view (:func:`portfolio_document`), so a download repeats no
evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from analysis.errors import AnalysisError
from analysis.impact.evaluation import ImpactEvaluation, ImpactResult
from analysis.impact.portfolio import (
    PORTFOLIO_KINDS,
    PublishedPortfolio,
    evaluate_portfolio,
    forest_rows,
    portfolio_numbers,
    publish_portfolio,
)
from analysis.impact.report_context import ReportContext, data_date
from analysis.views.filters import ViewFilters
from analysis.views.scope import serves


@dataclass(frozen=True)
class PortfolioView:
    """Every programme of a project or funder evaluated on its own, under disclosure
    control (codes and numbers: :func:`portfolio_rows` and :func:`portfolio_forest_rows`
    word it), with what its report names on every page (``context``)."""

    published: PublishedPortfolio | None
    context: ReportContext
    error: str | None = None


@serves("impact")
def impact_portfolio(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                     kind: str, value: str, horizon_days: int = 365) -> PortfolioView:
    """The portfolio of a project or funder (:mod:`analysis.impact.portfolio`): each
    programme's matched evaluation, as its own report computes it, in one table.

    The sidebar's selection restricts every programme's pool of releases, as for a
    single programme. A programme that cannot be evaluated keeps its row, saying why.
    """
    if kind not in PORTFOLIO_KINDS:
        raise AnalysisError(f"a portfolio is a project or a funder, not {kind!r}")
    context = ReportContext(filters.selection, data_date(con))

    def evaluate(program_id: str) -> ImpactResult:
        # the evaluation of the programme's own Impact page and report (the matched one)
        return ImpactEvaluation(program=program_id, horizon_days=horizon_days,
                                outcome=filters.outcome, selection=filters.selection,
                                ).prepare(con).result("match")

    try:
        portfolio = evaluate_portfolio(con, kind, value, horizon_days=horizon_days,
                                       evaluate=evaluate)
    except AnalysisError as exc:
        return PortfolioView(None, context, str(exc))
    return PortfolioView(publish_portfolio(portfolio, filters.policy), context)


def portfolio_rows(view: PortfolioView, language: str = "en") -> pd.DataFrame:
    """The portfolio's table for the page and its downloads: one row per programme,
    headers and verdicts in ``language``, numbers as numbers
    (:func:`analysis.impact.portfolio.portfolio_numbers`)."""
    if view.published is None:
        return pd.DataFrame()
    return portfolio_numbers(view.published.table, language)


def portfolio_forest_rows(view: PortfolioView, language: str = "en") -> pd.DataFrame:
    """One forest-plot line per programme (:func:`analysis.charts.forest_plot`'s columns)."""
    if view.published is None:
        return pd.DataFrame(columns=["term", "hr", "hr_lower", "hr_upper"])
    return forest_rows(view.published.table, language)


def portfolio_document(view: PortfolioView, language: str = "en", *,
                       pdf: bool = False) -> str | bytes:
    """The portfolio report of ``view`` in ``language``: HTML, or a PDF with ``pdf``.

    Made from the page's already computed view (no evaluation is repeated), so the page
    calls it directly when a download button is clicked.
    """
    # the report's charts (plotly) and the printer: loaded only when a report is made
    from analysis.impact.portfolio_report import portfolio_html, portfolio_pdf

    if view.published is None:
        raise AnalysisError(view.error or "no portfolio to report")
    if pdf:
        return portfolio_pdf(view.published, language=language, context=view.context)
    return portfolio_html(view.published, language=language, context=view.context)
