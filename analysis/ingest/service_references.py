"""References of the services directory: regions, providers, services and releases.

Checked in SQL over the staged rows (:mod:`analysis.ingest.staging`) once every file is
read, after the references of :mod:`analysis.ingest.references`:

* every region of ``providers.regions`` and ``services.regions`` is a ``release_region``
  of releases or expected_releases (their valid rows in this import, or the database),
  unless the cell is the single word ``all``;
* a service names a known provider; a referral names a known person, service and (when
  it gives one) release;
* a referral is not dated before the release it follows: the release of its
  ``release_id``, else the person's first release (an error);
* a referral outside its service's ``valid_from``/``valid_to`` is only a warning: the
  directory's dates are often approximate, the referral itself is a fact.

Release dates already in the database are read from it directly (attached read-only),
and only for the people and releases the referrals name: a national ``releases`` table
is never copied into Python.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import pyarrow as pa

from analysis.contract import ALL_REGIONS
from analysis.ingest.problems import Problem, ValidationReport
from analysis.ingest.references import _ids, _refuse, _valid_view

#: Regions quoted in an "unknown region" message.
SHOWN_REGIONS = 20
_KNOWN_DB = "desist_known"


def check_service_references(parsed: dict, report: ValidationReport, known,
                             unusable: set[str], pseudonymizer) -> None:
    """Record a problem for every directory row that refers to something missing."""
    con = _connection(parsed)
    if con is None:
        return
    regions_usable = not ({"releases", "expected_releases"} & unusable)
    if regions_usable:
        regions = _known_regions(con, parsed, known)
        for name in ("providers", "services"):
            if name in parsed:
                _check_regions(con, parsed[name], regions, report)
    services = parsed.get("services")
    if services is not None and "providers" not in unusable:
        providers = _valid_view(parsed.get("providers"))
        rows = services.stage.rows_not_in(
            "provider_id", [(providers, "provider_id")] if providers else [],
            _ids(known.providers))
        _refuse_reference(report, services, parsed.get("providers"), "unknown_provider", rows,
                          "provider_id", "providers")
    referrals = parsed.get("referrals")
    if referrals is not None:
        _check_referrals(con, parsed, referrals, report, known, unusable, pseudonymizer)


def _connection(parsed: dict):
    for table in parsed.values():
        if table.stage is not None:
            return table.stage.con
    return None


def known_region_names(con, parsed: dict, known) -> set[str]:
    """Every known region: release_region of the valid releases and expected_releases of
    this import, and of the database."""
    table = _known_regions(con, parsed, known)
    return {region for (region,) in con.execute(f"SELECT region FROM {table}").fetchall()}


def _known_regions(con, parsed: dict, known) -> str:
    """A TEMP table of every known region (this import's valid rows and the database)."""
    parts = ["SELECT v AS region FROM desist_db_regions"]
    for name in ("releases", "expected_releases"):
        view = _valid_view(parsed.get(name))
        if view is not None:
            parts.append(f"SELECT release_region FROM {view}")
    con.register("desist_db_regions", pa.table({"v": _ids(known.regions)}))
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE desist_known_regions AS SELECT DISTINCT "
                    f"region FROM ({' UNION ALL '.join(parts)}) WHERE region IS NOT NULL")
    finally:
        con.unregister("desist_db_regions")
    return "desist_known_regions"


def _check_regions(con, table, regions: str, report: ValidationReport) -> None:
    view = table.stage.view
    bad = con.execute(
        f"SELECT _row, item FROM (SELECT _row, regions, unnest(regions) AS item FROM {view}) "
        f"WHERE item <> '{ALL_REGIONS}' AND item NOT IN (SELECT region FROM {regions}) "
        "ORDER BY _row, list_position(regions, item)"
    ).fetchall()
    if not bad:
        return
    total, shown = con.execute(
        f"SELECT count(*), list(region ORDER BY region)[1:{SHOWN_REGIONS}] FROM {regions}"
    ).fetchone()
    if total:
        listing = "known regions: " + ", ".join(shown)
        if total > SHOWN_REGIONS:
            listing += f" (first {SHOWN_REGIONS} of {total})"
    else:
        listing = "no region is known yet: give releases (or expected_releases) a release_region"
    _refuse(report, table, "unknown_region", bad, "regions",
            "this region is not a release_region of releases or expected_releases (nor in "
            f"the database); {listing}",
            f"release_region values separated by ';', or the single word '{ALL_REGIONS}'")


def _check_referrals(con, parsed, referrals, report, known, unusable, pseudonymizer) -> None:
    releases = _valid_view(parsed.get("releases"))
    if "releases" not in unusable and (releases is not None or known.persons):
        rows = referrals.stage.rows_not_in(
            "person_id", [(releases, "person_id")] if releases else [], _ids(known.persons))
        originals = pseudonymizer.originals([value for _, value in rows])
        _refuse(report, referrals, "unknown_person",
                [(row, raw) for (row, _), raw in zip(rows, originals, strict=True)],
                "person_id", "this person_id has no valid row in releases (nor in the database)",
                "a person_id of the releases table")
    if "releases" not in unusable:
        rows = referrals.stage.rows_not_in(
            "release_id", [(releases, "release_id")] if releases else [], _ids(known.releases))
        _refuse(report, referrals, "unknown_release", rows, "release_id",
                "this release_id is not in releases (nor in the database)",
                "a release_id of the releases table, or an empty cell")
    services = _valid_view(parsed.get("services"))
    if "services" not in unusable:
        rows = referrals.stage.rows_not_in(
            "service_id", [(services, "service_id")] if services else [],
            _ids(frozenset(known.services)))
        _refuse_reference(report, referrals, parsed.get("services"), "unknown_service", rows,
                          "service_id", "services")
    if "releases" not in unusable:
        with _attached(con, known.database) as stored:
            _check_before_release(con, referrals, releases, stored, report)
    _warn_outside_service_dates(con, referrals, services, known, report)


def _refuse_reference(report, table, target, kind, rows, column: str, target_name: str) -> None:
    """Refuse rows naming an id that is missing, or whose own row was refused.

    The second case is said as such, with the line of that row, so that one wrong
    provider reads as one mistake and not as a service that names a stranger.
    """
    refused = target.stage.first_rows_of(column, sorted({v for _, v in rows})) if target else {}
    for row, value in rows:  # in row order, as every other check
        if value not in refused:
            _refuse(report, table, kind, [(row, value)], column,
                    f"this {column} is not in {target_name} (nor in the database)",
                    f"a {column} of the {target_name} table")
            continue
        line = int(target.source.lines[refused[value]])
        _refuse(report, table, kind, [(row, value)], column,
                f"the row of this {column} in {target.source.name} (line {line}) has "
                "problems, so this row cannot refer to it",
                f"a {column} of a valid row of the {target_name} table")


@contextlib.contextmanager
def _attached(con, database) -> Iterator[str | None]:
    """The database's ``releases`` (attached read-only), or None without a database."""
    if database is None:
        yield None
        return
    con.execute(f"ATTACH '{_sql_text(str(database))}' AS {_KNOWN_DB} (READ_ONLY)")
    try:
        yield f"{_KNOWN_DB}.releases"
    finally:
        con.execute(f"DETACH {_KNOWN_DB}")


def _sql_text(value: str) -> str:
    return value.replace("'", "''")


def _check_before_release(con, referrals, releases: str | None, stored: str | None,
                          report: ValidationReport) -> None:
    """A referral dated before its release (or, without release_id, the first one)."""
    view = referrals.stage.view
    parts = []
    if releases is not None:
        parts.append(f"SELECT release_id, person_id, release_date FROM {releases}")
    if stored is not None:
        # Only the releases the referrals name; a release in this import replaces its row.
        newer = (f"AND release_id NOT IN (SELECT release_id FROM {releases})"
                 if releases is not None else "")
        parts.append(
            f"SELECT release_id, person_id, release_date FROM {stored} WHERE "
            f"(person_id IN (SELECT person_id FROM {view}) OR release_id IN "
            f"(SELECT release_id FROM {view} WHERE release_id IS NOT NULL)) {newer}")
    if not parts:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE desist_referral_releases AS "
                + " UNION ALL ".join(parts))
    found = con.execute(
        f"SELECT s._row, s.referral_date, r.release_date, s.release_id FROM {view} s "
        "JOIN desist_referral_releases r USING (release_id) "
        "WHERE s.referral_date < r.release_date "
        "UNION ALL "
        f"SELECT s._row, s.referral_date, f.first_release, NULL FROM {view} s "
        "JOIN (SELECT person_id, min(release_date) AS first_release FROM "
        "desist_referral_releases GROUP BY person_id) f USING (person_id) "
        "WHERE s.release_id IS NULL AND s.referral_date < f.first_release ORDER BY 1"
    ).fetchall()
    con.execute("DROP TABLE desist_referral_releases")
    for row, referred, released, release_id in found:
        referrals.row_ok[row] = False
        if release_id is not None:
            message = (f"referral_date is before the release_date ({_day(released)}) of "
                       f"release {release_id}")
        else:
            message = (f"referral_date is before the person's first release "
                       f"({_day(released)})")
        report.add(
            Problem("before_release", referrals.source.name, message,
                    int(referrals.source.lines[row]), "referral_date", _day(referred),
                    "a referral on or after the release it follows"),
            table=referrals.table, row=int(row))


def _warn_outside_service_dates(con, referrals, services: str | None, known,
                                report: ValidationReport) -> None:
    stored = pa.table({
        "service_id": pa.array(list(known.services), pa.string()),
        "valid_from": pa.array([d for d, _ in known.services.values()], pa.date32()),
        "valid_to": pa.array([d for _, d in known.services.values()], pa.date32()),
    })
    parts = ["SELECT * FROM desist_db_services"]
    if services is not None:
        parts = [f"SELECT service_id, valid_from, valid_to FROM {services}",
                 "SELECT * FROM desist_db_services WHERE service_id NOT IN "
                 f"(SELECT service_id FROM {services})"]
    con.register("desist_db_services", stored)
    try:
        found = con.execute(
            f"SELECT s._row, s.referral_date, d.service_id, d.valid_from, d.valid_to "
            f"FROM {referrals.stage.view} s JOIN ({' UNION ALL '.join(parts)}) d "
            "USING (service_id) WHERE s.referral_date < d.valid_from "
            "OR s.referral_date > d.valid_to ORDER BY s._row"
        ).fetchall()
    finally:
        con.unregister("desist_db_services")
    for row, referred, service, valid_from, valid_to in found:
        report.warn(Problem(
            "outside_service_dates", referrals.source.name,
            f"service {service} runs from {_day(valid_from) or 'before the data'} to "
            f"{_day(valid_to) or 'now'}; the referral is kept, but check the dates",
            int(referrals.source.lines[row]), "referral_date", _day(referred)))


def _day(value: dt.date | None) -> str:
    return "" if value is None else value.isoformat()
