"""Who offers what in a region: the Services and coverage page's directory.

What exists, not who used it: no count of people, so nothing to hide; names and public
contacts of organisations are data, shown as text by the page. Within the user's
regions only (:func:`analysis.views.services.in_scope`).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from analysis.planning.forecast import data_span
from analysis.services.vocabulary import ALL_REGIONS
from analysis.views.filters import ViewFilters
from analysis.views.scope import serves
from analysis.views.services import in_scope, iso_day

#: Columns of :func:`services_directory`.
DIRECTORY_COLUMNS = ("service_type", "service", "provider", "kind", "sex_served",
                     "languages", "capacity", "valid_from", "valid_to", "phone", "email",
                     "website", "national")


@serves("services")
def services_directory(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                       region: str, as_of: str = "") -> pd.DataFrame:
    """The services offered in ``region`` on ``as_of`` (an ISO day; ``""``: the data's
    last day),
    with their provider's name, kind and public contacts (:data:`DIRECTORY_COLUMNS`;
    ``national``: the service serves every region). What exists, not who used it: no
    count of people. A region outside the user's regions gives no row.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> list(services_directory(con, ViewFilters(), region="North").columns)[:3]
    ['service_type', 'service', 'provider']
    """
    if not in_scope(filters, region):
        return pd.DataFrame(columns=list(DIRECTORY_COLUMNS))
    day = iso_day(as_of) or data_span(con)[1] or dt.date.today()
    frame = con.execute(
        """
        SELECT s.service_type, s.name AS service, p.name AS provider, p.kind, s.sex_served,
               array_to_string(s.languages, ', ') AS languages,
               s.capacity_per_year AS capacity, s.valid_from, s.valid_to, p.phone,
               p.email, p.website, list_contains(s.regions, $all) AS national
        FROM services s JOIN providers p USING (provider_id)
        WHERE (list_contains(s.regions, $region) OR list_contains(s.regions, $all))
          AND (s.valid_from IS NULL OR s.valid_from <= $day)
          AND (s.valid_to IS NULL OR s.valid_to >= $day)
        ORDER BY s.service_type, p.name, s.service_id
        """, {"region": region, "all": ALL_REGIONS, "day": day}).df()
    return frame[list(DIRECTORY_COLUMNS)].reset_index(drop=True)
