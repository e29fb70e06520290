"""What a dashboard view looks at: the selection, the outcome and the minimum cell size.

:class:`ViewFilters` is the one argument every view function takes. It travels in the
page URL (``to_query`` / ``from_query``) so a view can be shared as a link: lists are
comma-joined (a literal comma or percent sign inside a value is percent-encoded), default
values are left out, and anything unknown or invalid in a URL is replaced — a hand-edited
or truncated link opens the nearest valid view instead of an error. :meth:`parse_query`
says what it replaced (:class:`Rejection`), so that the page can say so too.

Query parameters
----------------
``from``, ``to``
    Release dates (ISO ``YYYY-MM-DD``), inclusive. A period that ends before it starts is
    read the other way round (from the earlier date to the later one).
``facility``, ``region``, ``sex``, ``age_band``, ``offense``, ``year``, ``release_type``
    Comma-separated values to keep.
``events``
    Event types that count as reoffending (default: every type present).
``k``
    Minimum cell size, between :data:`~analysis.disclosure.MIN_CELL_FLOOR` and
    :data:`MIN_CELL_CEILING`. A link can raise ``k`` but never switch disclosure control
    off; a :class:`ViewFilters` made in code refuses ``k`` below the floor too.

A date or ``k`` that is present but blank counts as absent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from analysis.access.roles import LOCAL, Scope
from analysis.contract import EVENT_TYPES
from analysis.disclosure import (
    DEFAULT_MIN_CELL,
    MIN_CELL_FLOOR,
    DisclosurePolicy,
    published_min_cell,
)
from analysis.survival.episodes import AGE_BANDS, UNKNOWN, Outcome, Selection

#: Largest minimum cell size (beyond it nearly everything would be hidden).
MIN_CELL_CEILING = 1000
AGE_BAND_LABELS: tuple[str, ...] = (*(band[0] for band in AGE_BANDS), UNKNOWN)

#: Selection field -> URL parameter, for the text filters.
_TEXT_PARAMS: tuple[tuple[str, str], ...] = (
    ("facilities", "facility"),
    ("regions", "region"),
    ("sexes", "sex"),
    ("age_bands", "age_band"),
    ("offenses", "offense"),
    ("release_types", "release_type"),
)
#: Every URL parameter a ViewFilters reads or writes.
QUERY_KEYS: tuple[str, ...] = (
    "from", "to", *(param for _, param in _TEXT_PARAMS), "year", "events", "k",
)


def _encode_item(value: str) -> str:
    return value.replace("%", "%25").replace(",", "%2C")


def _join(values) -> str:
    return ",".join(_encode_item(str(v)) for v in values)


def _split(text: str) -> list[str]:
    # Only "%" and "," are ever encoded by _join, so unquote reverses it exactly.
    return [unquote(item) for item in str(text).split(",") if item != ""]


@dataclass(frozen=True)
class Rejection:
    """A value of a link that the view does not use, and what it uses instead.

    Parameters
    ----------
    field
        The URL parameter (``"k"``, ``"from"``, ``"facility"``...), or ``"period"`` for a
        ``from``/``to`` pair that ends before it starts.
    value
        What the link says: the parameter's text, one item of a comma-separated list, or
        for ``"period"`` the ISO interval ``"FROM/TO"`` as written.
    used
        What the view uses instead, as text (``"10"``, ``"2019-01-01/2020-06-30"``), or
        ``None`` when the value is only left out (no such bound, or one item fewer).

    Examples
    --------
    >>> ViewFilters.parse_query({"k": "1"})[1]
    (Rejection(field='k', value='1', used='10'),)
    """

    field: str
    value: str
    used: str | None


def _date(param: str, text: str | None, rejected: list[Rejection]) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        rejected.append(Rejection(param, text, None))
        return None


def _year(text: str) -> int | None:
    try:
        year = int(text)
    except ValueError:
        return None
    return year if 1900 <= year <= 2200 else None


def _min_cell(text: str | None, rejected: list[Rejection]) -> int:
    if text is None:
        return DEFAULT_MIN_CELL
    try:
        k = int(text)
    except ValueError:
        k = None
    if k is not None and MIN_CELL_FLOOR <= k <= MIN_CELL_CEILING:
        return k
    rejected.append(Rejection("k", text, str(DEFAULT_MIN_CELL)))
    return DEFAULT_MIN_CELL


def _kept(param: str, items: list[str], allowed, rejected: list[Rejection]) -> list[str]:
    """The items ``allowed`` accepts; a rejection for each of the others."""
    kept = []
    for item in dict.fromkeys(items):
        if allowed(item):
            kept.append(item)
        else:
            rejected.append(Rejection(param, item, None))
    return kept


def _ordered_period(release_from: dt.date | None, release_to: dt.date | None
                    ) -> tuple[dt.date | None, dt.date | None]:
    # A period given backwards selects nothing, which nobody means: read it the other way.
    if release_from is not None and release_to is not None and release_from > release_to:
        return release_to, release_from
    return release_from, release_to


@dataclass(frozen=True)
class ViewFilters:
    """The releases, outcome and minimum cell size a dashboard view is computed for.

    The outcome is normalised to :meth:`Outcome.from_types` of its event types (its name
    is derived from them), so that a filter survives a trip through the URL unchanged; a
    period whose end is before its start is read from the earlier date to the later one.

    Examples
    --------
    >>> f = ViewFilters(Selection(sexes=("F",)), Outcome.named("rearrest"), min_cell=20)
    >>> f.to_query()
    {'sex': 'F', 'events': 'rearrest', 'k': '20'}
    >>> ViewFilters.from_query(f.to_query()) == f
    True
    >>> ViewFilters.from_query({"sex": "F", "k": "1", "age_band": "old"}).min_cell
    10
    """

    selection: Selection = field(default_factory=Selection)
    outcome: Outcome = field(default_factory=Outcome)
    min_cell: int = DEFAULT_MIN_CELL
    #: Who asks (:class:`~analysis.access.roles.Scope`): part of every cache key, never of
    #: the URL. The views enforce it (:mod:`analysis.views.scope`).
    scope: Scope = LOCAL

    def __post_init__(self) -> None:
        # Duplicates and empty strings mean nothing in a filter; dropping them here makes
        # every ViewFilters survive the URL round trip.
        # Any: each field keeps its own tuple type (text, or int for release_years)
        tidy: dict[str, Any] = {name: tuple(dict.fromkeys(v for v in getattr(self.selection, name) if v != ""))
                for name, _ in (*_TEXT_PARAMS, ("release_years", "year"))}
        # A regional office sees its own places only: no place asked means all of its own
        # (a place outside them stays asked for, and the views refuse it).
        if self.scope.regions and not tidy["regions"]:
            tidy["regions"] = self.scope.regions
        if self.scope.facilities and not tidy["facilities"]:
            tidy["facilities"] = self.scope.facilities
        release_from, release_to = _ordered_period(self.selection.release_from,
                                                   self.selection.release_to)
        object.__setattr__(self, "selection", replace(
            self.selection, release_from=release_from, release_to=release_to, **tidy))
        object.__setattr__(self, "outcome", Outcome.from_types(self.outcome.event_types))
        # Every view is published (screen, downloads, links): never below the floor,
        # however the filters are made (URL, sidebar or code).
        # and never below the user's floor (or other than the k fixed for them).
        object.__setattr__(self, "min_cell", self.scope.min_cell(published_min_cell(
            self.min_cell, setting="the minimum cell size k", unsafe_option=None)))

    def out_of_scope(self) -> tuple[tuple[str, str], ...]:
        """``(URL parameter, value)`` of each place asked for that the scope does not
        cover (a regional office asking for another region), in parameter order."""
        outside = []
        for name, param, allowed in (("regions", "region", self.scope.regions),
                                     ("facilities", "facility", self.scope.facilities)):
            if allowed:
                outside += [(param, v) for v in getattr(self.selection, name)
                            if v not in allowed]
        return tuple(outside)

    def unscoped(self) -> ViewFilters:
        """The same request as the local analyst would make it (for stored results,
        which hold only unrestricted views)."""
        return replace(self, scope=LOCAL)

    @property
    def policy(self) -> DisclosurePolicy:
        """The disclosure policy these filters ask for."""
        return DisclosurePolicy(k=self.min_cell)

    def to_query(self) -> dict[str, str]:
        """URL query parameters (defaults omitted; lists comma-joined)."""
        sel, query = self.selection, {}
        if sel.release_from is not None:
            query["from"] = sel.release_from.isoformat()
        if sel.release_to is not None:
            query["to"] = sel.release_to.isoformat()
        for name, param in _TEXT_PARAMS:
            if getattr(sel, name):
                query[param] = _join(getattr(sel, name))
        if sel.release_years:
            query["year"] = _join(sel.release_years)
        if self.outcome.event_types is not None:
            query["events"] = _join(self.outcome.event_types)
        if self.min_cell != DEFAULT_MIN_CELL:
            query["k"] = str(self.min_cell)
        return query

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> ViewFilters:
        """Filters from URL query parameters; unknown or invalid values are dropped
        (:meth:`parse_query` also says which)."""
        return cls.parse_query(params)[0]

    @classmethod
    def parse_query(cls, params: Mapping[str, str]
                    ) -> tuple[ViewFilters, tuple[Rejection, ...]]:
        """Filters from URL query parameters, and what of the link they do not use.

        Parameters
        ----------
        params
            The query parameters (repeated ones as lists: the last counts). Keys other
            than :data:`QUERY_KEYS` are ignored.

        Returns
        -------
        tuple
            The filters, and one :class:`Rejection` per value replaced or left out, in
            parameter order: ``k`` not a whole number from the floor to the ceiling,
            ``from``/``to`` not a date or in the wrong order, a release year outside
            1900–2200, an unknown age band or event type. Names of facilities, regions,
            sexes, offenses and release types are kept: only the database knows them.

        Examples
        --------
        >>> filters, rejected = ViewFilters.parse_query(
        ...     {"from": "2024-06-30", "to": "2023-01-01", "age_band": "18-24,old"})
        >>> filters.selection.release_from, filters.selection.age_bands
        (datetime.date(2023, 1, 1), ('18-24',))
        >>> [(r.field, r.value, r.used) for r in rejected]
        [('period', '2024-06-30/2023-01-01', '2023-01-01/2024-06-30'), ('age_band', 'old', None)]
        """

        def get(key: str) -> str | None:
            value = params.get(key)
            if isinstance(value, list | tuple):  # some callers pass repeated parameters
                value = value[-1] if value else None
            return None if value is None else str(value)

        def get_scalar(key: str) -> str | None:
            text = (get(key) or "").strip()
            return text or None

        rejected: list[Rejection] = []
        release_from = _date("from", get_scalar("from"), rejected)
        release_to = _date("to", get_scalar("to"), rejected)
        ordered = _ordered_period(release_from, release_to)
        if ordered != (release_from, release_to):
            rejected.append(Rejection("period", f"{release_from}/{release_to}",
                                      f"{ordered[0]}/{ordered[1]}"))
        texts = {}
        for name, param in _TEXT_PARAMS:
            values = _split(get(param) or "")
            if name == "age_bands":
                values = _kept(param, values, AGE_BAND_LABELS.__contains__, rejected)
            texts[name] = tuple(dict.fromkeys(values))
        years = _kept("year", _split(get("year") or ""), lambda y: _year(y) is not None,
                      rejected)
        selection = Selection(
            release_from=ordered[0],
            release_to=ordered[1],
            release_years=tuple(dict.fromkeys(int(y) for y in years)),
            **texts,
        )
        events = _kept("events", _split(get("events") or ""), EVENT_TYPES.__contains__,
                       rejected)
        k = _min_cell(get_scalar("k"), rejected)
        return cls(selection, Outcome.from_types(events or None), k), tuple(rejected)
