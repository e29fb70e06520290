"""An attacker's audit of what a view shows: is any count from 1 to k - 1 visible or solvable?

Written independently of :mod:`analysis.disclosure`: it reads only what a page shows or
downloads (text cells, numbers, rates) and the relations any reader knows (a total is
the sum of its parts, a step's count is the next one plus those removed, a rate times
its group size is a count). Hidden cells (``"<k"``, ``"hidden"``, missing) are unknowns;
the audit solves the relations for them by least squares and reports every unknown that
the shown numbers pin down exactly to a value from 1 to ``k - 1``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)%")


def as_count(cell):
    """A shown count as an int, or None when the cell is hidden (a label or missing)."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return None
    if isinstance(cell, str):
        text = cell.replace(",", "").strip()
        return int(text) if text.isdigit() else None
    return int(cell)


def as_share(cell):
    """A shown rate as a share (0-1), or None: ``0.234``, ``"23.4% (21.0–25.9)"``."""
    if cell is None:
        return None
    if isinstance(cell, str):
        match = _PERCENT.match(cell)
        return float(match.group(1)) / 100 if match else None
    value = float(cell)
    return None if math.isnan(value) else value


@dataclass
class Audit:
    """Published numbers of one view, the relations between them, and the leaks found."""

    k: int
    where: str = ""
    shown: dict = field(default_factory=dict)
    unknown: set = field(default_factory=set)
    relations: list = field(default_factory=list)
    rates: list = field(default_factory=list)
    leaks: list = field(default_factory=list)

    def count(self, key, cell) -> None:
        """A count the view shows (or hides, when ``cell`` is a label or missing)."""
        value = as_count(cell)
        if value is None:
            self.unknown.add(key)
        else:
            self.shown[key] = value
            if 0 < value < self.k:
                self.leaks.append(f"{self.where}: {key} shows {value}")

    def known(self, key, value) -> None:
        """A count every reader knows from another page (a total)."""
        self.shown[key] = int(value)

    def hidden(self, key) -> None:
        """A count that is not shown anywhere (e.g. people removed between two steps)."""
        self.unknown.add(key)

    def relation(self, total, parts) -> None:
        """``total = sum(parts)``."""
        for key in (total, *parts):
            if key not in self.shown:
                self.unknown.add(key)
        self.relations.append((total, tuple(parts)))

    def rate(self, share_cell, size_key, *, exact: bool = False) -> None:
        """A rate of a group whose size is ``size_key``: share × size is a count of people.

        ``exact`` when the rate is a plain proportion (numerator / size), whose numerator
        is then fully determined; otherwise (Kaplan–Meier) share × size only bounds it.
        """
        share = as_share(share_cell)
        if share is not None:
            self.rates.append((share, size_key, exact, isinstance(share_cell, str)))

    def check(self) -> list[str]:
        """Every leak: shown small counts, solvable small unknowns, rates that name them."""
        leaks = list(self.leaks)
        unknown = sorted(self.unknown - set(self.shown), key=str)
        solved = self._solve(unknown)
        for key, value in solved.items():
            if 0.5 <= value <= self.k - 0.5:
                leaks.append(f"{self.where}: {key} is hidden but equals {value:.2f}")
        for share, size_key, exact, rounded in self.rates:
            size = self.shown.get(size_key, solved.get(size_key))
            if size is None:
                continue
            slack = 0.0005 * size if rounded else 1e-6  # a shown 23.4% is 23.35-23.45%
            for count in (share * size, (1 - share) * size if exact else None):
                if count is None:
                    continue
                if count - slack > 0.5 - 1e-9 and count + slack < self.k - 0.5 and (
                        exact or count > 1e-9):
                    leaks.append(f"{self.where}: a rate {share:.4f} of {size_key}={size:g} "
                                 f"names {count:.2f} people")
        return leaks

    def _solve(self, unknown: list) -> dict:
        if not unknown or not self.relations:
            return {}
        column = {key: i for i, key in enumerate(unknown)}
        rows, rhs = [], []
        for total, parts in self.relations:
            row, b = np.zeros(len(unknown)), 0.0
            for key, sign in ((total, 1.0), *((p, -1.0) for p in parts)):
                if key in column:
                    row[column[key]] += sign
                else:
                    b -= sign * self.shown[key]
            if row.any():
                rows.append(row)
                rhs.append(b)
        if not rows:
            return {}
        matrix, rhs = np.array(rows), np.array(rhs)
        solution, *_ = np.linalg.lstsq(matrix, rhs, rcond=None)
        _, singular, vt = np.linalg.svd(matrix)
        rank = int((singular > 1e-9 * max(1.0, singular.max())).sum())
        null = vt[rank:]
        return {key: float(solution[i]) for key, i in column.items()
                if null.shape[0] == 0 or np.abs(null[:, i]).max() < 1e-9}
