"""``desist migrate``: bring a study database up to this version's schema and layout.

The work is :func:`analysis.survival.upgrade.upgrade_database`, imported when the command
runs (not for ``desist --help``).
"""

from __future__ import annotations

import click

from analysis.cli import main
from analysis.cli.common import emit_json, handle_errors, json_option


@main.command("migrate")
@click.argument("db", type=click.Path(dir_okay=False))
@json_option
@handle_errors
def migrate_command(db: str, as_json: bool) -> None:
    """Upgrade the study database DB to this version's schema, all or nothing.

    Applies the pending schema migrations and rebuilds the derived follow-up table
    that every analysis reads, on a copy swapped in atomically: a dashboard that has
    DB open keeps working. Running it again changes nothing ("already current").
    Records are never changed. Exit status 0 on success, 2 when DB is missing, is not
    a Desistance database, or is being imported or migrated by another process.
    """
    from analysis.survival.upgrade import upgrade_database

    report = upgrade_database(db)
    if as_json:
        emit_json(report.as_dict())
        return
    if not report.changed:
        click.echo(f"{report.db} is already current (schema version {report.schema_after}, "
                   f"follow-up table layout {report.as_dict()['layout']}); nothing was changed.")
        return
    click.echo(f"Upgraded {report.db}:")
    if report.migrations:
        click.echo(f"  schema version {report.schema_before} -> {report.schema_after} "
                   f"(migrations {', '.join(report.migrations)})")
    if report.follow_up_before is not None:
        click.echo(f"  the follow-up table {report.follow_up_before}")
    click.echo(f"  rebuilt the follow-up table: {report.releases:,} releases, layout "
               f"{report.as_dict()['layout']}")
    if report.stored_views_removed:
        click.echo(f"  removed {report.stored_views_removed} stored dashboard result(s) "
                   "computed before the records changed (the dashboard computes them again)")
