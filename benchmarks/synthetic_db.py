"""Big synthetic study databases built straight in DuckDB SQL, for benchmarks.

``build_synthetic_db(path, n_releases)`` writes a migrated Desistance database with

* ``releases``: ``n_releases`` rows; 10% are a person's second release (400–1000 days
  after the first); 64-hex-character person ids like the importer's HMAC pseudonyms;
  10 facilities, 5 regions, sex, age, offense category, sentence, prior convictions;
  about 3% end follow-up by death / deportation / emigration, the rest at the
  2024-12-31 data cutoff;
* ``events``: about 0.6 events per release (rearrest, reconviction, reincarceration,
  violation), exponential-ish delays, more for facility ``F0``/``F1``;
* ``programs`` ``EDU`` (in_prison), ``JOBS`` (post_release); ``participation`` in
  ``EDU`` for about 30% of releases (start 120 days before release);
* ``release_follow_up``: the derived per-release facts, rebuilt exactly as an import
  does (:func:`analysis.survival.follow_up.refresh_follow_up` in a transaction, then
  checkpoint and :func:`~analysis.survival.follow_up.verify_follow_up`).

Everything is a deterministic function of the row number (``hash``), so the same size
gives the same database. Building 10M releases takes about a minute on 2 cores, plus
the refresh of the derived table (timed separately in :class:`SyntheticBuild`).
The Cox benchmark (``benchmarks/bench_cox.py``) may reuse it::

    from benchmarks.synthetic_db import build_synthetic_db
    build_synthetic_db("/tmp/big.duckdb", 1_000_000)
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from analysis.store.schema import migrate
from analysis.survival.follow_up import refresh_follow_up, verify_follow_up


@dataclass(frozen=True)
class SyntheticBuild:
    """A built database and how long it took (``seconds`` includes the refresh)."""

    path: Path
    seconds: float
    refresh_seconds: float


def _u(i: str, salt: int) -> str:
    """SQL for a uniform(0, 1) number that depends only on ``i`` and ``salt``."""
    return f"((hash({i}, {salt}) % 1000003) / 1000003.0)"


def build_synthetic_db(path: str | Path, n_releases: int, *, threads: int | None = None
                       ) -> SyntheticBuild:
    """Create (or replace) a synthetic study database of ``n_releases`` releases."""
    began = time.perf_counter()
    path = Path(path)
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    migrate(con)
    n = int(n_releases)
    con.execute(f"""
        CREATE TEMP TABLE base AS
        SELECT i,
               CASE WHEN i % 10 = 1 THEN i - 1 ELSE i END AS person,
               i % 10 = 1 AS second
        FROM range({n}) t(i)
    """)
    con.execute(f"""
        INSERT INTO releases BY NAME
        SELECT 'R' || lpad(CAST(i AS VARCHAR), 9, '0') AS release_id,
               sha256(CAST(person AS VARCHAR)) AS person_id,
               release_date,
               'F' || CAST(i % 10 AS VARCHAR) AS facility,
               CASE WHEN {_u('i', 3)} < 0.03
                    THEN least(release_date + CAST(1 + floor({_u('i', 4)} * 1500) AS INTEGER),
                               DATE '2024-12-31')
                    ELSE DATE '2024-12-31' END AS follow_up_end,
               'Region' || CAST(hash(i, 5) % 5 AS VARCHAR) AS release_region,
               CASE WHEN {_u('i', 6)} < 0.1 THEN 'F' ELSE 'M' END AS sex,
               18 + floor({_u('person', 7)} * 50) AS age_at_release,
               ['violent', 'property', 'drugs', 'other'][CAST(1 + hash(i, 8) % 4 AS BIGINT)] AS offense_category,
               1 + floor({_u('i', 9)} * 60) AS sentence_months,
               CAST(hash(person, 10) % 6 AS INTEGER) AS prior_convictions,
               CASE WHEN {_u('i', 3)} < 0.03
                    THEN ['death', 'deportation', 'emigration'][CAST(1 + hash(i, 11) % 3 AS BIGINT)]
                    ELSE 'data_cutoff' END AS follow_up_end_reason,
               'synthetic' AS batch_id
        FROM (
            SELECT *, DATE '2012-01-01'
                      + CAST(floor({_u('person', 1)} * 3000) AS INTEGER)
                      + CASE WHEN second THEN 400 + CAST(floor({_u('i', 2)} * 600) AS INTEGER)
                             ELSE 0 END AS release_date
            FROM base
        )
    """)
    con.execute(f"""
        INSERT INTO events
        SELECT DISTINCT ON (person_id, event_date, event_type)
               r.person_id,
               r.release_date + CAST(1 + floor(-ln(1 - {_u('b.i', 13)}) *
                    CASE WHEN r.facility IN ('F0', 'F1') THEN 500 ELSE 900 END) AS INTEGER)
                   AS event_date,
               ['rearrest', 'reconviction', 'reincarceration', 'violation'][CAST(1 + hash(b.i, 14) % 4 AS BIGINT)]
                   AS event_type,
               NULL, 'synthetic'
        FROM base b
        JOIN releases r ON r.release_id = 'R' || lpad(CAST(b.i AS VARCHAR), 9, '0')
        WHERE {_u('b.i', 12)} < 0.6
    """)
    con.execute("""
        INSERT INTO programs (program_id, name, category, setting, batch_id) VALUES
        ('EDU', 'Education in prison', 'education', 'in_prison', 'synthetic'),
        ('JOBS', 'Employment after release', 'employment', 'post_release', 'synthetic')
    """)
    con.execute(f"""
        INSERT INTO participation (person_id, program_id, start_date, release_id, batch_id)
        SELECT DISTINCT ON (person_id, start_date)
               person_id, 'EDU', release_date - 120 AS start_date, release_id, 'synthetic'
        FROM releases WHERE {_u('hash(release_id)', 15)} < 0.3
    """)
    con.execute("DROP TABLE base")
    refresh_began = time.perf_counter()
    # as the importer does: inside a transaction, then checkpoint and check alignment
    con.execute("BEGIN TRANSACTION")
    refresh_follow_up(con, "synthetic")
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    verify_follow_up(con)
    refresh = time.perf_counter() - refresh_began
    con.close()
    return SyntheticBuild(path, time.perf_counter() - began, refresh)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("n", type=int)
    args = parser.parse_args()
    built = build_synthetic_db(args.path, args.n)
    print(f"{args.n:,} releases -> {args.path} in {built.seconds:.1f} s "
          f"(of which refresh of release_follow_up {built.refresh_seconds:.1f} s)")


if __name__ == "__main__":
    main()
