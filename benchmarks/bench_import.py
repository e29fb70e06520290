"""Benchmark: import 1,000,000 releases + 1,000,000 events end to end.

Generates a contract-format CSV dataset with vectorized numpy/pandas (not timed),
then times :func:`analysis.ingest.import_dataset` into a fresh database and prints
seconds, rows per second and the peak resident memory of this process.

Run from the repository root::

    .venv/bin/python benchmarks/bench_import.py            # 1M releases, 1M events
    .venv/bin/python benchmarks/bench_import.py --rows 100000 --profile
    .venv/bin/python benchmarks/bench_import.py --rows 10000000 --no-stored-views
    .venv/bin/python benchmarks/bench_import.py --wide 1000   # 1,000 covariates x 20 rows
    .venv/bin/python benchmarks/bench_import.py --hostile     # zip bomb, 2M-row sheet

The target is under 30 s for the default size on a 2-core laptop; for ``--wide 1000``
under 30 s and 1 GB; for ``--hostile`` each refusal well under a few seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import multiprocessing
import os
import pstats
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.errors import InvalidDatasetError  # noqa: E402
from analysis.ingest import import_dataset, validate_dataset  # noqa: E402
from analysis.views.stored import store_default_views  # noqa: E402

TODAY = dt.date(2025, 1, 1)
SEED = 20241


def _dates(start: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(start, unit="D").strftime("%Y-%m-%d"))


def write_dataset(folder: Path, n_releases: int, n_events: int, n_participation: int) -> None:
    """Write releases, programs, participation and events CSV files into ``folder``."""
    rng = np.random.default_rng(SEED)
    base = (pd.Timestamp("2015-01-01") - pd.Timestamp("1970-01-01")).days
    n_persons = max(1, int(n_releases * 0.8))
    person_of_release = np.concatenate(
        [np.arange(n_persons), rng.integers(0, n_persons, n_releases - n_persons)]
    )
    person_ids = pd.Series(np.char.add("P-", np.arange(n_persons).astype(str)))
    today_day = (pd.Timestamp(TODAY) - pd.Timestamp("1970-01-01")).days
    release_day = base + rng.integers(0, 2500, n_releases)
    end_day = np.minimum(release_day + rng.integers(30, 1500, n_releases), today_day)
    releases = pd.DataFrame(
        {
            "release_id": np.char.add("R-", np.arange(n_releases).astype(str)),
            "person_id": person_ids.to_numpy()[person_of_release],
            "release_date": _dates(release_day),
            "facility": rng.choice(["North", "South", "East", "West"], n_releases),
            "follow_up_end": _dates(end_day),
            "sex": rng.choice(["F", "M"], n_releases, p=[0.1, 0.9]),
            "age_at_release": rng.integers(18, 70, n_releases),
            "prior_convictions": rng.poisson(1.5, n_releases),
            "offense_category": rng.choice(["theft", "drugs", "violence", "fraud"], n_releases),
            "risk_score": np.round(rng.uniform(0, 10, n_releases), 2),
            "education_level": rng.choice(["none", "primary", "secondary"], n_releases),
        }
    )
    releases.to_csv(folder / "releases.csv", index=False)
    programs = pd.DataFrame(
        {
            "program_id": ["EDU", "VOC", "DRUG"],
            "name": ["Education", "Vocational", "Drug treatment"],
            "category": ["education", "vocational", "drug_treatment"],
            "setting": ["in_prison", "in_prison", "community"],
        }
    )
    programs.to_csv(folder / "programs.csv", index=False)
    # Distinct keys so that no row is a duplicate of another.
    part_rows = rng.choice(n_releases, n_participation, replace=False)
    participation = pd.DataFrame(
        {
            "person_id": releases["person_id"].to_numpy()[part_rows],
            "program_id": rng.choice(programs["program_id"], n_participation),
            "start_date": _dates(release_day[part_rows] - 200),
            "end_date": _dates(release_day[part_rows] - 20),
            "status": rng.choice(["completed", "dropped_out"], n_participation),
            "hours": rng.integers(10, 300, n_participation),
        }
    )
    participation = participation.drop_duplicates(["person_id", "program_id", "start_date"])
    participation.to_csv(folder / "participation.csv", index=False)
    event_rows = rng.integers(0, n_releases, n_events)
    # Day offsets spread over a long range, then de-duplicated on the key.
    event_day = release_day[event_rows] + rng.integers(1, 3000, n_events)
    event_day = np.minimum(event_day, today_day)
    events = pd.DataFrame(
        {
            "person_id": releases["person_id"].to_numpy()[event_rows],
            "event_date": _dates(event_day),
            "event_type": rng.choice(["rearrest", "reconviction", "violation"], n_events),
        }
    )
    events = events.drop_duplicates(["person_id", "event_date", "event_type"])
    events.to_csv(folder / "events.csv", index=False)


def write_wide_dataset(folder: Path, covariates: int, rows: int = 20) -> None:
    """A releases file with ``covariates`` extra columns (half numeric, half text)."""
    header = ["release_id", "person_id", "release_date", "facility", "follow_up_end"]
    header += [f"covariate_{i}" for i in range(covariates)]
    lines = [",".join(header)]
    for r in range(rows):
        cells = [f"R{r}", f"P{r}", "2020-01-01", "North", "2021-01-01"]
        cells += [str((r * i) % 7) if i % 2 else f"level_{r % 3}" for i in range(covariates)]
        lines.append(",".join(cells))
    (folder / "releases.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_wide(covariates: int) -> None:
    """Time importing ``covariates`` columns x 20 rows, with the column limit raised."""
    os.environ["DESIST_MAX_COLUMNS"] = str(covariates + 5)
    with tempfile.TemporaryDirectory(prefix="desist-bench-wide-") as tmp:
        folder = Path(tmp) / "dataset"
        folder.mkdir()
        write_wide_dataset(folder, covariates)
        started = time.perf_counter()
        report = import_dataset(folder, Path(tmp) / "wide.duckdb", today=TODAY)
        seconds = time.perf_counter() - started
    print(f"wide import: {len(report.new_covariates):,} covariates x 20 rows in {seconds:.1f} s, "
          f"peak RSS {_peak_rss_mb():.0f} MB (target: 1,000 under 30 s and 1 GB)")


def _xlsx_with_sheet(path: Path, write_sheet) -> None:
    """An XLSX workbook whose first sheet's XML is written by ``write_sheet(handle)``."""
    import openpyxl

    template = path.with_suffix(".template.xlsx")
    book = openpyxl.Workbook()
    book.active.append(["release_id"])
    book.save(template)
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(
        path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1
    ) as target:
        for entry in source.infolist():
            if entry.filename == "xl/worksheets/sheet1.xml":
                with target.open(entry.filename, "w", force_zip64=True) as handle:
                    write_sheet(handle)
            else:
                target.writestr(entry, source.read(entry))
    template.unlink()


def run_hostile() -> None:
    """Time the refusal of a 1 GiB whitespace zip bomb and of a sheet of 2M rows."""
    def whitespace(handle):
        block = b" " * (1 << 20)
        for _ in range(1024):
            handle.write(block)

    def two_million_rows(handle):
        handle.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                     b'main"><sheetData>')
        row = b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
        for _ in range(2_000):
            handle.write(row * 1_000)
        handle.write(b"</sheetData></worksheet>")

    for label, writer in (("1 GiB whitespace zip bomb", whitespace),
                          ("sheet of 2,000,000 <row> elements", two_million_rows)):
        with tempfile.TemporaryDirectory(prefix="desist-bench-hostile-") as tmp:
            folder = Path(tmp) / "dataset"
            folder.mkdir()
            _xlsx_with_sheet(folder / "releases.xlsx", writer)
            size = (folder / "releases.xlsx").stat().st_size / 1e6
            started = time.perf_counter()
            report = validate_dataset(folder, today=TODAY)
            seconds = time.perf_counter() - started
            kinds = report.counts_by_kind()
            print(f"{label} ({size:.1f} MB on disk): refused in {seconds:.2f} s as {kinds}, "
                  f"peak RSS {_peak_rss_mb():.0f} MB")
            print("  " + str(report.problems[0]))


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="releases and events")
    parser.add_argument("--participation", type=int, default=None)
    parser.add_argument("--profile", action="store_true", help="print the top cProfile entries")
    parser.add_argument(
        "--reimport", action="store_true", help="also time importing the same files again"
    )
    parser.add_argument("--no-stored-views", action="store_true",
                        help="do not compute the dashboard's stored views after the commit "
                        "(as `desist import --no-stored-views`)")
    parser.add_argument("--dataset", metavar="DIR", default=None,
                        help="generate the dataset into DIR and keep it, or reuse the one "
                        "there (generating 10M rows takes minutes)")
    parser.add_argument("--wide", type=int, default=None, metavar="N",
                        help="instead: import N covariate columns x 20 rows")
    parser.add_argument("--hostile", action="store_true",
                        help="instead: time refusing an XLSX zip bomb and a 2M-row sheet")
    args = parser.parse_args(argv)
    if args.wide is not None:
        return run_wide(args.wide)
    if args.hostile:
        return run_hostile()
    n_part = args.participation if args.participation is not None else args.rows // 5
    with tempfile.TemporaryDirectory(prefix="desist-bench-") as tmp:
        folder = Path(args.dataset) if args.dataset else Path(tmp) / "dataset"
        started = time.perf_counter()
        if (folder / "releases.csv").exists():
            print(f"reusing the dataset in {folder} (not timed)")
        else:
            folder.mkdir(parents=True, exist_ok=True)
            # In a child process, so that the peak memory printed below is the import's.
            child = multiprocessing.get_context("spawn").Process(
                target=write_dataset, args=(folder, args.rows, args.rows, n_part)
            )
            child.start()
            child.join()
            if child.exitcode != 0:
                raise SystemExit("generating the dataset failed")
            print(f"generated dataset in {time.perf_counter() - started:.1f} s (not timed, in "
                  "a child process)")
        rss_before = _peak_rss_mb()
        load_before = os.getloadavg()[0]
        views_wall: list[float] = []

        def timed_views(con):
            # The views may run two at a time: their wall time, not the sum of theirs.
            begun = time.perf_counter()
            try:
                return store_default_views(con)
            finally:
                views_wall.append(time.perf_counter() - begun)

        after_commit = None if args.no_stored_views else timed_views
        db = Path(tmp) / "bench.duckdb"
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        try:
            report = import_dataset(folder, db, today=TODAY, after_commit=after_commit)
        except InvalidDatasetError as exc:
            print("\n".join(exc.report.summary_lines(3)))
            raise SystemExit(f"the generated dataset is invalid: {exc}") from None
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        rows = sum(c.read for c in report.tables.values())
        for name, counts in report.tables.items():
            print(f"  {name:<14} read {counts.read:>9,}  inserted {counts.inserted:>9,}")
        print(f"import: {seconds:.1f} s for {rows:,} rows = {rows / seconds:,.0f} rows/s")
        with duckdb.connect(str(db), read_only=True) as con:
            each = con.execute("SELECT view, seconds FROM stored_views ORDER BY seconds DESC"
                               ).fetchall()
        print(f"  of which the dashboard's stored views: {sum(views_wall[:1]):.1f} s "
              f"({len(each)} results taking {sum(s for _, s in each):.1f} s between them; "
              "analysis.views.stored)")
        for view, view_seconds in each:
            print(f"    {view:<36} {view_seconds:6.1f} s")
        print(f"peak RSS: {_peak_rss_mb():.0f} MB (after generating: {rss_before:.0f} MB)")
        print(f"database: {db.stat().st_size / 1e6:.0f} MB")
        # Times on a shared machine mean little without the load they were measured at.
        print(f"load average (1 min) before/after the import: {load_before:.1f} / "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        if args.reimport:
            started = time.perf_counter()
            again = import_dataset(folder, db, today=TODAY, after_commit=after_commit)
            seconds = time.perf_counter() - started
            unchanged = sum(c.unchanged for c in again.tables.values())
            print(f"re-import of the same files: {seconds:.1f} s, {unchanged:,} rows unchanged")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
