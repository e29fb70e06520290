"""The episodes of ``monthly_hazard.R``: heavy ties, censoring and competing ends.

``monthly_hazard_episodes.csv`` (committed) holds one row per release: ``group``,
``time`` (whole days since release) and ``cause`` (1 reoffence, 2 competing end — death,
deportation, emigration — 0 censored). Synthetic, numpy seed 20261201. Times are drawn
from a coarse grid so that many releases share a day, with extra mass on the month ends
(30, 31, 61, 62, 91, 365, 366, 730, 731: the edges of the months), on day 0 (a release
followed by another the next day) and beyond two years. Group ``C`` is small, so
some months have no event, and nobody in group ``D`` is followed past month 13.

Regenerate (only when changing the case; goldens are then added, never edited)::

    .venv/bin/python -m tests.reference.planning.monthly_hazard_fixture
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PATH = Path(__file__).resolve().parent / "monthly_hazard_episodes.csv"
EDGES = (0, 30, 31, 61, 62, 91, 92, 183, 184, 365, 366, 730, 731)


def generate(seed: int = 20261201) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for group, size, event_share in (("A", 400, 0.45), ("B", 150, 0.3), ("C", 40, 0.25)):
        grid = rng.choice(np.arange(0, 900, 7), size=size)       # ties: one day in seven
        edges = rng.choice(EDGES, size=size)
        time = np.where(rng.random(size) < 0.25, edges, grid)
        time = np.where(rng.random(size) < 0.05, 1000 + rng.integers(0, 50, size), time)
        cause = np.where(rng.random(size) < event_share, 1,
                         np.where(rng.random(size) < 0.12, 2, 0))
        cause = np.where(time == 0, 0, cause)                     # nothing happens on day 0
        parts.append(pd.DataFrame({"group": group, "time": time, "cause": cause}))
    # a group nobody is followed beyond a year: its later months have no one at risk
    parts.append(pd.DataFrame({"group": "D", "time": [0, 5, 5, 30, 31, 31, 91, 200, 365, 365,
                                                        366, 366],
                               "cause": [0, 1, 1, 2, 1, 0, 1, 0, 1, 2, 0, 1]}))
    return pd.concat(parts, ignore_index=True)


if __name__ == "__main__":
    generate().to_csv(PATH, index=False)
