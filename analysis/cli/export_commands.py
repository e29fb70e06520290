"""``desist export``: the rows ``desist km`` and ``desist cox`` fit, for R, Stata or Python.

The paths are checked before the database is read; the rows come from
:mod:`analysis.export.rows` with the same options as ``km`` and ``cox``; the file and
its dictionary are written by :func:`analysis.export.write_export` (docs/export.md).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

import click

from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, open_cli_study
from analysis.cli.language import lang_option, translator

FORMAT_CHOICES = ("parquet", "csv", "dta")


def _names(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _shared_options(func: Callable) -> Callable:
    for option in reversed((
        db_option,
        click.option("--events", default=None, help="Event types making up the outcome, "
                     "comma-separated (default: every type present), as for km and cox."),
        click.option("--covariates", default="", help="Comma-separated covariates to carry "
                     "(release fields, age, age_band, release_year, imported covariates)."),
        click.option("--programs", default="", help="Comma-separated programme ids."),
        click.option("--format", "fmt", type=click.Choice(FORMAT_CHOICES), default=None,
                     help="File format (default: from the --out suffix)."),
        click.option("--out", required=True, type=click.Path(dir_okay=False),
                     help="File to write; its data dictionary goes beside it as "
                     "FILE.dictionary.md."),
        click.option("--force", is_flag=True, help="Replace an existing file (never the "
                     "database or its key)."),
        lang_option,
        json_option,
    )):
        func = option(func)
    return func


@main.group("export")
def export_group() -> None:
    """Write the rows km or cox fit (Parquet, CSV, Stata) with a data dictionary.

    ``episodes``: one row per release, as desist km counts them. ``counting-process``:
    the (start, stop] rows with programme exposures that desist cox fits. Both write
    FILE and FILE.dictionary.md (columns, outcome, selection, data date, version, and
    the R and Stata lines that refit them); see docs/export.md.
    """


def _paths(db: str | None, out: str, fmt: str | None, force: bool):
    from analysis.cli.common import resolved_db
    from analysis.export import check_export_paths, format_of
    from analysis.ingest.pseudonymize import resolve_key_path

    db_path = resolved_db(db)
    key = resolve_key_path(db_path, None)
    chosen = format_of(out, fmt)
    check_export_paths(out, db=db_path, key=key, force=force)
    return db_path, key, chosen


def _command(kind: str, options: dict[str, str | None]) -> str:
    words = ["desist", "export", kind]
    for name, value in options.items():
        if value:
            words += [f"--{name}", value]
    return shlex.join(words)


def _report(lang: str, as_json: bool, result) -> None:
    if as_json:
        emit_json(result.as_dict())
        return
    tr = translator(lang)
    click.echo(tr("Wrote {rows} rows ({releases} releases) to {file}; data dictionary: "
                  "{dictionary}", rows=tr.number(result.rows),
                  releases=tr.number(result.releases), file=str(result.data_file),
                  dictionary=str(result.dictionary_file)))


@export_group.command("episodes")
@_shared_options
@click.option("--by", "by", default=None, help="A desist km --by breakdown, written as "
              "column 'group' with km's labels.")
@handle_errors
def export_episodes(db, events, covariates, programs, fmt, out, force, lang, as_json, by):
    """One row per release (time, event, cause), the rows desist km counts.

    --programs adds a 0/1 column per in-prison or community programme: took part
    during the custody period that ended with the release (km's --by program:ID).
    """
    from analysis.export import episode_rows, write_export

    db_path, key, chosen = _paths(db, out, fmt, force)
    with open_cli_study(db, events) as study:
        rows = episode_rows(study.connection, study.outcome, study.selection, by=by,
                            covariates=_names(covariates), programs=_names(programs))
        command = _command("episodes", {"events": events, "by": by, "covariates": covariates,
                                        "programs": programs, "format": chosen, "out": out})
        result = write_export(study.connection, rows, out, chosen, db=db_path, key=key,
                              force=force, command=command)
    _report(lang, as_json, result)


@export_group.command("counting-process")
@_shared_options
@click.option("--exposure", type=click.Choice(["current", "ever"]), default="current",
              show_default=True, help="Post-release/community programmes: exposed while in "
              "it (current) or from the start on (ever), as for cox.")
@click.option("--participation", type=click.Choice(["any", "completed"]), default="any",
              show_default=True, help="In-prison programmes: which participation counts.")
@click.option("--strata", default=None, help="Categorical field with its own baseline "
              "hazard, as for cox.")
@handle_errors
def export_counting_process(db, events, covariates, programs, fmt, out, force, lang, as_json,
                            exposure, participation, strata):
    """The (start, stop] rows desist cox fits, programme exposures included.

    Same --covariates, --programs, --exposure, --participation, --strata and --events
    as desist cox; releases with a missing value or zero days of follow-up are left out,
    as the model leaves them out.
    """
    from analysis.export import counting_process_rows, write_export

    db_path, key, chosen = _paths(db, out, fmt, force)
    with open_cli_study(db, events) as study:
        rows = counting_process_rows(
            study.connection, _names(covariates), _names(programs), exposure=exposure,
            participation=participation, strata=strata, outcome=study.outcome,
            selection=study.selection)
        command = _command("counting-process", {
            "events": events, "covariates": covariates, "programs": programs,
            "exposure": exposure, "participation": participation, "strata": strata,
            "format": chosen, "out": out})
        result = write_export(study.connection, rows, out, chosen, db=db_path, key=key,
                              force=force, command=command)
    _report(lang, as_json, result)
