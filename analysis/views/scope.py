"""The scope of a request, enforced: pages, programmes and places a user may see.

Every view is tagged with the pages it serves (:func:`serves`), and
:func:`analysis.views.stored.compute` — the one way the dashboard asks for a view —
calls :func:`check` first and :func:`restrict` last:

- a view of a page the user's role may not open is refused (:class:`OutOfScopeError`);
- a region or facility outside the user's own places is refused; no place asked means
  all of their own (:class:`~analysis.views.filters.ViewFilters` narrows the selection);
- a donor's programmes are those of the projects and funders named for their account.
  A project or funder may be evaluated only when every programme it covers is theirs.
  Results that list programmes are computed as for everyone (so a donor sees the same
  hazard ratio as the ministry's analyst) and then cut to the donor's rows, so that no
  other programme's code, name, project or funder ever reaches them, not even in a
  picker.

A refusal names only what was asked for, and says the same whether or not it exists, so
that asking cannot tell a user what lies outside their scope.

Examples
--------
>>> from analysis.access.roles import Role, Scope
>>> donor = ViewFilters(scope=Scope(Role.DONOR, funders=("EU",)))
>>> try:
...     check(None, serves("overview")(lambda con, filters: None), donor, {})
... except OutOfScopeError as refused:
...     print(refused)
page 'overview' is not among what this account may see
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

import duckdb
import pandas as pd

from analysis.access.roles import PAGES, Scope
from analysis.errors import DesistError
from analysis.views.filters import ViewFilters

#: Tag a view serves every page with (the sidebar's choices, the data dates of captions).
EVERY_PAGE = "*"

_PAGES_ATTRIBUTE = "__desist_pages__"
_RESTRICT_ATTRIBUTE = "__desist_restrict__"
_AWARE_ATTRIBUTE = "__desist_scope_aware__"

F = TypeVar("F", bound=Callable[..., Any])


class OutOfScopeError(DesistError):
    """A view was asked for what the user's scope does not cover.

    ``what`` is the kind (``"page"``, ``"program"``, ``"project"``, ``"funder"``,
    ``"region"``, ``"facility"``) and ``value`` what was asked, as asked. The page shows
    the message and no number.
    """

    def __init__(self, what: str, value: str) -> None:
        self.what, self.value = what, value
        super().__init__(f"{what} {value!r} is not among what this account may see")


def serves(*pages: str, restrict: Callable[[Any, tuple[str, ...]], Any] | None = None,
           scope_aware: bool = False) -> Callable[[F], F]:
    """Tag a view with the pages it serves, and how its result meets the scope.

    Parameters
    ----------
    *pages
        URL paths of :data:`~analysis.access.roles.PAGES`, or :data:`EVERY_PAGE`.
    restrict
        ``restrict(result, allowed_program_ids)``: the result cut to a donor's programmes
        (none: the result names no programme).
    scope_aware
        The view reads ``filters.scope`` itself (e.g. which programme a donor's page
        opens on) and is always called with it; other views are computed for the
        unrestricted request when only programmes are limited, so that they share the
        stored and cached results, and then cut.

    Examples
    --------
    >>> @serves("overview")
    ... def my_view(con, filters):
    ...     return 1
    >>> view_pages(my_view)
    ('overview',)
    """
    unknown = set(pages) - set(PAGES) - {EVERY_PAGE}
    if unknown or not pages:
        raise ValueError(f"unknown pages {sorted(unknown)}: expected some of {PAGES}")

    def tag(view: F) -> F:
        setattr(view, _PAGES_ATTRIBUTE, tuple(pages))
        setattr(view, _RESTRICT_ATTRIBUTE, restrict)
        setattr(view, _AWARE_ATTRIBUTE, scope_aware)
        return view

    return tag


def view_pages(view: Callable[..., Any]) -> tuple[str, ...]:
    """The pages a view serves (empty when it was never tagged: nobody may ask for it)."""
    return getattr(view, _PAGES_ATTRIBUTE, ())


def is_scope_aware(view: Callable[..., Any]) -> bool:
    """Whether the view reads the scope itself (:func:`serves`)."""
    return bool(getattr(view, _AWARE_ATTRIBUTE, False))


def allowed_programs(con: duckdb.DuckDBPyConnection, scope: Scope) -> tuple[str, ...] | None:
    """Programme codes the scope covers, sorted; ``None`` when it covers every programme."""
    if not scope.limits_programs:
        return None
    rows = con.execute(
        "SELECT program_id FROM programs WHERE list_contains(?, project) "
        "OR list_contains(?, funder) ORDER BY program_id",
        [list(scope.projects), list(scope.funders)]).fetchall()
    return tuple(r[0] for r in rows)


def programs_of(con: duckdb.DuckDBPyConnection, kind: str, value: str) -> tuple[str, ...]:
    """The programme codes a subject of the Impact page covers (``kind`` program,
    project or funder)."""
    if kind == "program":
        rows = con.execute("SELECT program_id FROM programs WHERE program_id = ?",
                           [value]).fetchall()
    elif kind in ("project", "funder"):
        rows = con.execute(f"SELECT program_id FROM programs WHERE {kind} = ?",
                           [value]).fetchall()
    else:
        rows = []
    return tuple(r[0] for r in rows)


def subject_allowed(con: duckdb.DuckDBPyConnection, scope: Scope, kind: str,
                    value: str) -> bool:
    """Whether the scope may see a programme, or a project or funder all of whose
    programmes it covers (an empty or unknown subject: no)."""
    allowed = allowed_programs(con, scope)
    if allowed is None:
        return True
    covered = programs_of(con, kind, value)
    return bool(covered) and set(covered) <= set(allowed)


def check(con: duckdb.DuckDBPyConnection, view: Callable[..., Any], filters: ViewFilters,
          options: dict) -> None:
    """Refuse a request the scope does not cover (:class:`OutOfScopeError`)."""
    scope = filters.scope
    pages = view_pages(view)
    if EVERY_PAGE not in pages and not any(scope.allows_page(p) for p in pages):
        raise OutOfScopeError("page", "/".join(pages) or getattr(view, "__name__", "?"))
    for param, value in filters.out_of_scope():
        raise OutOfScopeError(param, value)
    if scope.limits_programs and "value" in options:
        kind = str(options.get("kind", "program"))
        if not subject_allowed(con, scope, kind, str(options["value"])):
            raise OutOfScopeError(kind, str(options["value"]))


def restrict(con: duckdb.DuckDBPyConnection, view: Callable[..., Any], result: Any,
             scope: Scope) -> Any:
    """``result`` cut to the scope's programmes (unchanged when it covers them all)."""
    allowed = allowed_programs(con, scope)
    cut = getattr(view, _RESTRICT_ATTRIBUTE, None)
    if allowed is None or cut is None:
        return result
    return cut(result, allowed)


# ------------------------------------------------------------------ result cutters

def rows_of_programs(table: pd.DataFrame, allowed: Iterable[str],
                     column: str = "program_id") -> pd.DataFrame:
    """The rows of ``table`` whose ``column`` is an allowed programme, renumbered.

    Examples
    --------
    >>> rows_of_programs(pd.DataFrame({"program_id": ["A", "B"]}), ("B",)).program_id.tolist()
    ['B']
    """
    return table[table[column].isin(list(allowed))].reset_index(drop=True)


def only_program_rows(result: Any, allowed: tuple[str, ...]) -> Any:
    """A result with a ``table`` (and optionally a ``forest``) of programme rows, or a
    DataFrame of them, cut to ``allowed``."""
    if isinstance(result, pd.DataFrame):
        return rows_of_programs(result, allowed)
    changes: dict[str, Any] = {"table": rows_of_programs(result.table, allowed)}
    if hasattr(result, "forest"):
        changes["forest"] = rows_of_programs(result.forest, allowed, column="term")
    if hasattr(result, "notes"):
        # A model's error text may quote any programme's code: not for a donor.
        changes["notes"] = tuple(n for n in result.notes
                                 if getattr(n, "code", None) != "models_failed")
    return replace(result, **changes)


def unknown_scope_names(con: duckdb.DuckDBPyConnection, *, projects: Iterable[str] = (),
                        funders: Iterable[str] = (), regions: Iterable[str] = (),
                        facilities: Iterable[str] = ()) -> dict[str, tuple[str, ...]]:
    """Names an account's scope gives that the study does not hold, per kind (only the
    kinds with some), for ``desist users add`` to warn about a typing slip.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> unknown_scope_names(con, funders=["EU"], regions=["North"])
    {'funders': ('EU',), 'regions': ('North',)}
    """
    known_sql = {
        "projects": "SELECT DISTINCT project FROM programs",
        "funders": "SELECT DISTINCT funder FROM programs",
        "regions": "SELECT DISTINCT release_region FROM releases",
        "facilities": "SELECT DISTINCT facility FROM releases",
    }
    asked = {"projects": projects, "funders": funders, "regions": regions,
             "facilities": facilities}
    unknown = {}
    for kind, names in asked.items():
        names = tuple(dict.fromkeys(names))
        if not names:
            continue
        known = {r[0] for r in con.execute(known_sql[kind]).fetchall()}
        missing = tuple(n for n in names if n not in known)
        if missing:
            unknown[kind] = missing
    return unknown
