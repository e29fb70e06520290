"""``desist demo``: build a database of synthetic records with known programme effects."""

from __future__ import annotations

import click

from analysis.cli import main
from analysis.cli.common import db_option, emit_json, handle_errors, json_option, resolved_db
from analysis.contract import TABLE_ORDER
from analysis.demo.generator import DEFAULT_RELEASES, DEFAULT_SEED  # heavy, but --help shows them


@main.command("demo")
@db_option
@click.option("--releases", type=click.IntRange(min=1), default=DEFAULT_RELEASES,
              show_default=True, help="Number of releases to generate.")
@click.option("--seed", type=click.IntRange(min=0), default=DEFAULT_SEED, show_default=True,
              help="Random seed; the same seed and size give the same data.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Keep the generated dataset folder (CSV files and truth.json) here.")
@click.option("--replace", is_flag=True, help="Delete an existing database at --db first.")
@json_option
@handle_errors
def demo_command(db, releases, seed, out, replace, as_json):
    """Generate a fictional country's records and import them into the database.

    The data are synthetic, with known true programme effects recorded in
    truth.json (kept only with --out). Exit status 0 on success, 2 on a problem
    you can fix (e.g. the database already exists).
    """
    from analysis.demo.build import build_demo

    db_path = resolved_db(db)
    built = build_demo(db_path, releases=releases, seed=seed, out=out, replace=replace)
    summary, report = built.summary, built.report
    if as_json:
        emit_json(
            {
                "db": str(db_path),
                "dataset_dir": None if built.dataset_dir is None else str(built.dataset_dir),
                "seed": summary.seed,
                "persons": summary.persons,
                "generated": summary.rows,
                "generate_seconds": round(summary.seconds, 3),
                "import": report.as_dict(),
            }
        )
        return
    click.echo(f"Synthetic demo data (seed {summary.seed}), {summary.persons:,} people:")
    for name in TABLE_ORDER:
        counts = report.tables.get(name)
        inserted = counts.inserted if counts else 0
        click.echo(f"  {name:<17} {summary.rows.get(name, 0):>10,} generated "
                   f"{inserted:>10,} imported")
    if built.dataset_dir is not None:
        click.echo(f"Dataset and truth.json kept in {built.dataset_dir}")
    click.echo(f"Database ready: {db_path}")
