"""What the sidebar and breakdown pickers can offer: values present in the database.

Lists of names (facilities, regions, programmes...) are not counts, so they are not
disclosure-controlled; every number a page shows comes from another view. Whether a
selection holds any release at all (:func:`selection_is_empty`) is no count either: a
page shows its empty state instead of empty tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from analysis.access.roles import LOCAL, Scope
from analysis.contract import EVENT_TYPES
from analysis.errors import AnalysisError
from analysis.i18n import N_, translator
from analysis.store.schema import one_row
from analysis.survival.episodes import AGE_BANDS, UNKNOWN, episodes_query, quote_ident
from analysis.survival.episodes.values import recorded_event_types
from analysis.survival.grouping import resolve_grouping
from analysis.views.filters import ViewFilters
from analysis.views.scope import EVERY_PAGE, allowed_programs, serves

#: Breakdowns every database offers, with their names (English msgids).
FIELD_BREAKDOWNS: tuple[tuple[str, str], ...] = (
    ("sex", N_("Sex")),
    ("age_band", N_("Age band at release")),
    ("offense_category", N_("Offense category")),
    ("facility", N_("Facility")),
    ("release_region", N_("Release region")),
    ("release_year", N_("Release year (cohort)")),
)


@dataclass(frozen=True)
class FilterChoices:
    """Values the filters can take, and the breakdowns available.

    ``breakdowns`` pairs a ``--by`` spec (see
    :func:`analysis.survival.grouping.resolve_grouping`) with the name the data give it
    (a covariate's name, a programme's "name (code)"; ``""`` for the fixed fields),
    starting with ``("", "")``, no breakdown; :meth:`breakdown_label` puts it in words.
    """

    first_release: dt.date | None
    last_release: dt.date | None
    facilities: tuple[str, ...]
    regions: tuple[str, ...]
    sexes: tuple[str, ...]
    age_bands: tuple[str, ...]
    offenses: tuple[str, ...]
    event_types: tuple[str, ...]
    breakdowns: tuple[tuple[str, str], ...]

    def breakdown_label(self, spec: str, language: str = "en") -> str:
        """The breakdown ``spec`` in words of ``language`` (data names as they are).

        Examples
        --------
        >>> choices = FilterChoices(None, None, (), (), (), (), (), (),
        ...     (("", ""), ("sex", ""), ("program:P1", "Work (P1)")))
        >>> choices.breakdown_label("sex", "fr"), choices.breakdown_label("program:P1")
        ('Sexe', 'Programme: Work (P1)')
        """
        tr = translator(language)
        fixed = dict(FIELD_BREAKDOWNS)
        if spec == "":
            return tr("No breakdown")
        if spec in fixed:
            return tr(fixed[spec])
        name = dict(self.breakdowns).get(spec, spec)
        if spec.startswith("program:"):
            return tr("Programme: {name}", name=name)
        return tr("Covariate: {name}", name=name)


def _distinct(con: duckdb.DuckDBPyConnection, column: str, scope: Scope = LOCAL
              ) -> tuple[str, ...]:
    # A regional office is offered the places of its own releases only.
    where, params = [f"{quote_ident(column)} IS NOT NULL"], {}
    for name, values in (("release_region", scope.regions), ("facility", scope.facilities)):
        if values:
            where.append(f"list_contains(${name}, {name})")
            params[name] = list(values)
    rows = con.execute(
        f"SELECT DISTINCT {quote_ident(column)} FROM releases "
        f"WHERE {' AND '.join(where)} ORDER BY 1", params).fetchall()
    return tuple(str(r[0]) for r in rows)


def _breakdowns(con: duckdb.DuckDBPyConnection, scope: Scope = LOCAL
                ) -> tuple[tuple[str, str], ...]:
    options = [("", ""), *((spec, "") for spec, _ in FIELD_BREAKDOWNS)]
    for (name,) in con.execute("SELECT name FROM covariates ORDER BY name").fetchall():
        try:
            resolve_grouping(con, name)  # numeric covariates with many values are refused
        except AnalysisError:
            continue
        options.append((name, name.replace("_", " ")))
    programs = con.execute(
        "SELECT program_id, name FROM programs WHERE setting IN ('in_prison', 'community') "
        "ORDER BY program_id"
    ).fetchall()
    allowed = allowed_programs(con, scope)
    options += [(f"program:{pid}", f"{name} ({pid})") for pid, name in programs
                if allowed is None or pid in allowed]
    return tuple(options)


@serves(EVERY_PAGE, scope_aware=True)
def filter_choices(con: duckdb.DuckDBPyConnection, filters: ViewFilters | None = None
                   ) -> FilterChoices:
    """Distinct values present in the database, within the asker's scope
    (``filters.scope``: a regional office's own places, a donor's own programmes; the
    rest of ``filters`` is ignored).

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> filter_choices(con).breakdowns[:2]
    (('', ''), ('sex', ''))
    """
    scope = filters.scope if filters is not None else LOCAL
    first, last = one_row(con, "SELECT min(release_date), max(release_date) FROM releases")
    no_age = one_row(
        con, "SELECT count(*) FROM releases WHERE age_at_release IS NULL AND birth_year IS NULL"
    )[0]
    bands = tuple(band[0] for band in AGE_BANDS) + ((UNKNOWN,) if no_age else ())
    present = recorded_event_types(con)
    return FilterChoices(
        first_release=first,
        last_release=last,
        facilities=_distinct(con, "facility", scope),
        regions=_distinct(con, "release_region", scope),
        sexes=_distinct(con, "sex"),
        age_bands=bands,
        offenses=_distinct(con, "offense_category"),
        event_types=tuple(t for t in EVENT_TYPES if t in present),
        breakdowns=_breakdowns(con, scope),
    )


@serves(EVERY_PAGE)
def selection_is_empty(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> bool:
    """Whether no release matches the selection of ``filters`` (the outcome is ignored).

    Releases are selected as every analysis selects them (the episodes query: derived age
    band and release year included), so an empty answer here is exactly the case in which
    the analyses would say "no releases match the selection".

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> selection_is_empty(con, ViewFilters())  # a database with no release yet
    True
    """
    sql, params = episodes_query(con, (), filters.selection, select="release_id", tail="LIMIT 1")
    return con.execute(sql, params).fetchone() is None
