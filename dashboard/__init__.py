"""The Streamlit dashboard: UI only.

Layering rule: pages (``dashboard/app_pages/``) hold widgets and calls to
:mod:`dashboard.cache` and :mod:`dashboard.widgets` — no SQL, no model fitting, no
pandas arithmetic beyond choosing columns to display. Every number comes from
:mod:`analysis.views` (already disclosure-controlled); :mod:`dashboard.cache` is the only
module with ``st.cache_resource`` / ``st.cache_data``.
"""
