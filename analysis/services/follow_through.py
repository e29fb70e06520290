"""Referral follow-through: referred -> reached -> completed, and how soon after release.

Each referral belongs to a release (:func:`analysis.survival.service_exposure.owner_release_sql`:
the release it names, else the person's latest release on or before its contact day,
``first_contact_date`` else ``referral_date``); its region is that release's
``release_region`` and a selection keeps the referrals of the releases it keeps.

Per group of ``by`` (default service type x region), :attr:`FollowThroughResult.rows`:

* ``referred``: every referral; ``referred_only`` (status ``referred``: nothing more is
  known yet), ``attended`` (reached: status attended *or* completed), ``completed``,
  ``declined``, ``not_available``; so ``referred = referred_only + attended + declined +
  not_available`` and ``completed <= attended``;
* ``people``: distinct people referred; ``people_reached``: distinct people with a
  reached referral;
* ``median_days_to_contact``: over releases with a reached referral whose
  ``first_contact_date`` is recorded, the median of days from the release to the earliest
  such contact; ``contact_within_30``: people with such a contact at most 30 days after
  their release; ``contact_date_unknown``: reached referrals without a contact date (left
  out of both).

Worked examples: ``docs/services.md``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from analysis.disclosure import DisclosurePolicy, disclosure_block, linked_suppression
from analysis.errors import AnalysisError
from analysis.services.coverage import selected_releases_sql
from analysis.services.vocabulary import REACHED_STATUSES
from analysis.survival.episodes import Selection
from analysis.survival.service_exposure import CONTACT_DAY_SQL, owner_release_sql

#: What ``by`` may name: the service type, or a field of the release.
BY_FIELDS = ("service_type", "release_region", "facility", "sex", "offense_category")
#: Counts of a row, in the order of the funnel.
STATUS_COUNTS = ("referred", "referred_only", "attended", "completed", "declined",
                 "not_available", "contact_date_unknown")
PEOPLE_COUNTS = ("people", "people_reached", "contact_within_30")
EARLY_CONTACT_DAYS = 30


def _column(field: str) -> str:
    return "region" if field == "release_region" else field


@dataclass(frozen=True)
class ServiceComparison:
    """Reoffending of people who reached a service against those who had not, at a landmark.

    ``impact`` is the :class:`~analysis.results_impact.ImpactAnalysis` of the exposure
    (``None`` with the ``reason`` it could not be made); ``reached`` the reached
    referrals it counts and ``from_referral_date`` those whose exposure starts on the
    referral date because no contact date was recorded.
    """

    exposure: str
    impact: Any
    reason: str | None
    reached: int
    from_referral_date: int

    def as_dict(self, policy: DisclosurePolicy, *, unsafe: bool = False) -> dict:
        # the number without a contact date and the rest are both people counts
        hidden = policy.hides(self.from_referral_date) or policy.hides(
            self.reached - self.from_referral_date)
        return {"exposure": self.exposure,
                "impact": None if self.impact is None else self.impact.as_dict(
                    policy, unsafe=unsafe),
                "reason": self.reason,
                "reached_referrals": None if policy.hides(self.reached) else self.reached,
                "from_referral_date": None if hidden else self.from_referral_date}


@dataclass(frozen=True)
class FollowThroughResult:
    """Follow-through per group (``rows``) and for everyone (``total``); exact counts."""

    by: tuple[str, ...]
    rows: pd.DataFrame
    total: dict
    comparison: ServiceComparison | None = None

    def summary(self) -> pd.DataFrame:
        """The rows, as a copy (exact counts: for the analyst's own screen)."""
        return self.rows.copy()

    def as_dict(self, policy: DisclosurePolicy, *, unsafe: bool = False) -> dict:
        """The ``desist services referrals --json`` shape: hidden counts are null.

        Counts of 1 to k-1 are hidden, and so is every count from which one could be
        worked out: in each row ``referred = referred_only + attended + declined +
        not_available``, ``attended = completed + the rest``, ``people = people_reached
        + the rest``, ``people_reached = contact_within_30 + the rest``, and each status
        count of the total is the sum of the rows'
        (:func:`analysis.disclosure.linked_suppression`). A median needs k dated contacts.
        """
        keys = [_column(f) for f in self.by]
        records = self.rows.to_dict("records")
        hide = follow_through_hidden(records, self.total, policy)
        rows = [_shown(record, i, keys, hide, policy) for i, record in enumerate(records)]
        total = _shown(self.total, "total", [], hide, policy)
        return {"disclosure": disclosure_block(policy.k, unsafe=unsafe, hidden=len(hide)),
                "by": list(keys), "rows": rows, "total": total,
                "comparison": None if self.comparison is None else self.comparison.as_dict(
                    policy, unsafe=unsafe)}


def _shown(record: dict, row: Hashable, keys: list[str], hide: set,
           policy: DisclosurePolicy) -> dict:
    shown: dict[str, Any] = {key: record[key] for key in keys}
    for name in (*STATUS_COUNTS, *PEOPLE_COUNTS):
        shown[name] = None if (row, name) in hide else int(record[name])
    median = record["median_days_to_contact"]
    shown["median_days_to_contact"] = (
        None if pd.isna(median) or record["dated_contacts"] < policy.k else float(median))
    return shown


#: ``(total, parts)``: ``total = sum(parts)`` (:func:`analysis.disclosure.linked_suppression`).
Relation = tuple[Hashable, list]


def _relations(row: Hashable, record: dict, values: dict) -> list[Relation]:
    """The row's counts (and the unpublished rests) in ``values``; its relations."""
    for name in (*STATUS_COUNTS, *PEOPLE_COUNTS):
        values[(row, name)] = int(record[name])
    values[(row, "attended_not_completed")] = int(record["attended"] - record["completed"])
    values[(row, "dated")] = int(record["attended"] - record["contact_date_unknown"])
    values[(row, "people_not_reached")] = int(record["people"] - record["people_reached"])
    values[(row, "reached_later")] = int(record["people_reached"]
                                         - record["contact_within_30"])
    # the first three are the status counts' (follow_through_hidden relies on the order)
    return [((row, "referred"), [(row, "referred_only"), (row, "attended"),
                                 (row, "declined"), (row, "not_available")]),
            ((row, "attended"), [(row, "completed"), (row, "attended_not_completed")]),
            ((row, "attended"), [(row, "dated"), (row, "contact_date_unknown")]),
            ((row, "people"), [(row, "people_reached"), (row, "people_not_reached")]),
            ((row, "people_reached"), [(row, "contact_within_30"), (row, "reached_later")])]


def follow_through_hidden(records: Sequence[dict], total: dict, policy: DisclosurePolicy
                          ) -> set:
    """The ``(row, count)`` pairs to hide (``row``: a position in ``records``, or ``"total"``).

    Small blocks first (each row's own relations, then each status count across the rows
    and the total), repeated until stable, then one exact check of the whole system.
    """
    values: dict[Hashable, float] = {}
    rows: list[tuple[Hashable, dict]] = [*enumerate(records), ("total", total)]
    row_relations: dict[Hashable, list[Relation]] = {
        row: _relations(row, record, values) for row, record in rows}
    column_relations: list[Relation] = [
        (("total", name), [(i, name) for i in range(len(records))])
        for name in STATUS_COUNTS] if records else []
    published = [(row, name) for row in row_relations
                 for name in (*STATUS_COUNTS, *PEOPLE_COUNTS)]
    blocks: list[list[Relation]] = [*row_relations.values(),
                                    *([relation] for relation in column_relations)]
    hide: set = set()
    while True:
        before = len(hide)
        for block in blocks:
            names = {v for total_name, parts in block for v in (total_name, *parts)}
            hide |= linked_suppression({v: values[v] for v in names}, block, policy,
                                       published=[v for v in published if v in names],
                                       hidden=hide & names)
        if len(hide) == before:
            break
    # The people counts' relations stay within their row (solved exactly above); the
    # status counts are tied across rows by the total, so they get the exact check.
    linked = [relation for block in row_relations.values() for relation in block[:3]]
    linked += column_relations
    names = {v for total_name, parts in linked for v in (total_name, *parts)}
    return hide | linked_suppression({v: values[v] for v in names}, linked, policy,
                                     published=[v for v in published if v in names],
                                     hidden=hide & names)


def has_referrals(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database holds any referral (a database older than the services
    tables holds none).

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> has_referrals(con)
    False
    """
    exists = con.execute("SELECT count(*) FROM information_schema.tables "
                         "WHERE table_name = 'referrals'").fetchall()[0][0]
    return bool(exists) and bool(
        con.execute("SELECT EXISTS (SELECT 1 FROM referrals)").fetchall()[0][0])


def referral_follow_through(con: duckdb.DuckDBPyConnection, *,
                            by: Sequence[str] = ("service_type", "release_region"),
                            selection: Selection | None = None) -> FollowThroughResult:
    """Follow-through of referrals per group (definitions: the module docstring).

    Parameters
    ----------
    con : DuckDB connection to a study database (read-only is enough).
    by : sequence of str
        Fields of :data:`BY_FIELDS` (empty: everyone together, the total alone).
    selection : Selection, optional
        Which releases' referrals count.

    Returns
    -------
    FollowThroughResult
        ``comparison`` is ``None`` (:meth:`analysis.study.Study.referral_follow_through`
        adds it).

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> referral_follow_through(con)
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: the database has no referrals: add the files providers, services and referrals to the dataset folder and import it (docs/data-contract.md)
    """
    by = tuple(dict.fromkeys(by))
    wrong = [f for f in by if f not in BY_FIELDS]
    if wrong:
        raise AnalysisError(f"cannot break follow-through down by {wrong}; "
                            f"choose among {', '.join(BY_FIELDS)}")
    if not has_referrals(con):
        raise AnalysisError("the database has no referrals: add the files providers, "
                            "services and referrals to the dataset folder and import it "
                            "(docs/data-contract.md)")
    released, params = selected_releases_sql(selection)
    reached = ", ".join(f"'{s}'" for s in REACHED_STATUSES)
    fields = ", ".join(f"s.{f}" for f in by if f != "service_type")
    referrals = con.execute(f"""
        WITH placed AS (
            SELECT rf.person_id, rf.status, rf.first_contact_date, sv.service_type,
                   {owner_release_sql(CONTACT_DAY_SQL)} AS release_id
            FROM referrals rf JOIN services sv USING (service_id)
        )
        SELECT p.person_id, p.status, p.service_type, p.release_id,
               p.status IN ({reached}) AS reached,
               CASE WHEN p.status IN ({reached})
                    THEN date_diff('day', s.release_date, p.first_contact_date) END AS days
               {", " + fields if fields else ""}
        FROM placed p JOIN ({released}) s USING (release_id)""", params).df()
    referrals = referrals.rename(columns={"release_region": "region"})
    keys = [_column(f) for f in by]
    for key in keys:
        referrals[key] = referrals[key].astype(object).where(referrals[key].notna(), "unknown")
    rows = ([_counts(part) | dict(zip(keys, key if isinstance(key, tuple) else (key,),
                                       strict=True))
             for key, part in referrals.groupby(keys, sort=True)] if keys else [])
    columns = [*keys, *STATUS_COUNTS, *PEOPLE_COUNTS, "median_days_to_contact",
               "dated_contacts"]
    return FollowThroughResult(by, pd.DataFrame(rows, columns=columns), _counts(referrals))


def _counts(part: pd.DataFrame) -> dict:
    """The counts of one group of referrals (one row of the result)."""
    status = part["status"]
    dated = part[part["reached"] & part["days"].notna()]
    first = dated.groupby(["person_id", "release_id"])["days"].min()
    early = first[first <= EARLY_CONTACT_DAYS].index.get_level_values("person_id").nunique()
    return {
        "referred": len(part),
        "referred_only": int((status == "referred").sum()),
        "attended": int(part["reached"].sum()),
        "completed": int((status == "completed").sum()),
        "declined": int((status == "declined").sum()),
        "not_available": int((status == "not_available").sum()),
        "contact_date_unknown": int((part["reached"] & part["days"].isna()).sum()),
        "people": int(part["person_id"].nunique()),
        "people_reached": int(part.loc[part["reached"], "person_id"].nunique()),
        "contact_within_30": int(early),
        "median_days_to_contact": float(first.median()) if len(first) else None,
        "dated_contacts": len(first),
    }
