"""What a dashboard view looks at: the selection, the outcome and the minimum cell size.

:class:`ViewFilters` is the one argument every view function takes. It travels in the
page URL (``to_query`` / ``from_query``) so a view can be shared as a link: lists are
comma-joined (a literal comma or percent sign inside a value is percent-encoded), default
values are left out, and anything unknown or invalid in a URL is dropped — a hand-edited
or truncated link opens the nearest valid view instead of an error.

Query parameters
----------------
``from``, ``to``
    Release dates (ISO ``YYYY-MM-DD``), inclusive.
``facility``, ``region``, ``sex``, ``age_band``, ``offense``, ``year``, ``release_type``
    Comma-separated values to keep.
``events``
    Event types that count as reoffending (default: every type present).
``k``
    Minimum cell size, between :data:`~analysis.disclosure.MIN_CELL_FLOOR` and
    :data:`MIN_CELL_CEILING`. A link can raise ``k`` but never switch disclosure control
    off; a :class:`ViewFilters` made in code refuses ``k`` below the floor too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

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


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        return None


def _years(text: str) -> tuple[int, ...]:
    years = []
    for item in _split(text):
        try:
            year = int(item)
        except ValueError:
            continue
        if 1900 <= year <= 2200:
            years.append(year)
    return tuple(dict.fromkeys(years))


def _min_cell(text: str | None) -> int:
    try:
        k = int(str(text).strip())
    except (TypeError, ValueError):
        return DEFAULT_MIN_CELL
    return k if MIN_CELL_FLOOR <= k <= MIN_CELL_CEILING else DEFAULT_MIN_CELL


@dataclass(frozen=True)
class ViewFilters:
    """The releases, outcome and minimum cell size a dashboard view is computed for.

    The outcome is normalised to :meth:`Outcome.from_types` of its event types (its name
    is derived from them), so that a filter survives a trip through the URL unchanged.

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

    def __post_init__(self) -> None:
        # Duplicates and empty strings mean nothing in a filter; dropping them here makes
        # every ViewFilters survive the URL round trip.
        # Any: each field keeps its own tuple type (text, or int for release_years)
        tidy: dict[str, Any] = {name: tuple(dict.fromkeys(v for v in getattr(self.selection, name) if v != ""))
                for name, _ in (*_TEXT_PARAMS, ("release_years", "year"))}
        object.__setattr__(self, "selection", replace(self.selection, **tidy))
        object.__setattr__(self, "outcome", Outcome.from_types(self.outcome.event_types))
        # Every view is published (screen, downloads, links): never below the floor,
        # however the filters are made (URL, sidebar or code).
        object.__setattr__(self, "min_cell", published_min_cell(
            self.min_cell, setting="the minimum cell size k", unsafe_option=None))

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
        """Filters from URL query parameters; unknown or invalid values are dropped."""

        def get(key: str) -> str | None:
            value = params.get(key)
            if isinstance(value, list | tuple):  # some callers pass repeated parameters
                value = value[-1] if value else None
            return None if value is None else str(value)

        texts = {}
        for name, param in _TEXT_PARAMS:
            values = _split(get(param) or "")
            if name == "age_bands":
                values = [v for v in values if v in AGE_BAND_LABELS]
            texts[name] = tuple(dict.fromkeys(values))
        selection = Selection(
            release_from=_date(get("from")),
            release_to=_date(get("to")),
            release_years=_years(get("year") or ""),
            **texts,
        )
        events = [e for e in _split(get("events") or "") if e in EVENT_TYPES]
        return cls(selection, Outcome.from_types(events or None), _min_cell(get("k")))
