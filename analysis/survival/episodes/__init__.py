"""Follow-up episodes: one row per release, built inside DuckDB with one SQL query.

Unit of analysis is a release; time zero is ``release_date``; time is counted in whole
days. The outcome is the **first** event whose ``event_type`` is in the chosen set,
strictly after the release date and on or before the end of follow-up.

End of follow-up
----------------
Follow-up of a release ends at the earliest of

1. ``follow_up_end`` (the last date reoffending could be observed);
2. the day **before** the person's next release (a later ``release_date`` of the same
   person): the person was in custody on that day, so nothing after it belongs to this
   release, and an event on the next release day itself belongs to the next release's
   custody period, not to this one;
3. the first ``reincarceration`` event after the release, when reincarceration is not
   part of the outcome: the person is back in custody and no longer at risk. An outcome
   event on that same day still counts (arrest and committal are often the same day).

Worked example (outcome = rearrest): a person released on 2020-01-10 with
``follow_up_end`` 2023-12-31 is released again on 2021-06-01. The first release is
followed until 2021-05-31 (day 507); a rearrest on 2021-06-01 is not counted for it.
If a reincarceration is recorded on 2020-09-01 and no rearrest before, the first release
is censored at day 235.

Each row gets a ``cause``: ``1`` the outcome happened (``event = 1``); ``2`` a
*competing* end — follow-up ended at ``follow_up_end`` with a reason in
:data:`analysis.contract.COMPETING_END_REASONS` (death, deportation, emigration), the
reason kept in ``competing_reason``; ``0`` censored. ``end_reason`` says which rule ended
follow-up: ``outcome``, ``competing``, ``follow_up_end``, ``next_release`` or
``reincarceration``. When rules tie, the order is outcome, follow_up_end (competing or
not), next_release, reincarceration. Episodes never have negative time: a release
followed by another the next day has ``time = 0`` (censored at day 0).

How they are built
------------------
The heavy work stays in DuckDB, and there is one way to build an episode. The derived
facts (next and previous release, first event of each type as a date and as a day
number, custody-period programmes) are read from table ``release_follow_up``, which
every import and ``desist migrate DB`` rebuild (:mod:`analysis.survival.follow_up`). A
database whose table is missing, of an older layout or stale is refused with a message
naming ``desist migrate DB``; rows written by hand (tests, notebooks) are followed by
:func:`analysis.survival.follow_up.prepare_for_analysis`.

The package is cut at its seams:

* :mod:`~analysis.survival.episodes.values` — :class:`Outcome` and :class:`Selection`,
  what an analysis asks for;
* :mod:`~analysis.survival.episodes.sql` — the episode query (:func:`episodes_query`,
  :func:`build_episodes`): the rules above reduced to whole-day integers;
* :mod:`~analysis.survival.episodes.cache` — :func:`day_counts`, the risk-set counts per
  distinct day and group the estimators need, and :func:`materialize_episodes`, the
  episodes of one outcome kept for many breakdowns.

The Cox engine (:mod:`analysis.survival.exposures`) expects ``release_id, person_id,
release_date, time, event`` from :func:`build_episodes`.
"""

from analysis.survival.episodes.cache import (
    GROUP_KEY,
    CachedEpisodes,
    day_counts,
    day_counts_sql,
    materialize_episodes,
    resolve_source,
)
from analysis.survival.episodes.sql import (
    DERIVED_COLUMNS,
    EPISODE_COLUMNS,
    age_band_sql,
    build_episodes,
    episodes_query,
    episodes_sql,
    fetch_sorted,
    literal_list,
    quote_ident,
    release_columns,
)
from analysis.survival.episodes.values import AGE_BANDS, UNKNOWN, Outcome, Selection

__all__ = [
    "AGE_BANDS",
    "DERIVED_COLUMNS",
    "EPISODE_COLUMNS",
    "GROUP_KEY",
    "UNKNOWN",
    "CachedEpisodes",
    "Outcome",
    "Selection",
    "age_band_sql",
    "build_episodes",
    "day_counts",
    "day_counts_sql",
    "episodes_query",
    "episodes_sql",
    "fetch_sorted",
    "literal_list",
    "materialize_episodes",
    "quote_ident",
    "release_columns",
    "resolve_source",
]
