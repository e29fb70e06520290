"""Turn the Rossi recidivism data into a dataset of the data contract (docs/data-contract.md).

Rossi, Berk and Lenihan (1980) followed 432 men for a year after their release from
Maryland state prisons; half of them, chosen at random, received financial aid
(``fin``). lifelines ships the data (``lifelines.datasets.load_rossi``): ``week`` of
first rearrest or 52, ``arrest``, ``fin``, ``age``, ``race``, ``wexp`` (full-time work
experience), ``mar`` (married), ``paro`` (released on parole), ``prio`` (prior
convictions).

The files written, one row per man:

- ``releases.csv``: pseudonymous ids (``R0001``, ``P0001``), a synthetic release date in
  2015 (the study's dates are not published; participants' dates span the whole year
  so that every comparison release lies in the programme's window), follow-up to the
  study's 52 weeks (``follow_up_end`` = release + 364 days), ``sex`` M,
  ``age_at_release`` = age, ``prior_convictions`` = prio, and the extra covariates
  ``race``, ``wexp``, ``mar``, ``paro`` (0/1, stored as numeric covariates);
- ``programs.csv``: one programme, ``FIN-AID``. The aid was assigned at release, so the
  men are compared at release, which the contract writes as ``setting`` ``in_prison``
  (a post-release setting would be compared at a landmark day);
- ``participation.csv``: the men with ``fin`` = 1, the month before their release;
- ``events.csv``: a ``rearrest`` ``week`` × 7 days after the release of every man
  with ``arrest`` = 1.

Usage::

    python docs/examples/rossi/convert_rossi.py OUT_FOLDER
    desist import OUT_FOLDER --db rossi.duckdb
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

#: First synthetic release date; every release falls in this year.
FIRST_RELEASE = date(2015, 1, 1)
FOLLOW_UP_DAYS = 52 * 7
PROGRAMME = "FIN-AID"


def rossi() -> pd.DataFrame:
    """The Rossi data as lifelines ships it."""
    from lifelines.datasets import load_rossi

    return load_rossi()


def _release_dates(treated: np.ndarray) -> list[date]:
    """Spread each group over the year; the participants take the first and last days,
    so no comparison release falls outside the programme's window."""
    offsets = np.zeros(len(treated), dtype=int)
    for flag, (low, high) in ((True, (0, 363)), (False, (1, 362))):
        members = np.flatnonzero(treated == flag)
        offsets[members] = np.round(np.linspace(low, high, len(members))).astype(int)
    return [FIRST_RELEASE + timedelta(days=int(day)) for day in offsets]


def convert(data: pd.DataFrame, out: Path) -> None:
    """Write the dataset of ``data`` (the Rossi columns) into the folder ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    n = len(data)
    people = [f"P{i + 1:04d}" for i in range(n)]
    releases = [f"R{i + 1:04d}" for i in range(n)]
    released = _release_dates(data["fin"].to_numpy() == 1)
    pd.DataFrame({
        "release_id": releases,
        "person_id": people,
        "release_date": released,
        "facility": "Maryland state prisons",
        "follow_up_end": [day + timedelta(days=FOLLOW_UP_DAYS) for day in released],
        "sex": "M",
        "age_at_release": data["age"].to_numpy(),
        "prior_convictions": data["prio"].to_numpy(),
        "race": data["race"].to_numpy(),
        "wexp": data["wexp"].to_numpy(),
        "mar": data["mar"].to_numpy(),
        "paro": data["paro"].to_numpy(),
    }).to_csv(out / "releases.csv", index=False)
    pd.DataFrame([{
        "program_id": PROGRAMME, "name": "Financial aid after release (Rossi et al. 1980)",
        "category": "other", "setting": "in_prison",
    }]).to_csv(out / "programs.csv", index=False)
    aided = np.flatnonzero(data["fin"].to_numpy() == 1)
    pd.DataFrame({
        "person_id": [people[i] for i in aided],
        "program_id": PROGRAMME,
        "start_date": [released[i] - timedelta(days=30) for i in aided],
        "end_date": [released[i] - timedelta(days=1) for i in aided],
        "status": "completed",
        "release_id": [releases[i] for i in aided],
    }).to_csv(out / "participation.csv", index=False)
    arrested = np.flatnonzero(data["arrest"].to_numpy() == 1)
    pd.DataFrame({
        "person_id": [people[i] for i in arrested],
        "event_date": [released[i] + timedelta(days=7 * int(data["week"].iloc[i]))
                       for i in arrested],
        "event_type": "rearrest",
    }).to_csv(out / "events.csv", index=False)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python docs/examples/rossi/convert_rossi.py OUT_FOLDER")
    convert(rossi(), Path(sys.argv[1]))
