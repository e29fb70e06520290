"""Services and coverage page: what exists where, what is missing, who reached a service.

Layer rule: pure Python (never streamlit); each view takes ``(con, filters, **options)``
and returns a frozen dataclass of numbers and codes, already disclosure-controlled with
``filters.min_cell``; :mod:`analysis.views.services_words` words it at the edge. The
analysis itself is :mod:`analysis.services` (coverage, follow-through) and, for the
reoffending comparison, the Impact page's evaluation (:mod:`analysis.views.impact`).

Scope
-----
Every view serves the ``services`` page (:func:`~analysis.views.scope.serves`), so only
the roles that may open it get an answer. The sidebar's selection restricts the releases
counted; a planner of a regional office sees only their own regions: the selection is
already narrowed to them (:class:`~analysis.views.filters.ViewFilters`), and the rows
of any other region are dropped here as well, so that no number of another region (nor
its name, nor its outline on the map) is returned.

Disclosure control
------------------
The page shows what the command line's JSON publishes (``desist services coverage
--json``, ``desist services referrals --json``): the counts
:meth:`~analysis.services.coverage.CoverageResult.as_dict` and
:meth:`~analysis.services.follow_through.FollowThroughResult.as_dict` keep, so the two
never disagree. Counts of people (releases in the last 12 months, upcoming releases, the
releases with each need, referrals by status, people referred or reached within 30
days) from 1 to ``k - 1`` read ``"<k"``; a count hidden only because it would give a
small one away (a need count whose complement is small; a status count that the others
and all referrals would reveal) reads ``"hidden"``; a share is hidden (NaN) with its
count, or when its complement is small (:func:`~analysis.disclosure.rate_discloses`);
the median days to first contact of fewer than ``k`` dated contacts is not shown.
Providers, services and capacity describe organisations, not people: they are shown.
No total over regions is shown beside the regions.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analysis.disclosure import DisclosurePolicy, rate_discloses
from analysis.errors import AnalysisError
from analysis.impact.wording import SECONDARY_LABEL
from analysis.planning.forecast import data_span
from analysis.services.coverage import CoverageResult, services_coverage
from analysis.services.follow_through import FollowThroughResult, referral_follow_through
from analysis.services.vocabulary import NEED_OF_SERVICE, NEEDS
from analysis.views import impact
from analysis.views.filters import ViewFilters
from analysis.views.scope import serves

#: The exposure id of "reached any service" (``service:<type>`` for one type).
ANY_SERVICE = "any"
#: Columns of :attr:`ServicesCoverage.regions_table` (each need: count and share).
COVERAGE_COLUMNS = ("region", "releases_12m", "upcoming_releases",
                    *(c for need in NEEDS for c in (need, f"{need}_share")),
                    "service_types", "gaps")
#: Columns of :attr:`ServicesCoverage.supply`.
SUPPLY_COLUMNS = ("region", "service_type", "providers", "services", "capacity",
                  "serves_women", "need", "demand")
#: Columns of :attr:`ServicesCoverage.gaps`.
GAP_COLUMNS = ("region", "service_type", "reason", "demand", "capacity")
#: The statuses of the funnel, in order (``attended`` counts attended or completed).
FUNNEL_COUNTS = ("referred", "attended", "completed", "declined", "not_available")
#: Columns of :attr:`ServicesFollowThrough.rows`.
FOLLOW_COLUMNS = ("service_type", "region", *FUNNEL_COUNTS, "attended_share",
                  "completed_share", "people", "median_days_to_contact",
                  "contact_within_30")


def _count(n: int | None, policy: DisclosurePolicy) -> object:
    """A count as shown: the number, the policy's label for 1..k-1, None when unknown."""
    if n is None:
        return None
    return policy.label if policy.hides(int(n)) else int(n)


def _share(numerator: int, denominator: int, policy: DisclosurePolicy) -> float:
    if denominator <= 0 or rate_discloses(numerator, denominator, policy):
        return float("nan")
    return numerator / denominator


def in_scope(filters: ViewFilters, region: str) -> bool:
    """Whether the user's regions (none: every region) hold ``region``."""
    return not filters.scope.regions or region in filters.scope.regions


@dataclass(frozen=True)
class ServicesCoverage:
    """Coverage per region as it may be shown (module notes: scope, disclosure).

    ``regions_table``: :data:`COVERAGE_COLUMNS`, one row per region, most releases
    first (counts or ``"<k"``; shares NaN where hidden; ``service_types`` how many types
    are offered; ``gaps`` the ``(service_type, reason)`` codes). ``supply``:
    :data:`SUPPLY_COLUMNS`, one row per region and service type offered or missing
    where needed (``demand``: the releases with the type's need, a count or ``"<k"``,
    None when the type has no need proxy). ``gaps``: :data:`GAP_COLUMNS`.
    ``boundaries``: ``region, geometry`` (GeoJSON dicts) of the regions shown, empty
    when none was imported.
    """

    as_of: dt.date
    has_services: bool
    has_boundaries: bool
    regions_table: pd.DataFrame
    supply: pd.DataFrame
    gaps: pd.DataFrame
    boundaries: pd.DataFrame
    suppressed_label: str

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(str(r) for r in self.regions_table["region"])


def _shown(value: int | None, exact: int | None, policy: DisclosurePolicy) -> object:
    """A count the coverage's publication kept (``value``) or hid (``None``): the hidden
    one reads the policy's label when it is itself small, else ``"hidden"``."""
    if exact is None:
        return None
    if value is not None:
        return int(value)
    return policy.label if policy.hides(int(exact)) else SECONDARY_LABEL


def _region_row(region, published: dict, policy: DisclosurePolicy) -> dict:
    row: dict[str, object] = {
        "region": str(region.region),
        "releases_12m": _shown(published["releases_12m"], region.releases_12m, policy),
        "upcoming_releases": _shown(published["upcoming_releases"], region.upcoming_releases,
                                    policy)}
    for need in NEEDS:
        shown = published["needs"][need]
        row[need] = _shown(shown["count"], int(region.needs.get(need, 0)), policy)
        row[f"{need}_share"] = float("nan") if shown["share"] is None else float(shown["share"])
    row["service_types"] = len(region.services)
    row["gaps"] = tuple((str(g.service_type), str(g.reason)) for g in region.gaps)
    return row


def _demand_of(region, row: dict, need: str | None) -> object:
    return None if need is None else row[need]


def _supply_rows(region, row: dict) -> list[dict]:
    rows = []
    offered = {s.service_type: s for s in region.services}
    needed = [t for t in NEED_OF_SERVICE if t not in offered
              and any(g.service_type == t for g in region.gaps)]
    for service_type in [*offered, *needed]:
        supply = offered.get(service_type)
        need = NEED_OF_SERVICE.get(service_type)
        rows.append({
            "region": str(region.region), "service_type": str(service_type),
            "providers": 0 if supply is None else int(supply.providers),
            "services": 0 if supply is None else int(supply.services),
            "capacity": None if supply is None or supply.capacity is None
            else int(supply.capacity),
            "serves_women": bool(supply is not None and supply.serves_women),
            "need": need, "demand": _demand_of(region, row, need)})
    return rows


def _gap_rows(region, row: dict) -> list[dict]:
    rows = []
    for gap in region.gaps:
        need = "women" if gap.reason == "none_for_women" else NEED_OF_SERVICE.get(
            str(gap.service_type))
        rows.append({"region": str(region.region), "service_type": str(gap.service_type),
                     "reason": str(gap.reason), "demand": _demand_of(region, row, need),
                     "capacity": None if gap.capacity is None else int(gap.capacity)})
    return rows


def coverage_tables(result: CoverageResult, filters: ViewFilters) -> tuple[pd.DataFrame, ...]:
    """``(regions_table, supply, gaps)`` of :class:`ServicesCoverage` from a coverage
    result, under ``filters``' policy and scope: the counts its publication
    (:meth:`CoverageResult.as_dict`) keeps, the others as ``"<k"`` or ``"hidden"``.

    Examples
    --------
    ``tests/views/test_services_views.py`` checks it on hand-made results.
    """
    policy = filters.policy
    published = result.as_dict(policy)["regions"]
    pairs = [(r, p) for r, p in zip(result.regions, published, strict=True)
             if in_scope(filters, str(r.region))]
    pairs.sort(key=lambda pair: (-int(pair[0].releases_12m), str(pair[0].region)))
    rows = [(region, _region_row(region, shown, policy)) for region, shown in pairs]
    table = pd.DataFrame([row for _, row in rows], columns=list(COVERAGE_COLUMNS))
    supply = pd.DataFrame([s for region, row in rows for s in _supply_rows(region, row)],
                          columns=list(SUPPLY_COLUMNS))
    gaps = pd.DataFrame([g for region, row in rows for g in _gap_rows(region, row)],
                        columns=list(GAP_COLUMNS))
    for frame, columns in ((table, ("releases_12m", "upcoming_releases", *NEEDS)),
                           (supply, ("capacity", "demand")), (gaps, ("demand", "capacity"))):
        for column in columns:
            frame[column] = frame[column].astype(object)
    return table, supply, gaps


def _boundaries(con: duckdb.DuckDBPyConnection, regions: tuple[str, ...]) -> pd.DataFrame:
    rows = con.execute("SELECT region, geometry FROM region_boundaries ORDER BY region"
                       ).fetchall()
    shown = [(region, json.loads(geometry)) for region, geometry in rows if region in regions]
    return pd.DataFrame(shown, columns=["region", "geometry"])


@serves("services")
def services_coverage_view(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                           as_of: str = "") -> ServicesCoverage:
    """Releases, needs, services and gaps per region as of ``as_of`` (an ISO day;
    ``""``: the data's last day), for the sidebar's selection, within the user's regions.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> from analysis.store import connect_readonly
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=2000)
    >>> with connect_readonly(db) as con:
    ...     shown = services_coverage_view(con, ViewFilters())
    >>> len(shown.regions) > 1, list(shown.regions_table.columns[:2])
    (True, ['region', 'releases_12m'])
    """
    result = services_coverage(con, as_of=iso_day(as_of), selection=filters.selection)
    table, supply, gaps = coverage_tables(result, filters)
    regions = tuple(str(r) for r in table["region"])
    boundaries = _boundaries(con, regions) if result.has_boundaries else pd.DataFrame(
        columns=["region", "geometry"])
    return ServicesCoverage(result.as_of, bool(result.has_services), len(boundaries) > 0,
                            table, supply, gaps, boundaries, filters.policy.label)


@dataclass(frozen=True)
class ServicesSpan:
    """What the page's filters may choose: the data's first and last day (the as-of
    date lies between them)."""

    first: dt.date | None
    last: dt.date | None


@serves("services")
def services_span(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> ServicesSpan:
    """The data's first release and last follow-up day (no count: nothing to hide)."""
    first, last = data_span(con)
    return ServicesSpan(first, last)


# ------------------------------------------------------------------ follow-through

@dataclass(frozen=True)
class ServicesFollowThrough:
    """Referrals by service type and region, as they may be shown.

    ``rows``: :data:`FOLLOW_COLUMNS` (counts, ``"<k"`` or ``"hidden"``; shares of all
    referrals NaN where hidden; the median days from release to first contact NaN when
    fewer than ``k`` people were reached).
    """

    rows: pd.DataFrame
    suppressed_label: str


def follow_through_rows(result: FollowThroughResult, filters: ViewFilters) -> pd.DataFrame:
    """The rows of a follow-through result as they may be shown: the counts its
    publication (:meth:`FollowThroughResult.as_dict`, the same as ``desist services
    referrals --json``) keeps, the others as ``"<k"`` or ``"hidden"``; shares of all
    referrals only where neither count is hidden nor reveals a small one; rows of the
    user's regions only.

    Examples
    --------
    >>> from analysis.services.follow_through import FollowThroughResult
    >>> raw = pd.DataFrame({"service_type": ["housing"], "region": ["North"],
    ...     "referred": [40], "referred_only": [12], "attended": [25], "completed": [12],
    ...     "declined": [3], "not_available": [0], "contact_date_unknown": [0],
    ...     "people": [38], "people_reached": [25], "contact_within_30": [15],
    ...     "median_days_to_contact": [21.0], "dated_contacts": [25]})
    >>> total = raw.drop(columns=["service_type", "region"]).iloc[0].to_dict()
    >>> result = FollowThroughResult(("service_type", "release_region"), raw, total)
    >>> shown = follow_through_rows(result, ViewFilters())
    >>> shown.loc[0, ["referred", "attended", "declined", "completed"]].tolist()
    [40, 25, '<10', 12]
    """
    policy = filters.policy
    published = result.as_dict(policy)["rows"]
    out = []
    for exact, shown in zip(result.rows.to_dict("records"), published, strict=True):
        if not in_scope(filters, str(exact["region"])):
            continue
        row: dict[str, object] = {"service_type": str(exact["service_type"]),
                                  "region": str(exact["region"])}
        for name in (*FUNNEL_COUNTS, "people", "contact_within_30"):
            row[name] = _shown(shown[name], int(exact[name]), policy)
        for name in ("attended", "completed"):
            visible = shown[name] is not None and shown["referred"] is not None
            row[f"{name}_share"] = (_share(int(exact[name]), int(exact["referred"]), policy)
                                    if visible else float("nan"))
        median = shown["median_days_to_contact"]
        row["median_days_to_contact"] = float("nan") if median is None else float(median)
        out.append(row)
    table = pd.DataFrame(out, columns=list(FOLLOW_COLUMNS))
    for name in (*FUNNEL_COUNTS, "people", "contact_within_30"):
        table[name] = table[name].astype(object)
    return table


@serves("services")
def services_follow_through(con: duckdb.DuckDBPyConnection,
                            filters: ViewFilters) -> ServicesFollowThrough:
    """Referred, reached (attended or completed), completed, declined and not
    available, by service type and release region, with the days from release to first
    contact; no row when the database holds no referral."""
    try:
        result = referral_follow_through(con, by=("service_type", "release_region"),
                                         selection=filters.selection)
    except AnalysisError:  # no referral recorded: the page says which file to add
        return ServicesFollowThrough(pd.DataFrame(columns=list(FOLLOW_COLUMNS)),
                                     filters.policy.label)
    return ServicesFollowThrough(follow_through_rows(result, filters), filters.policy.label)


# ------------------------------------------------------------------ the comparison

def exposure_id(service_type: str) -> str:
    """The programme id of "reached a service of ``service_type``" ("" or ``any``:
    any service).

    Examples
    --------
    >>> exposure_id(""), exposure_id("housing")
    ('service:any', 'service:housing')
    """
    return f"service:{service_type or ANY_SERVICE}"


@serves("services")
def services_comparison(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                        service_type: str = "", horizon_days: int = 365
                        ) -> impact.ImpactView:
    """Reoffending of the people who reached a service (of ``service_type``, or any)
    against similar people who did not: the Impact page's matched landmark comparison
    of the post-release exposure ``service:<type>``, with all its rules (reportable
    only from 60 participants with outcomes, small-sample flag, hidden counts).

    Asked through this page (not the Impact page), so a role that sees services sees it;
    an evaluation that cannot run returns the view with ``error`` set.
    """
    return impact.impact(con, filters, kind="program", value=exposure_id(service_type),
                         horizon_days=horizon_days)


def iso_day(text: str, *, strict: bool = True) -> dt.date | None:
    """An ISO day (``""``: None); a text that is not one raises (``strict``) or is None.

    Examples
    --------
    >>> iso_day("2024-02-29"), iso_day(""), iso_day("soon", strict=False)
    (datetime.date(2024, 2, 29), None, None)
    """
    if not text:
        return None
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        if strict:
            raise AnalysisError(f"the as-of date must be a day written YYYY-MM-DD, "
                                f"not {text!r}") from None
        return None


def region_detail(table: pd.DataFrame, region: str) -> str | None:
    """The region the details show: ``region`` when shown, else the one with most
    releases (the table's first), None when there is none."""
    regions = [str(r) for r in table["region"]]
    if region in regions:
        return region
    return regions[0] if regions else None


def nan_if_label(values) -> np.ndarray:
    """Counts for a chart: numbers as they are, a label (``"<k"``, ``"hidden"``) NaN."""
    return np.array([float(v) if isinstance(v, int | float | np.integer) and
                     not isinstance(v, bool) else np.nan for v in values], dtype=float)
