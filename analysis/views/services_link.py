"""The Services and coverage page's own filters as a link holds them.

``?service_region=`` (the region the details show), ``?service_type=`` (one type of
:data:`analysis.contract.SERVICE_TYPES`) and ``?as_of=YYYY-MM-DD`` (the day described):
:func:`parse_services_query` reads them and says what it could not use
(:class:`~analysis.views.filters.Rejection`), so that the page can say so too.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.views.filters import Rejection
from analysis.views.services import ServicesSpan, iso_day

#: The page's own URL parameters (the sidebar's are :data:`~analysis.views.filters.QUERY_KEYS`).
SERVICES_KEYS = ("service_region", "service_type", "as_of")


@dataclass(frozen=True)
class ServicesChoice:
    """The page's filters: a region for the details ("" = the one with most releases),
    a service type ("" = every type), the as-of day, ISO ("" = the data's last day).
    Text, not dates: the views' options are part of cache and storage keys (JSON)."""

    region: str = ""
    service_type: str = ""
    as_of: str = ""

    def to_query(self) -> dict[str, str]:
        """URL parameters of the non-default choices."""
        query = {"service_region": self.region, "service_type": self.service_type,
                 "as_of": self.as_of}
        return {key: value for key, value in query.items() if value}


def parse_services_query(params, regions: tuple[str, ...], service_types: tuple[str, ...],
                         span: ServicesSpan) -> tuple[ServicesChoice, tuple[Rejection, ...]]:
    """The choice a link asks for, and a :class:`Rejection` for each value it cannot use
    (a region not shown, a service type not in the vocabulary, a date that is not a day
    of the data): the default is used instead.

    Examples
    --------
    >>> import datetime as dt
    >>> span = ServicesSpan(dt.date(2020, 1, 1), dt.date(2024, 12, 31))
    >>> parse_services_query({"service_type": "housing", "as_of": "2031-01-01"},
    ...                      ("North",), ("housing",), span)
    (ServicesChoice(region='', service_type='housing', as_of=''), (Rejection(field='as_of', value='2031-01-01', used='2024-12-31'),))
    """
    rejected = []
    region = str(params.get("service_region", "") or "")
    if region and region not in regions:
        rejected.append(Rejection("service_region", region, regions[0] if regions else None))
        region = ""
    service_type = str(params.get("service_type", "") or "")
    if service_type and service_type not in service_types:
        rejected.append(Rejection("service_type", service_type, None))
        service_type = ""
    as_of, text = "", str(params.get("as_of", "") or "")
    if text:
        day = iso_day(text, strict=False)
        if day is not None and span.first is not None and span.last is not None \
                and span.first <= day <= span.last:
            as_of = day.isoformat()
        else:
            rejected.append(Rejection("as_of", text,
                                      None if span.last is None else span.last.isoformat()))
    return ServicesChoice(region, service_type, as_of), tuple(rejected)
