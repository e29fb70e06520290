"""Reaching a post-release service as a time-varying exposure: ``service:<type>``, ``service:any``.

A referral whose person reached the service (status in
:data:`analysis.contract.REACHED_STATUSES`) exposes the release it belongs to from its
**contact day** on: ``first_contact_date``, else ``referral_date`` when the contact day
was not recorded (counted by :func:`contact_days`, and said in the caveats). Referrals
record no end of attendance, so the exposure lasts to the end of follow-up under both
of :func:`~analysis.survival.exposures.add_exposures`' definitions (``current`` and
``ever``).

A referral belongs to the release it names (``referrals.release_id``), else to the
person's latest release on or before its contact day: the rule of post-release
participations (:mod:`analysis.survival.exposures`), so an exposure id here behaves
exactly as a post-release programme whose participation starts on the contact day and
has no end. Exposure switches on only after the contact day (``(s, ...]``), never from
day 0: the days a person had to survive to reach the service are unexposed time, so no
immortal time is credited to the service.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from analysis.contract import REACHED_STATUSES, SERVICE_TYPES
from analysis.errors import AnalysisError

#: Exposure ids name a service type after this prefix, or ``any``.
SERVICE_PREFIX = "service:"
ANY_SERVICE = "service:any"
#: What an exposure id is for :func:`~analysis.survival.exposures.program_settings`.
SERVICE_SETTING = "post_release"

#: The day a referral is placed at: the first contact, else the referral itself.
CONTACT_DAY_SQL = "coalesce(rf.first_contact_date, rf.referral_date)"
_REACHED = ", ".join(f"'{s}'" for s in REACHED_STATUSES)


def is_service_exposure(exposure_id: str) -> bool:
    """Whether ``exposure_id`` names a service exposure (``service:...``).

    Examples
    --------
    >>> is_service_exposure("service:any"), is_service_exposure("VOC-METAL")
    (True, False)
    """
    return str(exposure_id).startswith(SERVICE_PREFIX)


def service_type_of(exposure_id: str) -> str | None:
    """The service type an exposure id names (``None`` for ``service:any``).

    Examples
    --------
    >>> service_type_of("service:housing"), service_type_of("service:any")
    ('housing', None)
    """
    if exposure_id == ANY_SERVICE:
        return None
    return exposure_id[len(SERVICE_PREFIX):]


def owner_release_sql(day: str = CONTACT_DAY_SQL, rf: str = "rf") -> str:
    """SQL of the release a referral (or participation) row ``rf`` belongs to.

    The release it names, else the person's latest release on or before ``day``: the
    one rule of post-release participations and referrals.
    """
    return (f"coalesce({rf}.release_id, (SELECT r.release_id FROM releases r "
            f"WHERE r.person_id = {rf}.person_id AND r.release_date <= {day} "
            "ORDER BY r.release_date DESC, r.release_id DESC LIMIT 1))")


def known_service_exposures(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """The exposure ids this database can give: ``service:any`` and one per service type
    with referrals (none without referrals)."""
    types = [row[0] for row in con.execute(
        "SELECT DISTINCT sv.service_type FROM referrals rf "
        "JOIN services sv USING (service_id)").fetchall()]
    if not types:
        return ()
    order = {t: i for i, t in enumerate(SERVICE_TYPES)}
    types.sort(key=lambda t: (order.get(t, len(order)), t))
    return (ANY_SERVICE, *(SERVICE_PREFIX + t for t in types))


def check_service_exposures(con: duckdb.DuckDBPyConnection, exposure_ids: Iterable[str]
                            ) -> dict[str, str]:
    """The setting of each service exposure id; an unknown one raises :class:`AnalysisError`.

    A database without referrals is told how to add them.
    """
    wanted = list(exposure_ids)
    if not wanted:
        return {}
    known = known_service_exposures(con)
    if not known:
        raise AnalysisError(
            f"{', '.join(wanted)}: the database has no referrals to post-release services; "
            "add the files providers, services and referrals (CSV, Parquet or XLSX) to the "
            "dataset folder and import it again (docs/data-contract.md)")
    unknown = [e for e in wanted if e not in known]
    if unknown:
        types = ", ".join(SERVICE_PREFIX + t for t in SERVICE_TYPES)
        raise AnalysisError(
            f"unknown service exposure(s) {unknown}; this database has referrals for "
            f"{', '.join(known)} (service types of the contract: {types})")
    return dict.fromkeys(wanted, SERVICE_SETTING)


def service_participation_sql(exposure_ids: Iterable[str]) -> str:
    """A SELECT shaped as post-release participations: ``program_id, start_date,
    end_date, release_id``, one row per reached referral and exposure id it counts for.

    ``exposure_ids`` must have been checked (:func:`check_service_exposures`): they are
    written into the SQL as literals.
    """
    ids = [e for e in exposure_ids if is_service_exposure(e)]
    if not ids:
        return ("SELECT NULL::VARCHAR AS program_id, NULL::DATE AS start_date, "
                "NULL::DATE AS end_date, NULL::VARCHAR AS release_id WHERE false")
    listed = ", ".join("('" + e.replace("'", "''") + "')" for e in ids)
    return f"""SELECT ids.program_id, {CONTACT_DAY_SQL} AS start_date,
       NULL::DATE AS end_date, {owner_release_sql()} AS release_id
FROM referrals rf
JOIN services sv USING (service_id)
JOIN (VALUES {listed}) AS ids(program_id)
  ON ids.program_id = '{ANY_SERVICE}' OR ids.program_id = '{SERVICE_PREFIX}' || sv.service_type
WHERE rf.status IN ({_REACHED})"""


def contact_days(con: duckdb.DuckDBPyConnection, exposure_id: str) -> tuple[int, int]:
    """Reached referrals an exposure counts, and how many of them start on the
    ``referral_date`` because no ``first_contact_date`` was recorded.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> contact_days(con, "service:any")
    (0, 0)
    """
    service_type = service_type_of(exposure_id)
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE rf.first_contact_date IS NULL) "
        f"FROM referrals rf JOIN services sv USING (service_id) "
        f"WHERE rf.status IN ({_REACHED}) AND ($type IS NULL OR sv.service_type = $type)",
        {"type": service_type}).fetchall()[0]
    return int(row[0]), int(row[1])
