"""``desist impact`` and ``desist report``: programme impact for donors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, open_cli_study
from analysis.cli.disclosure_options import checked_min_cell, min_cell_option
from analysis.cli.language import lang_option, significant_text, translator
from analysis.i18n import N_, Translator
from analysis.impact.cost import cost_statement
from analysis.impact.evaluation import METHODS  # heavy, but --help shows them
from analysis.impact.wording import SECONDARY_LABEL

if TYPE_CHECKING:
    from analysis.disclosure import DisclosurePolicy
    from analysis.results_impact import ImpactAnalysis


def _target(func):
    func = click.option(
        "--project", default=None, help="Evaluate all programmes of a project or funder."
    )(func)
    return click.option("--program", default=None, help="Programme id to evaluate.")(func)


def _common(func):
    # Sub-analyses (women, age bands, completers) go through the same evaluation and
    # therefore the same reporting rules as the main result.
    func = click.option(
        "--age-band", "age_bands", default=None,
        help="Sub-analysis: comma list of age bands at release (e.g. 18-24,25-34).",
    )(func)
    func = click.option(
        "--sex", "sexes", default=None, help="Sub-analysis: comma list of sexes (F, M, X, U)."
    )(func)
    func = click.option(
        "--completed-only", is_flag=True, default=False,
        help="Sub-analysis: participants who completed an in-prison programme, compared "
             "with people who did not take part (non-completers are left out).",
    )(func)
    func = click.option(
        "--events", default=None, help="Comma list of event types that count (default: all)."
    )(func)
    func = click.option(
        "--covariates", default=None,
        help="Comma list of the covariates to adjust for (propensity score, balance, Cox "
             "model). Default: the standard fields plus every extra covariate of the "
             "dataset known for at least 80% of the releases compared (docs/impact.md).",
    )(func)
    func = click.option(
        "--landmark",
        type=int,
        default=90,
        show_default=True,
        help="Landmark day for post-release programmes.",
    )(func)
    func = click.option(
        "--method",
        type=click.Choice(METHODS),
        default="match",
        show_default=True,
        help="match (primary) or iptw (sensitivity).",
    )(func)
    func = click.option(
        "--horizon", type=int, default=365, show_default=True, help="Follow-up horizon in days."
    )(func)
    return lang_option(func)


def _split(values: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (values or "").split(",") if v.strip())


def _covariates(values: str | None) -> tuple[str, ...] | None:
    """``--covariates``: the names given, or ``None`` (the default set) when absent."""
    return None if values is None else _split(values)


def _evaluate(db, program, project, horizon, method, landmark, events, completed_only=False,
              sexes=None, age_bands=None, covariates=None) -> ImpactAnalysis:
    from analysis.survival.episodes import Selection

    selection = Selection(sexes=_split(sexes), age_bands=_split(age_bands))
    with open_cli_study(db, events, selection) as study:
        return study.impact(program, project, horizon_days=horizon, method=method,
                            landmark_days=landmark,
                            variant="completed" if completed_only else "any",
                            covariates=_covariates(covariates))


@main.command("impact")
@db_option
@_target
@_common
@min_cell_option()
@json_option
@handle_errors
def impact_command(db, program, project, horizon, method, landmark, events, covariates,
                   completed_only, sexes, age_bands, lang, min_cell, unsafe_analyst_output,
                   as_json):
    """Compare a programme's participants with similar people who did not take part.

    Counts of 1 to --min-cell - 1 people, and numbers that would reveal them (along
    the attrition chain, or as a rate), are hidden: null in --json, whose top-level
    "disclosure" block says how.
    """
    from analysis.disclosure import DisclosurePolicy

    k = checked_min_cell(min_cell, unsafe_analyst_output)
    policy = DisclosurePolicy(k=k)
    impact = _evaluate(db, program, project, horizon, method, landmark, events,
                       completed_only, sexes, age_bands, covariates)
    if as_json:
        emit_json(impact.as_dict(policy, unsafe=unsafe_analyst_output))
        return
    _print_impact(translator(lang), impact, policy, unsafe=unsafe_analyst_output)


#: How the text output names each ``--method`` (the code stays in --json).
METHOD_WORDS = {"match": N_("match"), "iptw": N_("iptw")}


def _print_impact(tr: Translator, impact: ImpactAnalysis, policy: DisclosurePolicy, *,
                  unsafe: bool) -> None:
    result = impact.published(policy, unsafe=unsafe)
    click.echo(tr.plural("Impact of {program} ({method}, {n} day)",
                         "Impact of {program} ({method}, {n} days)", result.horizon_days,
                         program=result.program,
                         method=tr(METHOD_WORDS[result.method]) if result.method in METHOD_WORDS
                         else result.method))
    chosen = impact.sub_analysis
    if chosen["sex"] or chosen["age_band"] or chosen["completed_only"]:
        parts = [tr("sex {values}", values=", ".join(chosen["sex"])) if chosen["sex"] else "",
                 tr("age band {values}", values=", ".join(chosen["age_band"]))
                 if chosen["age_band"] else "",
                 tr("completers only") if chosen["completed_only"] else ""]
        click.echo(tr("Sub-analysis: {parts} (the same reporting rules apply)",
                      parts="; ".join(p for p in parts if p)))
    click.echo(result.headline(tr.language))
    for reason in result.reasons(tr.language):
        click.echo("  " + tr("note: {reason}", reason=reason))

    def shown(group: str, step: int) -> str:
        # publishing wrote each attrition cell as digits or as why it is hidden
        cell = str(result.attrition[group].iloc[step])
        if cell.isdigit():
            return tr.number(int(cell))
        return tr("hidden") if cell == SECONDARY_LABEL else cell

    click.echo(tr("participants {participants}, eligible {eligible}, matched {matched}, "
                  "comparison {comparison}", participants=shown("participants", 0),
                  eligible=shown("participants", -2), matched=shown("participants", -1),
                  comparison=shown("comparison", -1)))
    if result.adjustment is not None:
        for line in result.adjustment.describe(tr.language):
            click.echo(line)
    hr = result.hazard_ratio
    p = "-" if hr.p is None else significant_text(tr, hr.p, 3)
    click.echo(tr("hazard ratio {estimate} (95% CI {lower}-{upper}, p={p})",
                  estimate=tr.number(hr.estimate, digits=2), lower=tr.number(hr.lower, digits=2),
                  upper=tr.number(hr.upper, digits=2), p=p))
    if result.cost is not None:  # publishing dropped it if it reveals a hidden count
        click.echo(cost_statement(result.cost, tr.language))


def _report_target(func):
    func = click.option(
        "--pooled", is_flag=True, default=False,
        help="With --project or --funder: one report of all its programmes evaluated "
             "together, instead of the portfolio.",
    )(func)
    func = click.option(
        "--funder", default=None,
        help="Portfolio report of a funder: one row and one forest-plot line per programme.",
    )(func)
    func = click.option(
        "--project", default=None,
        help="Portfolio report of a project: one row and one forest-plot line per programme.",
    )(func)
    return click.option("--program", default=None, help="Programme id to report on.")(func)


@main.command("report")
@db_option
@_report_target
@_common
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    required=True,
    help="File to write: HTML (self-contained, works offline, prints cleanly), or PDF with "
         "--pdf or a name ending in .pdf.",
)
@click.option(
    "--pdf", "as_pdf", is_flag=True, default=False,
    help="Write an A4 PDF (page numbers, static charts; needs Chromium and the optional "
         "playwright package).",
)
@min_cell_option(unsafe=False)
@handle_errors
def report_command(db, program, project, funder, pooled, horizon, method, landmark, events,
                   covariates, completed_only, sexes, age_bands, lang, out, as_pdf, min_cell):
    """Write an offline impact report (HTML or PDF) for a programme, project or funder.

    --program: the programme's report. --project or --funder: the portfolio report,
    each programme evaluated on its own (--pooled: all together, one report). The
    report is meant to leave the analyst's desk: every count of fewer than --min-cell
    people is hidden, and --min-cell may not be below 5.
    """
    from analysis.disclosure import DisclosurePolicy
    from analysis.errors import AnalysisError
    from analysis.impact.report_context import ReportContext, data_date
    from analysis.survival.episodes import Selection

    min_cell = checked_min_cell(min_cell, published=True)  # before any work: a refused k writes nothing
    if sum(v is not None for v in (program, project, funder)) != 1:
        raise AnalysisError("name exactly one of --program, --project or --funder")
    if pooled and program is not None:
        raise AnalysisError("--pooled goes with --project or --funder, not --program")
    path = Path(out)
    as_pdf = as_pdf or path.suffix.lower() == ".pdf"
    if as_pdf:
        from analysis.pdf_report import PdfUnavailable, pdf_unavailable

        problem = pdf_unavailable()  # before the evaluation: it can take minutes
        if problem is not None:
            raise PdfUnavailable(problem)
    policy = DisclosurePolicy(k=min_cell)
    selection = Selection(sexes=_split(sexes), age_bands=_split(age_bands))
    variant = "completed" if completed_only else "any"
    with open_cli_study(db, events, selection) as study:
        context = ReportContext(selection, data_date(study.connection), completed_only)

        def evaluate(program_id: str | None, group: str | None = None):
            return study.impact(program_id, group, horizon_days=horizon, method=method,
                                landmark_days=landmark, variant=variant,
                                covariates=_covariates(covariates)).result

        if program is not None or pooled:
            document = _single_report(evaluate(program, project or funder), policy, lang,
                                      context, as_pdf)
        else:
            from analysis.impact.portfolio import evaluate_portfolio

            kind, name = ("project", project) if project is not None else ("funder", funder)
            portfolio = evaluate_portfolio(study.connection, kind, name, horizon_days=horizon,
                                           evaluate=evaluate)
            document = _portfolio_report(portfolio, policy, lang, context, as_pdf)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(document, bytes):
        tmp.write_bytes(document)
    else:
        tmp.write_text(document, encoding="utf-8")
    tmp.replace(path)
    tr = translator(lang)
    click.echo(tr("report written to {path}", path=path))


def _single_report(result, policy, language, context, as_pdf) -> str | bytes:
    # plotly (the report's charts): imported only when a report is made
    from analysis.impact.report import build_report_html, build_report_pdf

    build = build_report_pdf if as_pdf else build_report_html
    return build(result, policy=policy, language=language, context=context)


def _portfolio_report(portfolio, policy, language, context, as_pdf) -> str | bytes:
    from analysis.impact.portfolio_report import build_portfolio_html, build_portfolio_pdf

    build = build_portfolio_pdf if as_pdf else build_portfolio_html
    return build(portfolio, policy=policy, language=language, context=context)
