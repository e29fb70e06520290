"""Breakdown fields: what ``--by`` may name, turned into an SQL expression over episodes.

A grouping is one of

* a standard release field: ``facility``, ``release_region``, ``sex``,
  ``offense_category``, ``release_type``, ``follow_up_end_reason``;
* a derived field: ``age_band`` (see :data:`analysis.survival.episodes.AGE_BANDS`) or
  ``release_year`` (release cohort);
* an extra covariate imported from ``releases.csv`` (listed in the ``covariates``
  table); numeric covariates only when they take few distinct values;
* ``program:ID`` — ``participant`` / ``non-participant`` for an ``in_prison`` or
  ``community`` programme, meaning the person took part during the custody period that
  ended with this release (the participation row names this release, or else it started
  before the release date and after the person's previous release; the same rule as the
  Cox exposures). ``post_release`` programmes are refused: splitting at baseline by
  something that happens *after* release credits the programme with the time people had
  to survive to join it (immortal-time bias).

Missing values become the group ``unknown``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from analysis.errors import AnalysisError
from analysis.store.schema import one_row
from analysis.survival.episodes import (
    GROUP_KEY,
    UNKNOWN,
    CachedEpisodes,
    Outcome,
    Selection,
    day_counts,
    quote_ident,
)

#: Release fields that can split an analysis without further checks.
STANDARD_FIELDS: tuple[str, ...] = (
    "facility",
    "release_region",
    "sex",
    "offense_category",
    "release_type",
    "follow_up_end_reason",
)
DERIVED_FIELDS: tuple[str, ...] = ("age_band", "release_year")
#: A numeric covariate with more distinct values than this cannot be a breakdown.
MAX_NUMERIC_LEVELS = 12
PARTICIPANT = "participant"
NON_PARTICIPANT = "non-participant"


@dataclass(frozen=True)
class Grouping:
    """A resolved breakdown: its name, SQL expressions and parameters.

    ``sql`` gives the group label of each episode row (columns of ``releases`` plus
    ``age``, ``age_band``, ``release_year``, ``prev_release``, ``next_release``,
    ``programs``, ``programs_completed``). The same label in two steps, for aggregates:
    ``key_sql`` is the raw value per row (a field as stored, a boolean for a programme)
    and ``label_sql`` turns that value, named
    :data:`~analysis.survival.episodes.GROUP_KEY`, into the label once per aggregated
    row — per row, text labels cost more than the counting (see
    :func:`~analysis.survival.episodes.day_counts`).
    """

    spec: str | None
    sql: str = "'all'"
    params: dict = field(default_factory=dict)
    kind: str = "none"
    key_sql: str = "'all'"
    label_sql: str = GROUP_KEY

    @property
    def label(self) -> str:
        """What the breakdown is called in outputs: its ``--by`` value, or ``all``."""
        return self.spec or "all"


def _covariates(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT name, kind FROM covariates").fetchall())


def _text(expr: str) -> str:
    return f"coalesce(CAST({expr} AS VARCHAR), '{UNKNOWN}')"


def _field(spec: str, kind: str) -> Grouping:
    column = quote_ident(spec)
    return Grouping(spec, _text(column), kind=kind, key_sql=column, label_sql=_text(GROUP_KEY))


def program_sql(program_param: str = "grp_program") -> str:
    """SQL: true when the release's custody period included the programme.

    Reads the episode's ``programs`` list, made by the single definition in
    :mod:`analysis.survival.follow_up` (stored by imports and `desist migrate`).
    """
    return f"coalesce(list_contains(programs, ${program_param}), false)"


def crossed(groupings: list[Grouping], separator: str = " | ") -> Grouping:
    """The cross of several breakdowns: one group per combination of their labels.

    A group's label is the groups' labels joined by ``separator`` (which must not occur
    in a label), e.g. ``"F | 26-35 | violent"``.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> cross = crossed([resolve_grouping(con, "sex"), resolve_grouping(con, "age_band")])
    >>> cross.spec, cross.kind
    ('sex*age_band', 'crossed')
    """
    params: dict = {}
    for grouping in groupings:
        params.update(grouping.params)
    literal = "'" + separator.replace("'", "''") + "'"
    labels = f" || {literal} || ".join(f"({grouping.sql})" for grouping in groupings)
    return Grouping("*".join(g.label for g in groupings), labels, params, kind="crossed",
                    key_sql=labels)


def resolve_grouping(con: duckdb.DuckDBPyConnection, spec: str | Grouping | None
                     ) -> Grouping:
    """Check a ``--by`` value against the database and return its :class:`Grouping`.

    A :class:`Grouping` is returned as it is (it was checked when it was made).

    Raises
    ------
    AnalysisError
        Unknown field, unknown programme, post-release programme, or a numeric
        covariate with too many values.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> resolve_grouping(con, "sex").kind
    'field'
    >>> try:
    ...     resolve_grouping(con, "shoe_size")
    ... except AnalysisError as exc:
    ...     print(str(exc)[:40])
    unknown breakdown field 'shoe_size'; cho
    """
    if isinstance(spec, Grouping):
        return spec
    if spec is None or spec in ("", "all"):
        return Grouping(None)
    spec = spec.strip()
    if spec.startswith("program:"):
        return _program_grouping(con, spec, spec.split(":", 1)[1].strip())
    if spec in STANDARD_FIELDS or spec in DERIVED_FIELDS:
        return _field(spec, "field")
    covariates = _covariates(con)
    if spec in covariates:
        if covariates[spec] == "numeric":
            levels = one_row(
                con, f"SELECT count(DISTINCT {quote_ident(spec)}) FROM releases")[0]
            if levels > MAX_NUMERIC_LEVELS:
                raise AnalysisError(
                    f"covariate {spec!r} is numeric with {levels} distinct values; a breakdown "
                    f"needs at most {MAX_NUMERIC_LEVELS} groups (use it in a Cox model instead)"
                )
        return _field(spec, "covariate")
    choices = [*STANDARD_FIELDS, *DERIVED_FIELDS, *sorted(covariates), "program:ID"]
    raise AnalysisError(
        f"unknown breakdown field {spec!r}; choose one of {', '.join(choices)}"
    )


def _program_grouping(con, spec: str, program_id: str) -> Grouping:
    rows = con.execute(
        "SELECT setting FROM programs WHERE program_id = ?", [program_id]
    ).fetchall()
    if not rows:
        known = [r[0] for r in con.execute(
            "SELECT program_id FROM programs ORDER BY program_id").fetchall()]
        listing = ", ".join(known) or "none: the database has no programs"
        raise AnalysisError(f"unknown program {program_id!r}; known programs: {listing}")
    setting = rows[0][0]
    if setting == "post_release":
        raise AnalysisError(
            f"program {program_id!r} takes place after release: comparing participants "
            "with non-participants from the release date would count the time people "
            "had to stay out of trouble before joining as programme success (immortal-"
            "time bias). Use a Cox model with a time-varying exposure ('desist cox') or "
            "a landmark analysis instead."
        )
    def label(took_part: str) -> str:
        return f"CASE WHEN {took_part} THEN '{PARTICIPANT}' ELSE '{NON_PARTICIPANT}' END"

    return Grouping(spec, label(program_sql()), {"grp_program": program_id}, kind="program",
                    key_sql=program_sql(), label_sql=label(GROUP_KEY))


def day_counts_by(con: duckdb.DuckDBPyConnection, grouping: Grouping,
                  outcome: Outcome | None = None, selection: Selection | None = None,
                  cached: CachedEpisodes | None = None
                  ) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Per-day counts of each group of ``grouping``: :func:`~analysis.survival.episodes.day_counts`.

    The grouping's SQL pieces are taken apart here, in the SQL layer, and nowhere above
    it: rows are grouped on the raw value (``key_sql``) and labelled once per aggregated
    row (``label_sql``), the cheap way.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to a study database (read-only is enough).
    grouping : Grouping
        From :func:`resolve_grouping`.
    outcome, selection : Outcome, Selection, optional
        Which events count and which releases; ``outcome`` is ignored with ``cached``.
    cached : CachedEpisodes, optional
        Episodes materialized by :func:`~analysis.survival.episodes.materialize_episodes`.

    Returns
    -------
    table : DataFrame
        ``group, time, n_event, n_competing, n_censored``, sorted by group then time.
    event_types : tuple of str
        The outcome's resolved event types.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> table, types = day_counts_by(con, resolve_grouping(con, "sex"))
    >>> list(table.columns)
    ['group', 'time', 'n_event', 'n_competing', 'n_censored']
    """
    return day_counts(con, outcome, selection, grouping.key_sql, grouping.params, cached,
                      label_sql=grouping.label_sql)


def check_group_sizes(sizes: pd.Series, min_group_size: int, by: str | None) -> None:
    """Refuse groups too small to estimate, naming them and the way out.

    Parameters
    ----------
    sizes : Series
        Releases per group (index: the group labels).
    min_group_size : int
        The smallest group accepted (the minimum cell size k).
    by : str or None
        The breakdown, named in the message.

    Returns
    -------
    None
        Raises :class:`~analysis.errors.AnalysisError` when a group is too small.

    Examples
    --------
    >>> check_group_sizes(pd.Series({"F": 12, "M": 40}), 10, "sex")
    >>> try:
    ...     check_group_sizes(pd.Series({"F": 3, "M": 40}), 10, "sex")
    ... except AnalysisError as exc:
    ...     print(str(exc)[:45])
    groups too small to estimate (by sex: 'F' (3)
    """
    small = sizes[sizes < min_group_size]
    if len(small):
        listing = ", ".join(f"{g!r} ({n})" for g, n in small.items())
        where = f"by {by}: " if by else ""
        raise AnalysisError(
            f"groups too small to estimate ({where}{listing}; at least {min_group_size} "
            "releases needed). Narrow the selection or choose another breakdown "
            "(--min-cell is the minimum cell size k)."
        )
