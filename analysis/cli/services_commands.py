"""``desist services``: coverage gaps by region, referral follow-through, the printable guide.

Goes through :meth:`analysis.study.Study.services_coverage` and
:meth:`~analysis.study.Study.referral_follow_through`; what may be shown comes from each
result's ``as_dict(policy)`` (the disclosure rules), and this module only prints it, in
the language of ``--lang``. Definitions: docs/services.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, open_cli_study
from analysis.cli.disclosure_options import checked_min_cell, min_cell_option
from analysis.cli.language import count_text, lang_option, translator
from analysis.i18n import LANGUAGES, N_, Translator

if TYPE_CHECKING:
    from analysis.disclosure import DisclosurePolicy
    from analysis.services.follow_through import FollowThroughResult

#: What --by of ``services referrals`` may name
#: (analysis.services.follow_through.BY_FIELDS, not imported: --help stays light).
BY_FIELDS = ("service_type", "release_region", "facility", "sex", "offense_category")
#: How the text output names each gap reason and need (the codes stay in --json).
GAP_WORDS = {"no_service": N_("no service"),
             "capacity_below_demand": N_("capacity below demand"),
             "none_for_women": N_("none for women")}
NEED_WORDS = {"drug_offence": N_("drug offence"), "women": N_("women"),
              "under_25": N_("under 25")}
NO_DIRECTORY = ("the database has no services: add the files providers and services (and "
                "referrals) to the dataset folder and import it again (docs/data-contract.md)")


@main.group("services", cls=click.Group)
def services_group() -> None:
    """Post-release services: coverage gaps by region, referral follow-through, the guide.

    Reads the optional tables providers, services and referrals (docs/data-contract.md);
    definitions and worked examples in docs/services.md.
    """


def _by(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    fields = tuple(part.strip() for part in value.split(",") if part.strip())
    wrong = [f for f in fields if f not in BY_FIELDS]
    if wrong:
        raise click.BadParameter(f"{', '.join(wrong)}: expected fields among "
                                 f"{', '.join(BY_FIELDS)}, separated by commas")
    return fields


@services_group.command("coverage")
@db_option
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Describe this day (YYYY-MM-DD, inside the data): releases in the 12 "
                   "months up to it, services valid on it. Default: the data's last day.")
@min_cell_option()
@lang_option
@json_option
@handle_errors
def coverage_command(db, as_of, min_cell, unsafe_analyst_output, lang, as_json):
    """Per release region: releases, need proxies, services by type and the gaps.

    JSON shape: {"disclosure", "as_of", "has_services", "has_boundaries",
    "has_expected_releases", "regions":
    [{"region", "releases_12m", "upcoming_releases", "needs": {need: {"count", "share"}},
    "services": [{"service_type", "providers", "services", "capacity", "serves_women"}],
    "gaps": [{"service_type", "reason", "demand", "capacity"}]}]}. Counts of 1 to k-1
    people, and numbers that would reveal them, are null.
    """
    from analysis.disclosure import DisclosurePolicy

    policy = DisclosurePolicy(k=checked_min_cell(min_cell, unsafe_analyst_output))
    with open_cli_study(db, None) as study:
        result = study.services_coverage(as_of=None if as_of is None else as_of.date())
    shown = result.as_dict(policy, unsafe=unsafe_analyst_output)
    if as_json:
        emit_json(shown)
        return
    _print_coverage(translator(lang), shown, policy)


def _print_coverage(tr: Translator, shown: dict, policy: DisclosurePolicy) -> None:
    from analysis.services.guide_html import service_type_words  # the guide's words

    click.echo(tr("Post-release services on {as_of}: releases in the 12 months up to that "
                  "day, services valid on it (see docs/services.md).", as_of=shown["as_of"]))
    click.echo(tr("Counts of 1 to {largest} people, and numbers that would reveal them, are "
                  "shown as {label}.", largest=policy.k - 1, label=policy.label))
    if not shown["has_services"]:
        click.echo(tr("No service is recorded: add the files providers and services to the "
                      "dataset folder and import it (docs/data-contract.md)."))
    for region in shown["regions"]:
        releases = count_text(tr, region["releases_12m"], policy.label)
        if not shown["has_expected_releases"]:
            click.echo("\n" + tr("{region}: {releases} releases in the last 12 months",
                                 region=region["region"], releases=releases))
        else:
            click.echo("\n" + tr("{region}: {releases} releases in the last 12 months, "
                                 "{upcoming} expected in the next 12",
                                 region=region["region"], releases=releases,
                                 upcoming=count_text(tr, region["upcoming_releases"],
                                                     policy.label)))
        needs = ", ".join(f"{tr(NEED_WORDS[need])} "
                          f"{count_text(tr, value['count'], policy.label)}"
                          for need, value in region["needs"].items() if need in NEED_WORDS)
        click.echo("  " + tr("need proxies: {needs}", needs=needs))
        headers = (tr("service type"), tr("providers"), tr("capacity"))
        click.echo(f"  {headers[0]:<24} {headers[1]:>9} {headers[2]:>9}")
        for supply in region["services"]:
            capacity = "-" if supply["capacity"] is None else tr.number(supply["capacity"])
            kind = service_type_words(supply["service_type"], tr.language)
            click.echo(f"  {kind:<24} {tr.number(supply['providers']):>9} "
                       f"{capacity:>9}")
        gaps = "; ".join(f"{service_type_words(gap['service_type'], tr.language)} "
                         f"({tr(GAP_WORDS[gap['reason']])})"
                         for gap in region["gaps"] if gap["reason"] in GAP_WORDS)
        if gaps:
            click.echo("  " + tr("gaps: {gaps}", gaps=gaps))


@services_group.command("referrals")
@db_option
@click.option("--by", "by", default="service_type,release_region", show_default=True,
              callback=_by, help=f"Breakdown, comma-separated, among {', '.join(BY_FIELDS)}.")
@click.option("--compare/--no-compare", default=True, show_default=True,
              help="Also compare the reoffending of people who reached a service by the "
                   "landmark day with those who had not (as desist impact --program "
                   "service:any).")
@click.option("--events", default=None,
              help="Event types counting as reoffending in the comparison, comma-separated "
                   "(default: every type present).")
@click.option("--landmark", type=int, default=90, show_default=True,
              help="Landmark day of the comparison.")
@click.option("--horizon", type=int, default=365, show_default=True,
              help="Follow-up horizon of the comparison, in days.")
@min_cell_option()
@lang_option
@json_option
@handle_errors
def referrals_command(db, by, compare, events, landmark, horizon, min_cell,
                      unsafe_analyst_output, lang, as_json):
    """Referral follow-through: referred, reached, completed, and days to first contact.

    JSON shape: {"disclosure", "by", "rows": [{<by fields>, "referred", "referred_only",
    "attended", "completed", "declined", "not_available", "contact_date_unknown",
    "people", "people_reached", "contact_within_30", "median_days_to_contact"}],
    "total": {...}, "comparison": {"exposure", "impact" (as desist impact --json) | null,
    "reason", "reached_referrals", "from_referral_date"} | null}. Counts of 1 to k-1, and
    counts that would reveal one by subtraction, are null.
    """
    from analysis.disclosure import DisclosurePolicy

    policy = DisclosurePolicy(k=checked_min_cell(min_cell, unsafe_analyst_output))
    with open_cli_study(db, events) as study:
        result = study.referral_follow_through(by, compare=compare, landmark_days=landmark,
                                               horizon_days=horizon)
    shown = result.as_dict(policy, unsafe=unsafe_analyst_output)
    if as_json:
        emit_json(shown)
        return
    tr = translator(lang)
    _print_follow_through(tr, shown, policy)
    _print_comparison(tr, result, shown, policy, unsafe_analyst_output)


def _print_follow_through(tr: Translator, shown: dict, policy: DisclosurePolicy) -> None:
    from analysis.services.guide_html import service_type_words  # the guide's words

    click.echo(tr("Referral follow-through: referred, reached (attended or completed), "
                  "completed; days from release to the first contact (see docs/services.md)."))
    click.echo(tr("Counts of 1 to {largest} people, and numbers that would reveal them, are "
                  "shown as {label}.", largest=policy.k - 1, label=policy.label))
    names = ("referred", "attended", "completed", "declined", "not_available", "people",
             "median_days_to_contact", "contact_within_30")
    headers = (tr("referred"), tr("reached"), tr("completed"), tr("declined"),
               tr("not available"), tr("people"), tr("median days"), tr("within 30 days"))
    keys = shown["by"]
    width = max(20, 21 * len(keys) - 1)
    words = {"region": tr("region"), "service_type": tr("service type")}
    click.echo("  " + f"{' / '.join(words.get(k, k) for k in keys):<{width}}"
               + " ".join(f"{h:>14}" for h in headers))
    def cell(key: str, value: object) -> str:  # a coded service type in words; data as is
        return service_type_words(str(value), tr.language) if key == "service_type" \
            else str(value)

    lines = [(" / ".join(cell(key, row[key]) for key in keys), row) for row in shown["rows"]]
    for label, row in [*lines, (tr("everyone"), shown["total"])]:
        cells = [("-" if row[name] is None else tr.number(row[name], digits=0))
                 if name == "median_days_to_contact" else
                 count_text(tr, row[name], policy.label) for name in names]
        click.echo(f"  {label[:width]:<{width}}" + " ".join(f"{c:>14}" for c in cells))


def _print_comparison(tr: Translator, result: FollowThroughResult, shown: dict,
                      policy: DisclosurePolicy, unsafe: bool) -> None:
    comparison = result.comparison
    if comparison is None:
        return
    click.echo("")
    if comparison.impact is None:
        click.echo(tr("The reoffending comparison of {exposure} cannot be made: {reason}",
                      exposure=comparison.exposure, reason=comparison.reason))
        return
    click.echo(tr("Reoffending of people who had reached a service by the landmark day, "
                  "compared with similar people who had not yet (the honesty rules of "
                  "desist impact apply; an association, not proof of an effect):"))
    from analysis.cli.impact_commands import _print_impact  # the impact stack: only now

    _print_impact(tr, comparison.impact, policy, unsafe=unsafe)
    undated = shown["comparison"]["from_referral_date"]
    if comparison.from_referral_date:
        click.echo("  " + tr("note: {undated} of {reached} reached referrals have no first "
                             "contact date; their exposure starts on the referral date",
                             undated=count_text(tr, undated, policy.label),
                             reached=count_text(tr, shown["comparison"]["reached_referrals"],
                                                policy.label)))


@services_group.command("guide")
@db_option
@click.option("--lang", "lang", type=click.Choice(list(LANGUAGES)), default="en",
              show_default=True, help="Language of the guide.")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True,
              help="File to write: FILE.html (self-contained, offline) or FILE.pdf.")
@handle_errors
def guide_command(db, lang, out):
    """Write the printable directory of providers and services by region (HTML or PDF)."""
    from analysis.errors import AnalysisError
    from analysis.services.coverage import has_services
    from analysis.services.guide import write_guide  # the guide's stack: only now

    if Path(out).suffix.lower() not in (".html", ".pdf"):
        raise AnalysisError(f"--out {out}: the guide is written as .html or .pdf")
    with open_cli_study(db, None) as study:
        if not has_services(study.connection):
            raise AnalysisError(NO_DIRECTORY)
        written = write_guide(study.connection, lang, Path(out))
    tr = translator(lang)
    click.echo(tr("Wrote the services guide to {file}", file=str(written)))
