"""``desist validate`` and ``desist import``.

The importer (duckdb, pandas, pyarrow) is imported when a command runs, not when
``desist validate --help`` is shown.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from analysis.cli import main
from analysis.cli.common import (
    EXIT_INVALID,
    db_option,
    emit_json,
    handle_errors,
    json_option,
    resolved_db,
)
from analysis.errors import InvalidDatasetError

if TYPE_CHECKING:
    from analysis.ingest import ImportReport, ValidationReport


def import_dataset(*args, **kwargs) -> ImportReport:
    """:func:`analysis.ingest.import_dataset`, imported on first call.

    A name of this module, so that a test can replace it (tests/ingest/test_cli_ingest.py).
    """
    from analysis.ingest import import_dataset as import_into_study

    return import_into_study(*args, **kwargs)


def store_default_views(con) -> None:
    """:func:`analysis.views.stored.store_default_views`, imported on first call.

    The post-commit step ``desist import`` gives the importer (unless
    ``--no-stored-views``): the importer itself knows nothing of the dashboard.
    """
    from analysis.views.stored import store_default_views as store_views

    store_views(con)

DATASET = click.argument(
    "dataset_dir", type=click.Path(exists=True, file_okay=False, readable=True)
)


def _print_problems(report: ValidationReport, limit: int) -> None:
    click.echo(f"{len(report.problems)} problem(s) in {report.dataset}:", err=True)
    for line in report.summary_lines(limit_per_kind=limit):
        click.echo(line, err=True)
    _print_warnings(report, limit)


def _print_warnings(report: ValidationReport, limit: int) -> None:
    """Notices that do not stop an import (look-alike ids...), on standard error."""
    for line in report.warning_lines(limit_per_kind=limit):
        click.echo(line, err=True)


@main.command("validate")
@DATASET
@click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also check references against this database (needs its key).",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Pseudonymization key of --db (default: $DESIST_KEY_FILE, else DB.key).",
)
@click.option("--show", default=20, show_default=True, help="Examples shown per kind of problem.")
@json_option
@handle_errors
def validate_command(dataset_dir, db, key_file, show, as_json):
    """Check DATASET_DIR against the data contract; write nothing.

    Exit status 0 when the dataset is valid, 2 when it has problems.
    """
    from analysis.ingest import validate_dataset
    from analysis.ingest.importer import known_ids_in

    known = known_ids_in(resolved_db(db), key_file) if db else None
    report = validate_dataset(dataset_dir, known=known)
    if as_json:
        emit_json(report.as_dict())
    elif report.ok:
        rows = ", ".join(f"{t}: {n}" for t, n in report.rows_read.items())
        click.echo(f"valid: {rows}")
        _print_warnings(report, show)
    else:
        _print_problems(report, show)
    if not report.ok:
        sys.exit(EXIT_INVALID)


@main.command("import")
@DATASET
@db_option
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Pseudonymization key (default: $DESIST_KEY_FILE, else DB.key beside the "
    "database, created with owner-only permissions on first import).",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Load the valid rows; write rejected rows with reasons to --rejects.",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False),
    default=None,
    help="New CSV file for rejected rows (with --skip-invalid); it holds raw ids and is "
    "created owner-only. Never the database's own files; not an existing file nor a file "
    "inside DATASET_DIR unless --force.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Let --rejects replace an existing file or be written inside DATASET_DIR "
    "(never over the database, its key, lock, log or temporary copies).",
)
@click.option(
    "--no-stored-views",
    "no_stored_views",
    is_flag=True,
    help="Do not compute the dashboard's slow default views now (Programmes and Impact "
    "pages); they are then computed when first opened.",
)
@click.option("--show", default=20, show_default=True, help="Examples shown per kind of problem.")
@json_option
@handle_errors
def import_command(dataset_dir, db, key_file, skip_invalid, rejects, force, no_stored_views, show,
                   as_json):
    """Validate DATASET_DIR and import it into the study database, all or nothing.

    Person ids are pseudonymized with a keyed hash before they reach the database.
    Re-importing the same files adds nothing twice; changed rows are updated.
    """
    db_path = resolved_db(db)
    try:
        report = import_dataset(
            dataset_dir, db_path, key_file=key_file, skip_invalid=skip_invalid, rejects=rejects,
            force_rejects=force,
            after_commit=None if no_stored_views else store_default_views,
        )
    except InvalidDatasetError as exc:
        if as_json:
            emit_json(
                {"ok": False, "error": str(exc), **(exc.report.as_dict() if exc.report else {})}
            )
        else:
            click.echo(f"error: {exc}", err=True)
            if exc.report is not None:
                _print_problems(exc.report, show)
        sys.exit(EXIT_INVALID)
    audit_problem = record_import(db_path, report)
    if as_json:
        emit_json({"ok": True, **report.as_dict()})
    else:
        _print_import(report)
        _print_warnings(report.validation, show)
    if audit_problem:
        click.echo(f"warning: {audit_problem}", err=True)


def record_import(db_path, report: ImportReport) -> str | None:
    """Add an "import" entry to the audit log when the database has access control.

    Only what was done (mode, batch id, file names) and by which operating-system user:
    never a value from the data. Returns a problem to warn about, or None: the import
    itself has succeeded by now and must not be reported as failed.
    """
    from pathlib import Path

    from analysis.access.audit import AuditLog, os_user
    from analysis.access.config import access_paths

    if not access_paths(db_path).config.exists():
        return None  # no access control: a single analyst, no audit trail
    log = AuditLog.for_database(db_path)
    try:
        log.append("import", os_user(), mode=report.mode, batch=report.batch_id,
                   files=sorted(Path(name).name for name in report.validation.files.values()))
    except OSError as exc:
        return f"imported, but the audit entry could not be written to {log.path}: {exc}"
    return None


def _print_import(report: ImportReport) -> None:
    click.echo(f"imported {report.dataset} into {report.db} (batch {report.batch_id})")
    click.echo(
        f"{'table':<18}{'read':>10}{'inserted':>10}{'updated':>10}{'unchanged':>11}{'rejected':>10}"
    )
    for name, c in report.tables.items():
        click.echo(
            f"{name:<18}{c.read:>10}{c.inserted:>10}{c.updated:>10}{c.unchanged:>11}{c.rejected:>10}"
        )
    if report.new_covariates:
        click.echo(
            "new covariates: " + ", ".join(f"{k} ({v})" for k, v in report.new_covariates.items())
        )
    if report.events_before_first_release:
        click.echo(
            f"{report.events_before_first_release} event(s) dated before the person's first "
            "release: kept as criminal history, outside every follow-up"
        )
    if report.rejects_file:
        click.echo(f"{report.rows_rejected} rejected row(s) written to {report.rejects_file}")
