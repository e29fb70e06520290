"""Numbers shared by the estimators, the views, the charts, the CLI and the demo.

Each constant is defined here once and imported by every user, so a change is made in
one place. The metrics they serve are defined in ``docs/metrics.md`` (sections
"Kaplan–Meier recidivism" and "Fixed-horizon rate"), which names these constants. This
module imports nothing, so reading a default (for example a CLI option's) costs nothing.

The minimum cell size ``k`` (:data:`DEFAULT_MIN_CELL`, :data:`MIN_CELL_FLOOR`) is applied
by :mod:`analysis.disclosure`, which re-exports both. It is also the smallest group the
estimators accept (``min_group_size``), so there is one number, not two.

Examples
--------
>>> from analysis.constants import DAYS_PER_MONTH, DEFAULT_HORIZONS
>>> DEFAULT_HORIZONS
(365, 730, 1095)
>>> DAYS_PER_MONTH
30.4375
"""

from __future__ import annotations

DEFAULT_HORIZONS: tuple[int, ...] = (365, 730, 1095)
"""Default follow-up horizons in days: 1, 2 and 3 years after release.

Recidivism is conventionally reported "within 1, 2 and 3 years of release"; three years is
the longest horizon most national studies publish. Whole years of 365 days keep the
horizon an integer number of days, which the day counts and the fixed-horizon rule
(``follow_up_end - release_date >= h``) need. Used by ``desist km --horizons``,
:func:`analysis.fixed_horizon_rates`, the dashboard's tables and the later horizons of an
impact evaluation (all but the first). See ``docs/metrics.md``.
"""

DAYS_PER_YEAR = 365.25
"""Mean length of a calendar year in days (the Julian year: three years of 365 days and a
leap year of 366), used to turn day counts into ages and years where the calendar is not
followed day by day (the demo's ages, years of follow-up)."""

DAYS_PER_MONTH = DAYS_PER_YEAR / 12
"""Mean length of a month in days, 30.4375 (a mean year over 12): the "months" time axis
of the curves, the months in an impact sentence and the demo's sentence lengths. No
calendar month has this length; it is the one that makes 12 months a mean year."""

DEFAULT_MIN_CELL = 10
"""Default minimum cell size ``k`` of every output shown outside the analyst's own screen
(dashboard, reports, CLI): counts of 1 to ``k - 1`` people are hidden. Ten is the usual
threshold of national statistical offices for administrative justice data."""

MIN_CELL_FLOOR = 5
"""Smallest ``k`` an output meant for publication accepts (dashboard links, reports, CLI
without ``--unsafe-analyst-output``)."""
