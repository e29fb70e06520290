"""Services layer of the dashboard: pure functions from the study database to small results.

Layering rule
-------------
Every function here has the shape ``(con, filters: ViewFilters, **options)`` and returns a
small frozen dataclass or a tidy DataFrame, **already disclosure-controlled** (it applies
``filters.min_cell`` through :mod:`analysis.disclosure`), and picklable so the dashboard
can cache it. Results hold numbers and codes, never words meant for a person: the front
end renders column headers, coded cells, notes, chart labels and sentences in its
reader's language (:mod:`analysis.views.words`), so one cached or stored result serves
every language. This package never imports streamlit: it is tested without a UI
(``tests/views/``) and could serve another front end. The Streamlit pages in
``dashboard/app_pages/`` only call these functions through ``dashboard.cache.run_view``
(the function itself, e.g. ``run_view(overview, filters)``) and lay out what they return.
"""

from analysis.views.filters import ViewFilters

__all__ = ["ViewFilters"]
