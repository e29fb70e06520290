"""Roles and scopes: the part of a study one user may see.

A :class:`Scope` travels inside every :class:`~analysis.views.ViewFilters` (it is part of
every cache key), and the views enforce it (:mod:`analysis.views.scope`):

- the pages (and so the views) a role may open: :meth:`Scope.allows_page`;
- the programmes a donor may see: those of the projects and funders named for the
  account (``programs.project`` / ``programs.funder``), never another's, not even by name;
- the regions and facilities a planner of a regional office may see;
- the minimum cell size ``k``: at least the role's floor, or fixed by the administrator.

:data:`LOCAL` is the single analyst on their own machine (no access control configured):
every page, every selection, ``k`` from the publication floor up — the dashboard as it
was before accounts existed.

Examples
--------
>>> donor = Scope(Role.DONOR, user="eu-desk", funders=("European Union",), min_cell_floor=10)
>>> donor.allows_page("impact"), donor.allows_page("data")
(True, False)
>>> donor.min_cell(5)
10
>>> Scope(Role.PLANNER, fixed_min_cell=20).min_cell(10)
20
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from analysis.constants import DEFAULT_MIN_CELL, MIN_CELL_FLOOR

#: The dashboard's pages, by their URL path.
PAGES: tuple[str, ...] = ("overview", "recidivism", "programs", "impact", "subgroups",
                          "data", "planning", "services")

#: The smallest ``k`` a donor's account may have (a donor's numbers leave the ministry).
DONOR_MIN_CELL = 10


class Role(StrEnum):
    """What a user does: it decides the pages, the selections and ``k`` they get.

    - ``admin``: users and imports (the Data page's import form), every page;
    - ``analyst``: every page and every selection, ``k`` from the administrator's floor up;
    - ``planner``: every aggregate page (not the Data page), ``k`` fixed by the
      administrator, optionally limited to regions or facilities;
    - ``donor``: the Programmes and Impact pages for the programmes of their projects or
      funders only, ``k`` at least :data:`DONOR_MIN_CELL`. Not the Services and
      coverage page: a donor's scope is programmes, and that page describes every
      region's releases and services, none of which belongs to a project or funder (a
      donor sees no page by region either: not Subgroups, not Planning).
    """

    ADMIN = "admin"
    ANALYST = "analyst"
    PLANNER = "planner"
    DONOR = "donor"


_ROLE_PAGES: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset(PAGES),
    Role.ANALYST: frozenset(PAGES),
    Role.PLANNER: frozenset(PAGES) - {"data"},
    Role.DONOR: frozenset({"programs", "impact"}),
}


@dataclass(frozen=True)
class Scope:
    """What one user may see. Frozen and hashable: it is part of every view's cache key.

    Parameters
    ----------
    role
        The user's :class:`Role`.
    user
        The account name (``None`` for the local analyst), for the audit trail and messages.
    projects, funders
        A donor's projects and funders (``programs.project`` / ``programs.funder``): the
        donor sees the programmes of any of them, and nothing else. Ignored for other roles.
    regions, facilities
        When not empty, only releases to these regions and from these facilities are
        seen (a regional office). Empty: no such limit.
    min_cell_floor
        The smallest ``k`` this user may choose.
    fixed_min_cell
        When set, ``k`` is this value whatever is asked (planners).
    """

    role: Role = Role.ADMIN
    user: str | None = None
    projects: tuple[str, ...] = ()
    funders: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    facilities: tuple[str, ...] = ()
    min_cell_floor: int = MIN_CELL_FLOOR
    fixed_min_cell: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))
        for name in ("projects", "funders", "regions", "facilities"):
            object.__setattr__(self, name, tuple(sorted(set(getattr(self, name)))))
        floor = max(int(self.min_cell_floor), MIN_CELL_FLOOR)
        if self.role is Role.DONOR:
            floor = max(floor, DONOR_MIN_CELL)
        object.__setattr__(self, "min_cell_floor", floor)
        if self.fixed_min_cell is not None:
            object.__setattr__(self, "fixed_min_cell", max(int(self.fixed_min_cell), floor))

    @property
    def pages(self) -> frozenset[str]:
        """The pages (URL paths of :data:`PAGES`) this user may open."""
        return _ROLE_PAGES[self.role]

    def allows_page(self, page: str) -> bool:
        """Whether this user may open ``page`` (a URL path of :data:`PAGES`)."""
        return page in self.pages

    @property
    def may_import(self) -> bool:
        """Whether this user may import data (administrators only)."""
        return self.role is Role.ADMIN

    @property
    def may_change_min_cell(self) -> bool:
        """Whether this user may choose ``k`` (within :attr:`min_cell_floor`)."""
        return self.fixed_min_cell is None

    @property
    def limits_programs(self) -> bool:
        """Whether only some programmes may be seen (a donor: those of their projects
        and funders; a donor with none sees no programme)."""
        return self.role is Role.DONOR

    @property
    def limits_places(self) -> bool:
        """Whether only some regions or facilities may be seen."""
        return bool(self.regions or self.facilities)

    @property
    def is_restricted(self) -> bool:
        """Whether anything of the study is out of this user's reach (names of what is
        out of reach must then never be shown, not even as "unknown")."""
        return self.limits_programs or self.limits_places

    def min_cell(self, asked: int = DEFAULT_MIN_CELL) -> int:
        """The ``k`` used when ``asked`` is asked for: fixed, or at least the floor."""
        if self.fixed_min_cell is not None:
            return self.fixed_min_cell
        return max(int(asked), self.min_cell_floor)


#: The single analyst on their own machine: no access control configured.
LOCAL = Scope()
