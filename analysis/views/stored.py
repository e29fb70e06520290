"""Stored results of the slowest views: computed once per import, read by every reader.

On a national database (a million releases) the Programmes page fits two Cox models on
about 1.7 million counting-process rows and the Impact page matches and weights a
cohort: 5 to 15 seconds on a laptop the first time each page opens, against a target of
3. Those results change only when the data (or this code) change, so the importer
computes the pages' *default* views — the whole database, the default outcome and cell
size, the first programme on the Impact page — after the data are written and before
the new file is swapped in, and stores them in the table ``stored_views`` (schema in
``analysis/store/migrations/004_stored_views.sql``). Results are language-free (numbers
and codes; the pages word them), so one stored result serves every language.

:func:`compute` is how readers ask for a view: a stored result is used only when its
request (view, filters, options) is the same, the database has had no import since
(``data_version``) and this is the code that computed it (``code_version``); anything
else is computed as before. A stored result is therefore always the one the view
would compute now, just earlier.

Examples
--------
>>> import duckdb
>>> from analysis.store import migrate
>>> con = duckdb.connect(); _ = migrate(con)
>>> from analysis.views.programs import program_effects
>>> lookup(con, program_effects, ViewFilters(), {}) is None
True
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from analysis.arrow_memory import give_back_arrow_memory
from analysis.errors import AnalysisError
from analysis.services.follow_through import has_referrals
from analysis.store.codec import decode, encode
from analysis.views import impact, planning, programs, scope, services
from analysis.views.filters import ViewFilters

#: A view: ``view(con, filters, **options)`` -> a picklable result.
View = Callable[..., object]

_VIEWS_PACKAGE = "analysis.views."

#: The default horizon of the Programmes and Impact pages (their first choice).
DEFAULT_HORIZON_DAYS = 365


def view_key(view: View) -> str:
    """The name a view's results are stored and cached under: ``"module:qualname"``.

    Views of :mod:`analysis.views` drop the package prefix, so the keys are the
    ``"programs:program_effects"`` strings of the databases stored before views were
    passed as functions.

    Examples
    --------
    >>> view_key(programs.program_effects)
    'programs:program_effects'
    """
    return f"{view.__module__.removeprefix(_VIEWS_PACKAGE)}:{view.__qualname__}"


def compute(con: duckdb.DuckDBPyConnection, view: View, filters: ViewFilters, **options):
    """``view(con, filters, **options)`` within the asker's scope, from storage when it
    is there.

    The scope is enforced here, the one way the dashboard asks for a view
    (:mod:`analysis.views.scope`): a page, place or programme outside it is refused with
    :class:`~analysis.views.scope.OutOfScopeError`; a result is cut to a donor's
    programmes. Stored results hold unrestricted views only: a request limited to some
    places is always computed.
    """
    scope.check(con, view, filters, options)
    asked = filters if filters.scope.limits_places or scope.is_scope_aware(view) \
        else filters.unscoped()
    result = lookup(con, view, asked, options)
    if result is None:
        result = view(con, asked, **options)
    return scope.restrict(con, view, result, filters.scope)


@functools.cache
def code_version() -> str:
    """A digest of the analysis package's source: results of other code are not reused."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".sql") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def data_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The batch id of the database's latest import (None before the first)."""
    row = con.execute(
        "SELECT batch_id FROM import_log ORDER BY finished_at DESC, batch_id DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def request_key(filters: ViewFilters, options: dict) -> str:
    """The canonical text of a view request (filters as in the URL, options sorted)."""
    return json.dumps({"filters": filters.to_query(), "options": options}, sort_keys=True)


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'stored_views'"
    ).fetchone()
    return bool(row and row[0])


def lookup(con: duckdb.DuckDBPyConnection, view: View, filters: ViewFilters, options: dict):
    """The stored result of this request, or None when there is no current one (or the
    request is limited by its scope: stored results are the unrestricted views)."""
    if filters.scope.is_restricted or not _has_table(con):  # or schema version < 4
        return None
    row = con.execute(
        "SELECT result FROM stored_views WHERE view = ? AND request = ? "
        "AND data_version = ? AND code_version = ?",
        [view_key(view), request_key(filters, options), data_version(con), code_version()],
    ).fetchone()
    return decode(row[0]) if row else None


def default_requests(con: duckdb.DuckDBPyConnection) -> list[tuple[View, dict]]:
    """``(view, options)`` of the slow views as each page first opens (filters: default).

    One request per view: the results hold no words, so every language reads the same.
    """
    requests: list[tuple[View, dict]] = [
        (programs.program_effects, {}),
        (programs.completion_outcomes, {"horizon_days": DEFAULT_HORIZON_DAYS}),
    ]
    # the Planning page's forecasts (two outcomes, each with its backtest) as it opens
    requests.append((planning.planning_forecast, {"by": planning.DEFAULT_BREAKDOWN}))
    if has_referrals(con):  # the Services page's comparison, of any service
        requests.append((services.services_comparison, {"service_type": ""}))
    first = impact.default_subject(con, ViewFilters())  # what the Impact page opens on
    if first is not None:
        requests.append((impact.impact_page, {"kind": first.kind, "value": first.value,
                                              "horizon_days": DEFAULT_HORIZON_DAYS}))
    return requests


@dataclass(frozen=True)
class StoredViews:
    """What :func:`store_default_views` stored: ``(view key, request, seconds)`` rows
    (:func:`view_key`)."""

    stored: tuple[tuple[str, str, float], ...]
    failed: tuple[tuple[str, str], ...]

    @property
    def seconds(self) -> float:
        return sum(s for *_, s in self.stored)


#: How much a default view's peak memory grows per release, in bytes: measured with
#: ``benchmarks/bench_import.py`` (the Programmes and Impact views each peak about
#: 1.1-1.3 GB above the process at 1M releases and about 3.5 GB at 3M). Used only to
#: decide whether two views may run at the same time.
VIEW_BYTES_PER_RELEASE = 1_300


def concurrent_views(con: duckdb.DuckDBPyConnection) -> int:
    """How many default views to compute at a time: 2 when the machine has two cores and
    two views' working memory fits in half of its memory, else 1.

    The views spend most of their time in DuckDB and numpy, which let other threads run,
    so two at a time take about two thirds of the time one after the other (1M releases:
    14-17 s instead of 20-25 s, peak 2.4 GB instead of 1.7 GB). On a national database
    the memory decides: ten million releases compute them one after the other.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2:
        return 1
    row = con.execute("SELECT count(*) FROM releases").fetchone()
    releases = row[0] if row else 0
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return 2 if 2 * releases * VIEW_BYTES_PER_RELEASE <= physical // 2 else 1


def store_default_views(con: duckdb.DuckDBPyConnection, *,
                        workers: int | None = None) -> StoredViews:
    """Compute :func:`default_requests` and store them, replacing earlier results.

    Called by the importer on the new database file, after its data are committed. A
    view that fails is not stored (its page computes it when opened, and shows the
    problem there): quietly when the data cannot give it yet (:class:`AnalysisError`,
    e.g. no releases so far), with a warning for anything else. The import stands.

    ``workers`` views are computed at a time, each on its own cursor (default:
    :func:`concurrent_views`); the results are the same either way, stored in the order
    of :func:`default_requests`.
    """
    filters = ViewFilters()
    requests = default_requests(con)
    workers = concurrent_views(con) if workers is None else max(1, workers)
    give_back_arrow_memory()  # what the import left in Arrow's pool, before the views

    def run(request: tuple[View, dict]) -> tuple[str, str, tuple[str, float] | None, str | None]:
        view, options = request
        name, key = view_key(view), request_key(filters, options)
        started = time.perf_counter()
        try:
            with contextlib.closing(con.cursor()) as cursor:
                result = view(cursor, filters, **options)
            give_back_arrow_memory()  # before the next view, not beside it
            return name, key, (encode(result), time.perf_counter() - started), None
        except AnalysisError:
            # The data cannot give this view yet (e.g. no releases imported so far): the
            # page says so when opened, as it would without storage.
            return name, key, None, None
        except Exception as exc:  # noqa: BLE001 - the import must stand; the page will show it
            return name, key, None, f"the stored result of {name} was not computed: {exc}"

    if workers == 1 or len(requests) < 2:
        outcomes = [run(request) for request in requests]
    else:
        # The slowest view first, so that the others share the second worker.
        order = sorted(range(len(requests)), key=lambda i: requests[i][0] is not impact.impact_page)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stored-view") as pool:
            done = dict(zip(order, pool.map(run, [requests[i] for i in order]), strict=True))
        outcomes = [done[i] for i in range(len(requests))]
    computed: dict[tuple[str, str], tuple[str, float]] = {}
    failed: list[tuple[str, str]] = []
    for name, key, stored, problem in outcomes:
        if stored is not None:
            computed[(name, key)] = stored
            continue
        failed.append((name, key))
        if problem is not None:
            warnings.warn(problem, stacklevel=2)
    versions = [data_version(con), code_version()]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM stored_views")
        for (name, key), (text, seconds) in computed.items():
            con.execute("INSERT INTO stored_views VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [name, key, *versions, text, seconds, now])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return StoredViews(tuple((v, k, s) for (v, k), (_, s) in computed.items()), tuple(failed))
