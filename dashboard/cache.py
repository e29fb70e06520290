"""The dashboard's caches of data: connections and view results (the only other cache is
the sign-in throttle of :mod:`dashboard.auth`, one per server process).

- :func:`connection` — one read-only DuckDB connection per database *file version*,
  keyed by ``(path, mtime_ns)``. An import swaps a new file into place atomically
  (:mod:`analysis.ingest.importer`), which changes the modification time, so the next
  rerun opens the new file; the dashboard never has to be stopped for an import.
- :func:`run_view` — results of :mod:`analysis.views` functions (passed as functions),
  keyed by the view's qualified name (:func:`analysis.views.stored.view_key`), the
  filters (with the signed-in user's scope), the options and the database version; each
  call uses its own
  cursor, so concurrent sessions never share a cursor. The first call of a slow page's
  default view reads the result the importer stored (:mod:`analysis.views.stored`).
- :func:`clear` — forget both (after an import from the Data page).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import streamlit as st

from analysis.access.roles import Scope
from analysis.store import connect_readonly, resolve_db_path
from analysis.views import stored
from analysis.views.filters import ViewFilters
from dashboard.i18n import t


@functools.lru_cache(maxsize=16)
def _absolute(configured: str, cwd: str) -> str:
    # Resolving walks every folder of the path (a system call each); the key is asked for
    # by every cached call of every rerun, so it is done once per configured path.
    return str((Path(cwd) / configured).resolve())


def database_key() -> tuple[str, int]:
    """``(absolute path, mtime_ns)`` of the study database; mtime 0 when it is missing.

    The path is resolved once per configured path (``DESIST_DB``) and working folder;
    the modification time is read on every call, so a file an import swapped in is
    noticed on the next call.
    """
    path = _absolute(str(resolve_db_path(None)), os.getcwd())
    try:
        return path, os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return path, 0


@st.cache_resource(max_entries=4, show_spinner=False)
def _open(path: str, mtime_ns: int) -> duckdb.DuckDBPyConnection:
    # mtime_ns is only part of the cache key: a swapped-in file opens a new connection.
    return connect_readonly(path)


def connection() -> duckdb.DuckDBPyConnection:
    """The read-only connection to the current version of the study database.

    Raises :class:`analysis.errors.DatabaseError` (with advice) when there is none.
    """
    return _open(*database_key())


# The key holds the database version, so a result never goes stale: the ttl only frees
# memory of views nobody asked for in a day, and slow views (Cox models, matching on a
# million releases) are computed once per database version, not every ten minutes.
# The view itself is not hashed (a leading underscore tells Streamlit so): its name,
# `view_name`, is the key, the same text the importer stores its results under.
# The spinner is drawn by run_view, in the session's language (a decorator's text is
# fixed when the module is imported).
@st.cache_data(ttl=86_400, max_entries=128, show_spinner=False)
def _cached_view(view_name: str, _view: stored.View, filters: ViewFilters,
                 db_key: tuple[str, int], **options):
    cursor = _open(*db_key).cursor()
    try:
        # A result the importer stored for this very request is used as it is.
        return stored.compute(cursor, _view, filters, **options)
    finally:
        cursor.close()


def run_view(view: stored.View, filters: ViewFilters, **options):
    """Result of ``view(cursor, filters, **options)``, cached.

    Parameters
    ----------
    view
        A function of :mod:`analysis.views`, e.g. :func:`analysis.views.overview.overview`.
    filters
        The sidebar's filters (part of the cache key).
    **options
        Keyword options of the view (part of the cache key; must be hashable values).
    """
    # st.spinner shows only when the call takes more than half a second: a cached result
    # appears without it.
    with st.spinner(t("Computing…")):
        return run_view_quietly(view, filters, **options)


def run_view_quietly(view: stored.View, filters: ViewFilters, **options):
    """:func:`run_view` without a spinner: for a download's deferred data, computed when
    the button is clicked, outside the page's run (where no element can be drawn).

    Every request is made as the signed-in user (:func:`dashboard.auth.current_scope`),
    whatever scope ``filters`` came with: a page cannot forget it, and the views enforce
    it (:mod:`analysis.views.scope`).
    """
    from dashboard.auth import current_scope  # auth reads the database's access files

    filters = replace(filters, scope=_shared(current_scope()))
    return _cached_view(stored.view_key(view), view, filters, database_key(), **options)


def _shared(scope: Scope) -> Scope:
    # No view reads the account's name: without it in the cache key, two analysts (or
    # two donors of the same funders) share one cached result instead of one each (20
    # analysts held 8.45 GB on a million releases with the name in the key).
    return replace(scope, user=None)


def later(view: stored.View, filters: ViewFilters, **options) -> Callable[[], Any]:
    """``view``'s result made when called — a download's deferred data, which Streamlit
    asks for after the page's run, where the session is not at hand — for the user
    signed in now and the database version of this run."""
    from dashboard.auth import current_scope

    filters = replace(filters, scope=_shared(current_scope()))
    key = database_key()
    return lambda: _cached_view(stored.view_key(view), view, filters, key, **options)


def clear() -> None:
    """Forget every cached connection and result (call after an import)."""
    _cached_view.clear()
    _open.clear()
