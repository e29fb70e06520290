"""Generate the demo dataset and import it through the normal importer.

Examples
--------
>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as folder:
...     built = build_demo(pathlib.Path(folder) / "demo.duckdb", releases=300, seed=3)
>>> built.summary.rows["releases"], built.report.tables["releases"].inserted
(300, 300)
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from analysis.contract import FILE_SUFFIXES, TABLE_ORDER
from analysis.demo.generator import DEFAULT_RELEASES, DEFAULT_SEED, DemoGenerator, DemoSummary
from analysis.demo.model import DemoModel
from analysis.errors import DesistError
from analysis.ingest import ImportReport, import_dataset
from analysis.views.stored import store_default_views


@dataclass(frozen=True)
class DemoBuild:
    """The generated dataset (``summary``) and how its import went (``report``)."""

    summary: DemoSummary
    report: ImportReport
    #: Folder kept on disk, or None when a temporary folder was used and deleted.
    dataset_dir: Path | None


def _check_out_dir(out: Path) -> None:
    """Refuse a folder holding table files the generator would not overwrite."""
    if not out.exists():
        return
    if not out.is_dir():
        raise DesistError(f"--out {out} is a file, not a folder")
    ours = {f"{t}.csv" for t in TABLE_ORDER}
    foreign = sorted(
        p.name
        for p in out.iterdir()
        if p.suffix.lower() in FILE_SUFFIXES and p.stem.lower() in TABLE_ORDER
        and p.name not in ours
    )
    if foreign:
        raise DesistError(
            f"{out} already holds {', '.join(foreign)}; the demo would be mixed with them. "
            "Choose an empty folder for --out"
        )


def build_demo(
    db: str | Path,
    *,
    releases: int = DEFAULT_RELEASES,
    seed: int = DEFAULT_SEED,
    out: str | Path | None = None,
    replace: bool = False,
    model: DemoModel | None = None,
) -> DemoBuild:
    """Write the demo dataset (to ``out``, else a temporary folder) and import it into ``db``.

    The data are synthetic, plainly fictional and have known programme effects
    (docs/demo-data.md); they go through the same importer as real data, and the
    dashboard's default views are stored after the import.

    Parameters
    ----------
    db : str or Path
        The study database to create.
    releases : int, optional
        Number of releases to generate (default 20,000).
    seed : int, optional
        Random seed: the same seed gives the same dataset.
    out : str or Path, optional
        Folder to keep the generated CSV files in; a temporary folder when omitted.
    replace : bool, optional
        Delete an existing ``db`` first (its key is kept).
    model : DemoModel, optional
        The simulation's parameters (programme effects, hazards); the documented
        defaults when omitted.

    Returns
    -------
    DemoBuild
        ``summary`` (what was generated), ``report`` (the import report) and
        ``dataset_dir`` (``out``, or None).

    Raises
    ------
    DesistError
        When ``db`` already exists and ``replace`` is False, or ``out`` holds other
        table files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> built = build_demo(folder / "demo.duckdb", releases=200, seed=1, out=folder / "csv")
    >>> sorted(p.name for p in built.dataset_dir.iterdir())
    ['events.csv', 'expected_releases.csv', 'participation.csv', 'programs.csv', 'providers.csv', 'referrals.csv', 'regions.geojson', 'releases.csv', 'services.csv', 'truth.json']
    >>> build_demo(folder / "demo.duckdb", releases=200)
    Traceback (most recent call last):
    ...
    analysis.errors.DesistError: ... already exists; delete it or pass --replace to rebuild the demo database
    """
    db = Path(db)
    if db.exists():
        if not replace:
            raise DesistError(
                f"{db} already exists; delete it or pass --replace to rebuild the demo database"
            )
        # The key beside the database is kept: it is harmless and may be shared.
        db.unlink()
        db.with_name(db.name + ".wal").unlink(missing_ok=True)
    generator = DemoGenerator(model, seed=seed)
    if out is not None:
        folder = Path(out)
        _check_out_dir(folder)
        summary = generator.generate(folder, releases)
        return DemoBuild(summary, import_dataset(folder, db, after_commit=store_default_views),
                         folder)
    with tempfile.TemporaryDirectory(prefix="desist-demo-") as tmp:
        summary = generator.generate(tmp, releases)
        report = import_dataset(tmp, db, after_commit=store_default_views)
    return DemoBuild(summary, report, None)
