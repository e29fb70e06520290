"""What an analysis asks for: the outcome (which events count) and the selection (which
releases), as immutable values.

They carry no SQL of their own beyond :meth:`Selection.where`, the condition over the
episode rows that :mod:`analysis.survival.episodes.sql` places in its query. Age bands
and the label of missing values are defined here because both a selection and a
breakdown (:mod:`analysis.survival.grouping`) use them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from analysis.contract import EVENT_TYPES
from analysis.errors import AnalysisError

#: Age bands as ``(label, lowest age, highest age)``; ages are whole years.
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("10-17", 10, 17),
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55+", 55, None),
)
#: Label of a missing value in derived and grouping fields.
UNKNOWN = "unknown"

#: Release columns (plus derived ones) that episodes can carry and selections filter on.
DERIVED_COLUMNS: tuple[str, ...] = ("age", "age_band", "release_year")


@dataclass(frozen=True)
class Outcome:
    """Which events count as reoffending.

    Parameters
    ----------
    event_types
        Event types making up the outcome; ``None`` means every type present in the
        database's ``events`` table.
    name
        Short name shown in outputs.

    Examples
    --------
    >>> Outcome.named("reconviction").event_types
    ('reconviction',)
    >>> Outcome.from_types("rearrest, reconviction").name
    'rearrest+reconviction'
    """

    event_types: tuple[str, ...] | None = None
    name: str = "any"

    def __post_init__(self) -> None:
        if self.event_types is not None:
            unknown = [t for t in self.event_types if t not in EVENT_TYPES]
            if unknown:
                raise AnalysisError(
                    f"unknown event type(s) {unknown}; event types are {', '.join(EVENT_TYPES)}"
                )
            if not self.event_types:
                raise AnalysisError("an outcome needs at least one event type")
            object.__setattr__(self, "event_types", tuple(dict.fromkeys(self.event_types)))

    @classmethod
    def named(cls, name: str) -> Outcome:
        """A named outcome: ``rearrest``, ``reconviction``, ``reincarceration`` or ``any``."""
        if name == "any":
            return cls(None, "any")
        if name in ("rearrest", "reconviction", "reincarceration"):
            return cls((name,), name)
        raise AnalysisError(
            f"unknown outcome {name!r}; choose rearrest, reconviction, reincarceration or any"
        )

    @classmethod
    def from_types(cls, types: str | list[str] | tuple[str, ...] | None) -> Outcome:
        """Outcome from a comma-separated list of event types (``None``/empty: every type)."""
        if types is None:
            return cls()
        if isinstance(types, str):
            types = [t.strip() for t in types.split(",") if t.strip()]
        if not types:
            return cls()
        return cls(tuple(types), "+".join(dict.fromkeys(types)))

    def resolve(self, con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
        """The event types actually used: the chosen ones, or every type in ``events``."""
        if self.event_types is not None:
            return self.event_types
        present = recorded_event_types(con)
        return tuple(t for t in EVENT_TYPES if t in present)


def recorded_event_types(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The event types that at least one recorded event has.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE events AS SELECT 'rearrest' AS event_type")
    >>> sorted(recorded_event_types(con))
    ['rearrest']
    """
    return frozenset(
        row[0] for row in con.execute("SELECT DISTINCT event_type FROM events").fetchall())


@dataclass(frozen=True)
class Selection:
    """Which releases to analyse; empty fields mean no restriction.

    Dates are inclusive bounds on ``release_date``. Text filters keep releases whose
    value is exactly one of those listed (case matters); a release whose value is missing
    matches no text filter. The fields are combined with AND. A single value may be given
    for a tuple field (``sexes="F"``); it is stored as a one-value tuple.

    Parameters
    ----------
    release_from : datetime.date, optional
        Earliest release date kept, inclusive (default ``None``: no lower bound).
    release_to : datetime.date, optional
        Latest release date kept, inclusive (default ``None``: no upper bound).
    facilities : tuple of str, optional
        Facilities released from (the ``facility`` column), as stored.
    regions : tuple of str, optional
        Regions the people go to (the ``release_region`` column).
    sexes : tuple of str, optional
        Sex codes: ``"F"``, ``"M"``, ``"X"`` (other) or ``"U"`` (unknown).
    offenses : tuple of str, optional
        Categories of the index offense (the ``offense_category`` column).
    age_bands : tuple of str, optional
        Bands of the whole-year age at release: ``"10-17"``, ``"18-24"``, ``"25-34"``,
        ``"35-44"``, ``"45-54"``, ``"55+"``, or ``"unknown"`` (age missing or below 10).
        Any other label is refused (:class:`~analysis.errors.AnalysisError`).
    release_years : tuple of int, optional
        Calendar years of ``release_date``.
    release_types : tuple of str, optional
        Release types (the ``release_type`` column, e.g. ``"conditional"``).

    Examples
    --------
    >>> import datetime as dt
    >>> Selection(sexes=("F",), release_from=dt.date(2018, 1, 1)).is_empty
    False
    >>> Selection(age_bands="18-24").age_bands
    ('18-24',)
    >>> Selection(age_bands=("18-25",))
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: unknown age band(s) ['18-25']; bands are 10-17, 18-24, 25-34, 35-44, 45-54, 55+, unknown
    """

    release_from: dt.date | None = None
    release_to: dt.date | None = None
    facilities: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()
    offenses: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()
    release_years: tuple[int, ...] = ()
    release_types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("facilities", "regions", "sexes", "offenses", "age_bands",
                     "release_years", "release_types"):
            value = getattr(self, name)
            if isinstance(value, str | int):
                value = (value,)
            object.__setattr__(self, name, tuple(value))
        bands = {b[0] for b in AGE_BANDS} | {UNKNOWN}
        bad = [b for b in self.age_bands if b not in bands]
        if bad:
            raise AnalysisError(f"unknown age band(s) {bad}; bands are {', '.join(sorted(bands))}")

    @property
    def is_empty(self) -> bool:
        return self == Selection()

    def where(self) -> tuple[str, dict[str, object]]:
        """SQL condition over the episode rows and its named parameters.

        Examples
        --------
        >>> Selection(sexes=("F",)).where()
        ('TRUE AND list_contains($sel_sexes, sex)', {'sel_sexes': ['F']})
        """
        parts: list[str] = ["TRUE"]
        params: dict[str, object] = {}
        if self.release_from is not None:
            parts.append("release_date >= $sel_from")
            params["sel_from"] = self.release_from
        if self.release_to is not None:
            parts.append("release_date <= $sel_to")
            params["sel_to"] = self.release_to
        for field, column in (("facilities", "facility"), ("regions", "release_region"),
                              ("sexes", "sex"), ("offenses", "offense_category"),
                              ("age_bands", "age_band"), ("release_types", "release_type")):
            values = getattr(self, field)
            if values:
                parts.append(f"list_contains($sel_{field}, {column})")
                params[f"sel_{field}"] = [str(v) for v in values]
        if self.release_years:
            parts.append("list_contains($sel_years, release_year)")
            params["sel_years"] = [int(y) for y in self.release_years]
        return " AND ".join(parts), params
