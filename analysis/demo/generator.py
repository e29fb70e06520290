"""Writing the demo dataset folder: contract CSV files streamed chunk by chunk.

:class:`DemoGenerator` simulates people in chunks (:func:`simulate_chunk`), keeps
whole people until exactly the requested number of releases is reached, and appends
each chunk to ``releases.csv``, ``participation.csv``, ``events.csv`` and
``referrals.csv`` (:mod:`analysis.demo.referrals`) at once, so memory stays bounded by
one chunk whatever the size. ``programs.csv``, ``expected_releases.csv``
(:mod:`analysis.demo.upcoming`), the services directory (``providers.csv``,
``services.csv``: :mod:`analysis.demo.services_files`), ``regions.geojson``
(:mod:`analysis.demo.regions_map`) and ``truth.json`` are written at the end.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from analysis.contract import (
    BOUNDARIES_FILE,
    EVENT_TYPES,
    FOLLOW_UP_END_REASONS,
    PARTICIPATION_STATUSES,
    PROGRAMS,
    PROVIDERS,
    SERVICES,
    SEX_CODES,
)
from analysis.demo.model import EDUCATION_LEVELS, OFFENSES, RELEASE_TYPES, DemoModel
from analysis.demo.referrals import ReferralDraw
from analysis.demo.regions_map import write_regions_geojson
from analysis.demo.schemas import (
    EVENT_SCHEMA,
    EXPECTED_SCHEMA,
    PARTICIPATION_SCHEMA,
    REFERRAL_SCHEMA,
    RELEASE_SCHEMA,
)
from analysis.demo.services_files import Demand, write_providers, write_services
from analysis.demo.simulate import Chunk, simulate_chunk
from analysis.demo.truth import write_truth
from analysis.demo.upcoming import (
    new_people,
    new_people_count,
    returning_people,
    write_expected_releases,
)
from analysis.errors import AnalysisError

DEFAULT_SEED = 20250630
DEFAULT_RELEASES = 50_000
#: Extra release columns; the importer turns them into covariates.
EXTRA_RELEASE_COLUMNS: tuple[str, ...] = ("education_level", "employment_before")
#: Releases per person in the default model, used only to size chunks.
_RELEASES_PER_PERSON = 1.1
#: Third word of the random streams of expected_releases.csv and referrals.csv (after
#: the seed and the chunk): streams of their own, so that the other files do not depend
#: on them.
_RETURNING_STREAM, _NEW_PEOPLE_STREAM, _REFERRAL_STREAM = 1, 2, 3

@dataclass(frozen=True)
class DemoSummary:
    """What :meth:`DemoGenerator.generate` wrote."""

    out_dir: Path
    seed: int
    rows: dict[str, int]
    persons: int
    seconds: float
    files: tuple[str, ...] = field(default=())


def _codes(names, codes: np.ndarray, missing: int | None = None) -> pa.Array:
    """Arrow strings ``names[codes]`` (null where ``codes == missing``)."""
    index = pa.array(np.asarray(codes, dtype=np.int32),
                     mask=None if missing is None else np.asarray(codes) == missing)
    return pa.array(list(names), pa.string()).take(index)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    text = pc.utf8_lpad(pa.array(numbers, pa.int64()).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, text, "")


def _dates(days: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), pa.int32(), mask=missing).cast(pa.date32())


def _take_people(counts: np.ndarray, wanted: int) -> np.ndarray:
    """Whole people in order until their releases add up to exactly ``wanted`` (or all)."""
    cum = np.cumsum(counts)
    take = cum <= wanted
    left = wanted - (int(cum[take][-1]) if take.any() else 0)
    # The prefix stops before someone with several releases; later one-release
    # people fill the gap so the total is exact.
    for i in range(int(take.sum()), len(counts)):
        if left == 0:
            break
        if counts[i] <= left:
            take[i] = True
            left -= int(counts[i])
    return take


def _file_order(chunk: Chunk, keep: np.ndarray) -> np.ndarray:
    """The kept releases of ``chunk`` in file order: by person, then release date."""
    rel = chunk.releases
    order = np.lexsort((rel["day"], rel["person"]))
    return order[keep[rel["person"]][order]]


class DemoGenerator:
    """Generate the demo country's records in the data-contract format.

    Parameters
    ----------
    model
        The generating model (default: :class:`DemoModel`).
    seed
        Everything, dates included, is a function of the seed and the number of
        releases; today's date is never used.
    chunk_persons
        People simulated per chunk; bounds memory.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     summary = DemoGenerator(seed=7).generate(folder, releases=500)
    >>> summary.rows["releases"]
    500
    """

    def __init__(self, model: DemoModel | None = None, *, seed: int = DEFAULT_SEED,
                 chunk_persons: int = 100_000):
        if chunk_persons < 1:
            raise AnalysisError("chunk_persons must be at least 1")
        self.model = model or DemoModel()
        self.seed = int(seed)
        self.chunk_persons = int(chunk_persons)

    def generate(self, out_dir: str | Path, releases: int = DEFAULT_RELEASES) -> DemoSummary:
        """Write releases, programs, participation, events, expected_releases, providers,
        services and referrals CSV files, ``regions.geojson`` and ``truth.json``."""
        if releases < 1:
            raise AnalysisError(f"the demo needs at least 1 release (asked for {releases})")
        if self.seed < 0:
            raise AnalysisError(f"the seed must be a non-negative whole number (got {self.seed})")
        began = time.perf_counter()
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        width = max(7, len(str(releases)))
        rows = {"releases": 0, "participation": 0, "events": 0, "referrals": 0}
        persons = 0
        schemas = {"releases": RELEASE_SCHEMA, "participation": PARTICIPATION_SCHEMA,
                   "events": EVENT_SCHEMA, "referrals": REFERRAL_SCHEMA}
        paths = {name: out / f"{name}.csv" for name in schemas}
        referral_draw, demand = ReferralDraw(self.model), Demand(self.model)
        # Arrow would quote the header; spreadsheets and people read a plain one better.
        # quoting_style "none" makes Arrow refuse any value that would need quotes.
        options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
        returning: list[pa.Table] = []
        sinks, writers = {}, {}
        for name, schema in schemas.items():
            sinks[name] = pa.OSFile(str(paths[name]), "wb")
            sinks[name].write((",".join(schema.names) + "\n").encode("utf-8"))
            writers[name] = pa_csv.CSVWriter(sinks[name], schema, write_options=options)
        try:
            chunk_index = 0
            while rows["releases"] < releases:
                remaining = releases - rows["releases"]
                size = min(self.chunk_persons, math.ceil(remaining / _RELEASES_PER_PERSON) + 16)
                rng = np.random.default_rng(np.random.SeedSequence([self.seed, chunk_index]))
                chunk = simulate_chunk(self.model, rng, size)
                keep = _take_people(chunk.releases_per_person(), remaining)
                order = _file_order(chunk, keep)
                tables = self._tables(chunk, keep, order, persons, rows["releases"], width)
                held_rng = np.random.default_rng(
                    np.random.SeedSequence([self.seed, chunk_index, _RETURNING_STREAM]))
                returning.append(returning_people(self.model, chunk, keep,
                                                  np.cumsum(keep) + persons, held_rng, width))
                # Drawn after the chunk's outcomes, from a stream of their own: the
                # referrals change nothing in the other files (and have no effect).
                referral_rng = np.random.default_rng(
                    np.random.SeedSequence([self.seed, chunk_index, _REFERRAL_STREAM]))
                written = tables["releases"]
                tables["referrals"] = referral_draw.chunk_table(
                    chunk, order, written["person_id"].combine_chunks(),
                    written["release_id"].combine_chunks(), referral_rng)
                demand.add(chunk, order)
                for name, table in tables.items():
                    writers[name].write_table(table)
                    rows[name] += table.num_rows
                persons += int(keep.sum())
                chunk_index += 1
        finally:
            for name, writer in writers.items():
                writer.close()
                sinks[name].close()
        rows["programs"] = self._write_programs(out / "programs.csv")
        new_rng = np.random.default_rng(
            np.random.SeedSequence([self.seed, 0, _NEW_PEOPLE_STREAM]))
        newcomers = new_people(self.model, new_people_count(self.model, persons), persons + 1,
                               new_rng, width)
        rows["expected_releases"] = write_expected_releases(out / "expected_releases.csv",
                                                            [*returning, newcomers])
        rows["providers"] = write_providers(out / "providers.csv", self.model)
        rows["services"] = write_services(out / "services.csv", self.model, demand)
        write_regions_geojson(out / BOUNDARIES_FILE, self.model)
        summary = DemoSummary(
            out_dir=out,
            seed=self.seed,
            rows=rows,
            persons=persons,
            seconds=time.perf_counter() - began,
            files=("releases.csv", "programs.csv", "participation.csv", "events.csv",
                   "expected_releases.csv", "providers.csv", "services.csv",
                   "referrals.csv", BOUNDARIES_FILE, "truth.json"),
        )
        write_truth(out / "truth.json", self.model, summary)
        return summary

    # ------------------------------------------------------------------ tables

    def _tables(self, chunk: Chunk, keep: np.ndarray, order: np.ndarray, person_base: int,
                release_base: int, width: int) -> dict[str, pa.Table]:
        model = self.model
        rel = chunk.releases
        person_number = np.cumsum(keep) - 1 + person_base + 1  # 1-based, global
        new_row = np.full(len(rel["person"]), -1, dtype=np.int64)
        new_row[order] = np.arange(len(order))
        release_number = release_base + 1 + np.arange(len(order))
        release_ids = _ids("R", release_number, width)

        def col(name):
            return rel[name][order]

        person_ids = _ids("P", person_number[col("person")], width)
        releases = pa.table(
            {
                "release_id": release_ids,
                "person_id": person_ids,
                "release_date": _dates(col("day")),
                "facility": _codes([f.name for f in model.facilities], col("facility")),
                "follow_up_end": _dates(col("follow_up_end")),
                "release_region": _codes(model.population.regions, col("region")),
                "sex": _codes(SEX_CODES, np.where(col("female"), SEX_CODES.index("F"),
                                                  SEX_CODES.index("M"))),
                "birth_year": pa.array(col("birth_year"), pa.int32()),
                "age_at_release": pa.array(col("age"), pa.float64()),
                "offense_category": _codes(OFFENSES, col("offense")),
                "sentence_months": pa.array(col("sentence"), pa.float64()),
                "prior_convictions": pa.array(col("priors"), pa.int32()),
                "release_type": _codes(RELEASE_TYPES, col("release_type")),
                "follow_up_end_reason": _codes(FOLLOW_UP_END_REASONS, col("end_reason")),
                "education_level": _codes(EDUCATION_LEVELS, col("education")),
                "employment_before": _codes(("no", "yes"), col("employed").astype(np.int64)),
            },
            schema=RELEASE_SCHEMA,
        )

        part = chunk.participation
        p_rows = new_row[part["release"]] if len(part["release"]) else part["release"]
        p_keep = p_rows >= 0
        p_order = np.lexsort((part["start"][p_keep], p_rows[p_keep]))
        p_sel = np.flatnonzero(p_keep)[p_order]
        p_rows = p_rows[p_sel]
        end = part["end"][p_sel]
        participation = pa.table(
            {
                "person_id": person_ids.take(pa.array(p_rows)),
                "program_id": _codes([p.program_id for p in model.programs],
                                     part["program"][p_sel]),
                "start_date": _dates(part["start"][p_sel]),
                "end_date": _dates(end, missing=end < 0),
                "status": _codes(PARTICIPATION_STATUSES, part["status"][p_sel]),
                "hours": pa.array(part["hours"][p_sel].astype(np.float64), pa.float64()),
                "release_id": release_ids.take(pa.array(p_rows)),
            },
            schema=PARTICIPATION_SCHEMA,
        )

        ev = chunk.events
        e_keep = keep[ev["person"]] if len(ev["person"]) else np.zeros(0, dtype=bool)
        e_sel = np.flatnonzero(e_keep)
        e_sel = e_sel[np.lexsort((ev["type"][e_sel], ev["day"][e_sel], ev["person"][e_sel]))]
        events = pa.table(
            {
                "person_id": _ids("P", person_number[ev["person"][e_sel]], width),
                "event_date": _dates(ev["day"][e_sel]),
                "event_type": _codes(EVENT_TYPES, ev["type"][e_sel]),
                "offense_category": _codes(OFFENSES, ev["offense"][e_sel], missing=-1),
            },
            schema=EVENT_SCHEMA,
        )
        return {"releases": releases, "participation": participation, "events": events}

    def _write_programs(self, path: Path) -> int:
        columns = PROGRAMS.column_names
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for p in self.model.programs:
                writer.writerow([p.program_id, p.name, p.category, p.setting, p.project,
                                 p.funder, f"{p.cost_per_participant:g}", p.currency])
        return len(self.model.programs)


#: Column names of each written file, for checks against the contract.
WRITTEN_COLUMNS: dict[str, tuple[str, ...]] = {
    "releases": tuple(RELEASE_SCHEMA.names),
    "programs": PROGRAMS.column_names,
    "participation": tuple(PARTICIPATION_SCHEMA.names),
    "events": tuple(EVENT_SCHEMA.names),
    "expected_releases": tuple(EXPECTED_SCHEMA.names),
    "providers": PROVIDERS.column_names,
    "services": SERVICES.column_names,
    "referrals": tuple(REFERRAL_SCHEMA.names),
}
