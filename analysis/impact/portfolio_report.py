"""The portfolio report of a project or funder: an offline HTML file, or an A4 PDF.

One table row and one forest-plot line per programme (:mod:`analysis.impact.portfolio`),
the notes of each programme, the warning about comparing several programmes at once,
and the method, in the report's language. Disclosure control is applied in
:func:`~analysis.impact.portfolio.portfolio_table`, as in the single report.
"""

from __future__ import annotations

from analysis.charts import forest_plot
from analysis.disclosure import DisclosurePolicy
from analysis.html_report import Section, render_html
from analysis.i18n import translator
from analysis.impact.portfolio import (
    Portfolio,
    PublishedPortfolio,
    forest_rows,
    note_words,
    portfolio_words,
    publish_portfolio,
)
from analysis.impact.report import method_notes, report_subtitle
from analysis.impact.report_context import ReportContext
from analysis.impact.rules import MULTIPLE_COMPARISONS
from analysis.impact.wording import reason_text


def portfolio_title(portfolio: Portfolio | PublishedPortfolio, language: str = "en") -> str:
    """"Programmes of funder European Union", in ``language``.

    Examples
    --------
    >>> portfolio_title(Portfolio("project", "Skills for Work", 365, ()), "fr")
    'Programmes du projet Skills for Work'
    """
    tr = translator(language)
    if portfolio.kind == "funder":
        return tr("Programmes of funder {name}", name=portfolio.name)
    return tr("Programmes of project {name}", name=portfolio.name)


def build_portfolio_html(portfolio: Portfolio, *, policy: DisclosurePolicy | None = None,
                         language: str = "en", context: ReportContext | None = None,
                         static: bool = False) -> str:
    """The portfolio report in ``language``, safe to hand to a funder's board.

    Parameters
    ----------
    portfolio : Portfolio
        The programmes and their evaluations
        (:func:`~analysis.impact.portfolio.evaluate_portfolio`), as computed.
    policy : DisclosurePolicy, optional
        Minimum cell size (default ``k`` = 10; below 5 is refused, as for every report).
    language : str, optional
        en (default), fr, ar, ru or sr.
    context : ReportContext, optional
        The selection and the data's date, under the title.
    static : bool, optional
        Charts without toolbar or hover (for :func:`build_portfolio_pdf`).

    Returns
    -------
    str
        A complete, self-contained HTML document.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> from analysis.impact.evaluation import ImpactEvaluation
    >>> from analysis.impact.portfolio import evaluate_portfolio
    >>> from analysis.store import connect_readonly
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=1500, seed=1)
    >>> con = connect_readonly(db)
    >>> portfolio = evaluate_portfolio(con, "project", "Skills for Work", horizon_days=365,
    ...     evaluate=lambda p: ImpactEvaluation(program=p).fit(con))
    >>> page = build_portfolio_html(portfolio, language="fr")
    >>> "<h1>Programmes du projet Skills for Work</h1>" in page
    True
    """
    published = publish_portfolio(portfolio, policy or DisclosurePolicy())
    return portfolio_html(published, language=language, context=context, static=static)


def portfolio_html(published: PublishedPortfolio, *, language: str = "en",
                   context: ReportContext | None = None, static: bool = False) -> str:
    """The report of a portfolio already under disclosure control (:func:`build_portfolio_html`
    for one just evaluated)."""
    tr = translator(language)
    table = published.table
    words = portfolio_words(table, language)
    notes = words.columns[-1]
    rows = tuple(f"{row.program_id}: {note_words(row, language)}"
                 for row in table.itertuples(index=False) if note_words(row, language))
    sections = [
        Section(
            tr("Results by programme"),
            paragraphs=(tr("Each programme is compared on its own with similar people who "
                           "did not take part, by the method of its single report; a hazard "
                           "ratio below 1 means less reoffending among participants."),),
            warnings=(reason_text(MULTIPLE_COMPARISONS, language),),
            tables=((tr("One row per programme"), words.drop(columns=notes)),),
            figures=(forest_plot(forest_rows(table, language),
                                 title=tr("Hazard ratio of each programme (95% CI)"),
                                 language=language),),
        ),
    ]
    if rows:
        sections.append(Section(tr("Notes"), paragraphs=rows))
    sections.append(Section(tr("Method"), paragraphs=method_notes(tr)))
    subtitle = report_subtitle(tr, published.event_types, published.horizon_days,
                               published.method) if published.event_types else ""
    return render_html(portfolio_title(published, language), sections,
                       subtitle=subtitle, language=language,
                       context=context.lines(language) if context else (), static=static)


def build_portfolio_pdf(portfolio: Portfolio, *, policy: DisclosurePolicy | None = None,
                        language: str = "en", context: ReportContext | None = None) -> bytes:
    """:func:`build_portfolio_html` as an A4 PDF (numbered pages, each with the title,
    the selection and the data's date; :func:`analysis.pdf_report.print_pdf`)."""
    published = publish_portfolio(portfolio, policy or DisclosurePolicy())
    return portfolio_pdf(published, language=language, context=context)


def portfolio_pdf(published: PublishedPortfolio, *, language: str = "en",
                  context: ReportContext | None = None) -> bytes:
    """:func:`portfolio_html` printed to an A4 PDF."""
    from analysis.pdf_report import PageMargins, print_pdf

    context = context or ReportContext()
    page = portfolio_html(published, language=language, context=context, static=True)
    header = context.header(portfolio_title(published, language), language)
    return print_pdf(page, PageMargins(header, language))
