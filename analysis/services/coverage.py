"""Coverage: for each release region, who is released there, what services exist, what is missing.

Definitions (worked examples in ``docs/services.md``):

* **releases_12m**: releases with ``as_of - 12 months < release_date <= as_of``;
  ``as_of`` defaults to the data's last day (:func:`analysis.planning.forecast.resolve_as_of`).
* **upcoming_releases**: people in ``expected_releases`` expected out in the 12 months
  after ``as_of`` (each person once, at the earliest such date); ``None`` when the
  database has no expected releases at all.
* **needs**: among releases_12m, how many have each need proxy of
  :data:`analysis.services.vocabulary.NEEDS`.
* A service is **offered** in a region when it is valid on ``as_of`` (``valid_from`` empty
  or on or before it, ``valid_to`` empty or on or after it) and its ``regions`` name the
  region or ``all``. Its yearly **capacity** is split evenly between the regions it
  serves (``all``: every region of the database's releases); a type's capacity in a
  region is the sum of its services' shares, rounded to whole people, and unknown
  (``None``) when any of them has no capacity.
* **Gaps** (:data:`analysis.services.vocabulary.GAP_REASONS`), for regions with
  releases_12m > 0: ``no_service`` (no service of the type), ``capacity_below_demand``
  (a type of ``NEED_OF_SERVICE`` whose known capacity is below the releases_12m with
  its need), ``none_for_women`` (women among releases_12m, and every service of the type
  there serves men only).

Counts of people are disclosure-controlled in :meth:`CoverageResult.as_dict`; the
result itself holds the exact counts, for the analyst.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass, field, replace

import duckdb
import pandas as pd

from analysis.disclosure import (
    DisclosurePolicy,
    disclosure_block,
    linked_suppression,
    rate_discloses,
)
from analysis.errors import AnalysisError
from analysis.planning.forecast import add_months, resolve_as_of
from analysis.services.vocabulary import (
    ALL_REGIONS,
    NEED_OF_SERVICE,
    NEEDS,
    SERVICE_TYPES,
    need_sql,
)
from analysis.survival.episodes import Selection
from analysis.survival.episodes.sql import age_band_sql
from analysis.survival.follow_up import age_sql


@dataclass(frozen=True)
class ServiceSupply:
    """What a region has of one service type on the as-of day."""

    service_type: str
    providers: int
    services: int
    capacity: int | None  # people a year; None: some service's capacity is unknown
    serves_women: bool  # some service serves women (sex_served women or both)


@dataclass(frozen=True)
class Gap:
    """A region x service type flagged as missing (``reason`` in ``GAP_REASONS``)."""

    service_type: str
    reason: str
    demand: int | None  # releases_12m with the type's need (women for none_for_women)
    capacity: int | None


@dataclass(frozen=True)
class RegionCoverage:
    """One release region: releases, needs, the services offered and the gaps."""

    region: str
    releases_12m: int
    upcoming_releases: int | None
    needs: dict[str, int] = field(default_factory=dict)
    services: tuple[ServiceSupply, ...] = ()
    gaps: tuple[Gap, ...] = ()


@dataclass(frozen=True)
class CoverageResult:
    """Coverage of every release region on ``as_of`` (see the module docstring)."""

    as_of: dt.date
    regions: tuple[RegionCoverage, ...]
    has_services: bool
    has_boundaries: bool

    def summary(self) -> pd.DataFrame:
        """Tidy table: one row per region x service type offered or flagged.

        Columns ``region, service_type, providers, capacity, demand, gap`` (``gap``: the
        reason, or ``None``); ``demand`` is the releases_12m with the type's need, for
        the types of ``NEED_OF_SERVICE``. Exact counts: for the analyst's own screen.
        """
        rows = []
        for region in self.regions:
            offered = {s.service_type: s for s in region.services}
            flagged: dict[str, list[str]] = {}
            for gap in region.gaps:
                flagged.setdefault(gap.service_type, []).append(gap.reason)
            for service_type in SERVICE_TYPES:
                supply = offered.get(service_type)
                if supply is None and service_type not in flagged:
                    continue
                need = NEED_OF_SERVICE.get(service_type)
                rows.append({
                    "region": region.region, "service_type": service_type,
                    "providers": supply.providers if supply else 0,
                    "capacity": supply.capacity if supply else None,
                    "demand": region.needs.get(need) if need else None,
                    "gap": ", ".join(flagged[service_type]) if service_type in flagged
                    else None,
                })
        frame = pd.DataFrame(rows, columns=["region", "service_type", "providers", "capacity",
                                            "demand", "gap"])
        return frame.astype({"providers": "Int64", "capacity": "Int64", "demand": "Int64"})

    def as_dict(self, policy: DisclosurePolicy, *, unsafe: bool = False) -> dict:
        """The ``desist services coverage --json`` shape, counts of 1 to k-1 people null.

        Per region ``releases_12m = need + the rest`` for each need: a need count, or
        releases_12m, is hidden when it or the rest is 1 to k-1 (so is its share, and a
        gap's ``demand``); capacities and numbers of providers count places, not people.
        A ``capacity_below_demand`` gap whose demand is hidden is withheld too (it would
        narrow the hidden count: :func:`_gap_reveals_demand`) and counted as hidden.
        """
        hidden_total = 0
        regions = []
        for region in self.regions:
            shown, hidden = _shown_counts(region, policy)
            gaps = [g for g in region.gaps if not _gap_reveals_demand(g, shown)]
            hidden_total += hidden + len(region.gaps) - len(gaps)
            needs = {}
            for need in NEEDS:
                count = shown[("need", need)]
                share = None
                if count is not None and region.releases_12m > 0 and not rate_discloses(
                        region.needs[need], region.releases_12m, policy):
                    share = region.needs[need] / region.releases_12m
                needs[need] = {"count": count, "share": share}
            regions.append({
                "region": region.region,
                "releases_12m": shown["releases_12m"],
                "upcoming_releases": shown["upcoming"],
                "needs": needs,
                "services": [{"service_type": s.service_type, "providers": s.providers,
                              "services": s.services, "capacity": s.capacity,
                              "serves_women": s.serves_women} for s in region.services],
                "gaps": [{"service_type": g.service_type, "reason": g.reason,
                          "demand": _gap_demand(g, shown),
                          "capacity": g.capacity} for g in gaps],
            })
        return {"disclosure": disclosure_block(policy.k, unsafe=unsafe, hidden=hidden_total),
                "as_of": self.as_of.isoformat(), "has_services": self.has_services,
                "has_boundaries": self.has_boundaries,
                # upcoming_releases is null both when hidden and without expected releases
                "has_expected_releases": any(r.upcoming_releases is not None
                                             for r in self.regions),
                "regions": regions}


def _shown_counts(region: RegionCoverage, policy: DisclosurePolicy) -> tuple[dict, int]:
    """Each count of a region as it may be shown (``None``: hidden), and how many hid."""
    values: dict[Hashable, float] = {"releases_12m": region.releases_12m}
    relations = []
    for need in NEEDS:
        values[("need", need)] = region.needs[need]
        values[("rest", need)] = region.releases_12m - region.needs[need]
        relations.append(("releases_12m", [("need", need), ("rest", need)]))
    published = ["releases_12m", *(("need", n) for n in NEEDS)]
    hide = linked_suppression(values, relations, policy, published=published)
    shown: dict[Hashable, int | None] = {
        key: None if key in hide else int(values[key]) for key in published}
    upcoming = region.upcoming_releases
    shown["upcoming"] = None if upcoming is not None and policy.hides(upcoming) else upcoming
    return shown, len(hide) + int(upcoming is not None and policy.hides(upcoming))


def _gap_demand(gap: Gap, shown: dict) -> int | None:
    """A gap's demand as it may be shown: the need count it compares with."""
    need = "women" if gap.reason == "none_for_women" else NEED_OF_SERVICE.get(gap.service_type)
    return None if need is None else shown[("need", need)]


def _gap_reveals_demand(gap: Gap, shown: dict) -> bool:
    """Whether saying "capacity below demand" would narrow a hidden demand.

    A demand shown as ``<k`` lies between 1 and k-1; "below demand" with a capacity of
    ``c`` places would put it between c+1 and k-1 (exactly k-1 when c = k-2), so the gap
    is withheld. With no places at all (c = 0) it says only that someone has the need,
    which ``<k`` says already.
    """
    return (gap.reason == "capacity_below_demand" and _gap_demand(gap, shown) is None
            and bool(gap.capacity))


def has_services(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database has a services directory (any row of ``services``).

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> has_services(con)
    False
    """
    return _count(con, "SELECT count(*) FROM services", {}) > 0


def selected_releases_sql(selection: Selection | None, table: str = "releases"
                          ) -> tuple[str, dict[str, object]]:
    """A SELECT of the releases a selection keeps, with the fields its filters use.

    Examples
    --------
    >>> sql, params = selected_releases_sql(Selection(sexes=("F",)))
    >>> params
    {'sel_sexes': ['F']}
    """
    where, params = (selection or Selection()).where()
    age = age_sql("r")
    return (f"SELECT * FROM (SELECT r.*, {age_band_sql(f'floor({age})')} AS age_band, "
            f"year(r.release_date) AS release_year FROM {table} r) WHERE {where}", params)


def _count(con, sql: str, params: dict) -> int:
    # fetchall, not fetchone: a half-read result would block con.register afterwards
    rows = con.execute(sql, params).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def services_coverage(con: duckdb.DuckDBPyConnection, *, as_of: dt.date | None = None,
                      selection: Selection | None = None) -> CoverageResult:
    """Coverage of every release region on ``as_of`` (definitions: the module docstring).

    Parameters
    ----------
    con : DuckDB connection to a study database (read-only is enough).
    as_of : datetime.date, optional
        The day described; default the data's last day. Must lie inside the data.
    selection : Selection, optional
        Which releases count (its regions also restrict the regions listed).

    Returns
    -------
    CoverageResult

    Examples
    --------
    >>> import duckdb, datetime as dt
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> _ = con.execute("INSERT INTO releases (release_id, person_id, release_date, facility,"
    ...     " follow_up_end, release_region, sex, offense_category, batch_id) VALUES"
    ...     " ('r1', 'p1', DATE '2024-03-01', 'A', DATE '2024-12-31', 'North', 'F', 'drug', 'b')")
    >>> result = services_coverage(con)
    >>> result.as_of, [(g.service_type, g.reason) for g in result.regions[0].gaps][:2]
    (datetime.date(2024, 12, 31), [('drug_treatment', 'no_service'), ('opioid_substitution', 'no_service')])
    """
    as_of = resolve_as_of(con, as_of)
    since = add_months(as_of, -12)
    chosen = selection or Selection()
    all_regions = [row[0] for row in con.execute(
        "SELECT DISTINCT release_region FROM releases WHERE release_region IS NOT NULL "
        "UNION SELECT DISTINCT release_region FROM expected_releases "
        "WHERE release_region IS NOT NULL ORDER BY 1").fetchall()]
    if not all_regions:
        raise AnalysisError("no release has a release_region: coverage is described per "
                            "region, so fill the releases' release_region column")
    listed = [r for r in all_regions if not chosen.regions or r in chosen.regions]
    released, params = selected_releases_sql(chosen)
    params = {**params, "since": since, "as_of": as_of}
    needs_cols = ", ".join(f"count(*) FILTER (WHERE {need_sql(n, 's')}) AS {n}" for n in NEEDS)
    counts = con.execute(
        f"SELECT s.release_region, count(*) AS releases_12m, {needs_cols} "
        f"FROM ({released}) s WHERE s.release_date > $since AND s.release_date <= $as_of "
        "AND s.release_region IS NOT NULL GROUP BY 1", params).df().set_index("release_region")
    upcoming = _upcoming(con, chosen, as_of)
    supply = _supply(con, as_of, all_regions)
    regions = []
    for name in listed:
        row = counts.loc[name] if name in counts.index else None
        releases_12m = int(row["releases_12m"]) if row is not None else 0
        needs = {n: int(row[n]) if row is not None else 0 for n in NEEDS}
        offered = tuple(supply.get(name, ()))
        region = RegionCoverage(
            name, releases_12m,
            None if upcoming is None else int(upcoming.get(name, 0)), needs, offered)
        regions.append(replace(region, gaps=_gaps(region)))
    has_boundaries = _count(con, "SELECT count(*) FROM region_boundaries", {}) > 0
    return CoverageResult(as_of, tuple(regions), has_services(con), has_boundaries)


def _upcoming(con, selection: Selection, as_of: dt.date) -> dict[str, int] | None:
    """People expected out in the 12 months after ``as_of``, per region (None: no table rows)."""
    if _count(con, "SELECT count(*) FROM expected_releases", {}) == 0:
        return None
    # an expected release has no release date yet: the selection's date filters do not apply
    undated = replace(selection, release_from=None, release_to=None, release_years=())
    where, params = undated.where()
    age = age_sql("e")
    frame = con.execute(f"""
        WITH first AS (
            SELECT * EXCLUDE (expected_release_date), expected_release_date AS release_date
            FROM expected_releases WHERE expected_release_date > $as_of
            QUALIFY row_number() OVER (PARTITION BY person_id
                                       ORDER BY expected_release_date) = 1
        )
        SELECT release_region, count(*) AS n FROM (
            SELECT e.*, {age_band_sql(f"floor({age})")} AS age_band,
                   year(e.release_date) AS release_year FROM first e)
        WHERE release_date <= $until AND release_region IS NOT NULL AND {where}
        GROUP BY 1""", {**params, "as_of": as_of, "until": add_months(as_of, 12)}).fetchall()
    return {region: int(n) for region, n in frame}


def _supply(con, as_of: dt.date, all_regions: list[str]) -> dict[str, list[ServiceSupply]]:
    """Per region, one :class:`ServiceSupply` per service type offered on ``as_of``."""
    rows = con.execute(f"""
        WITH valid AS (
            SELECT service_id, provider_id, service_type, sex_served, capacity_per_year,
                   CASE WHEN list_contains(regions, '{ALL_REGIONS}') THEN $regions
                        ELSE list_distinct(list_intersect(regions, $regions)) END AS served
            FROM services
            WHERE (valid_from IS NULL OR valid_from <= $as_of)
              AND (valid_to IS NULL OR valid_to >= $as_of)
        ),
        per_region AS (
            SELECT unnest(served) AS region, service_type, provider_id, service_id,
                   sex_served, capacity_per_year / len(served) AS share
            FROM valid WHERE len(served) > 0
        )
        SELECT region, service_type, count(DISTINCT provider_id) AS providers,
               count(*) AS services,
               CASE WHEN count(share) = count(*) THEN round(sum(share)) END AS capacity,
               bool_or(sex_served IN ('women', 'both')) AS serves_women
        FROM per_region GROUP BY ALL ORDER BY region, service_type""",
        {"as_of": as_of, "regions": all_regions}).fetchall()
    order = {t: i for i, t in enumerate(SERVICE_TYPES)}
    supply: dict[str, list[ServiceSupply]] = {}
    for region, service_type, providers, services, capacity, women in rows:
        supply.setdefault(region, []).append(ServiceSupply(
            service_type, int(providers), int(services),
            None if capacity is None else int(capacity), bool(women)))
    for offered in supply.values():
        offered.sort(key=lambda s: order.get(s.service_type, len(order)))
    return supply


def _gaps(region: RegionCoverage) -> tuple[Gap, ...]:
    """The gaps of a region (definitions: the module docstring), in vocabulary order."""
    if region.releases_12m == 0:
        return ()
    offered = {s.service_type: s for s in region.services}
    gaps = []
    for service_type in SERVICE_TYPES:
        need = NEED_OF_SERVICE.get(service_type)
        demand = region.needs[need] if need else None
        supply = offered.get(service_type)
        if supply is None:
            gaps.append(Gap(service_type, "no_service", demand, None))
            continue
        if demand is not None and supply.capacity is not None and supply.capacity < demand:
            gaps.append(Gap(service_type, "capacity_below_demand", demand, supply.capacity))
        if region.needs["women"] > 0 and not supply.serves_women:
            gaps.append(Gap(service_type, "none_for_women", region.needs["women"],
                            supply.capacity))
    return tuple(gaps)
