"""Who is compared: participants of a programme and the releases they can fairly be compared with.

In-prison and community programmes are compared **at release**: participants are
releases whose custody period included the programme (the baseline indicator of
:func:`analysis.survival.exposures.add_exposures`).

Post-release programmes are compared at a **landmark** day ``L``: among releases
still in the community and free of reoffending at day ``L``, those who started the
programme by day ``L`` against those who had not; time is counted from ``L``. A
plain comparison from the release day would credit the programme with the days
people had to survive to start it (immortal time).

Comparison candidates come only from releases where the programme was available:
released from a facility where some participant was released, within the period
from that facility's first to last participant release. Every step's count is kept
for the attrition table.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analysis.arrow_memory import give_back_arrow_memory
from analysis.errors import AnalysisError
from analysis.impact.rules import Reason
from analysis.impact.wording import COVARIATE_CONSTANT, COVARIATE_EMPTY, POST_RELEASE_LANDMARK
from analysis.survival.episodes import Outcome, Selection, build_episodes
from analysis.survival.exposures import (
    TIME_VARYING_SETTINGS,
    Participation,
    add_exposures,
    program_settings,
)
from analysis.survival.person_codes import person_codes
from analysis.survival.service_exposure import is_service_exposure, service_type_of

#: Baseline covariates of the propensity model and of the adjusted Cox model.
DEFAULT_COVARIATES: tuple[str, ...] = (
    "age_at_release",
    "sex",
    "prior_convictions",
    "offense_category",
    "sentence_months",
    "facility",
    "release_year",
)
CATEGORICAL_COVARIATES: tuple[str, ...] = ("sex", "offense_category", "facility", "release_year")
#: Smallest share of known (non-empty) values, among the releases compared, for an extra
#: covariate of the dataset (a column of the ``covariates`` table) to join the default
#: adjustment set. Below it the covariate is mostly a missing-value indicator: adjusting
#: for it says more about how the records were kept than about the people.
MIN_KNOWN_SHARE = 0.8
#: Why a requested covariate is not in the adjustment (:class:`LeftOut`).
LEFT_OUT_REASONS = ("empty", "few_known", "constant", "redundant")
DEFAULT_LANDMARK_DAYS = 90
#: The episode columns a cohort carries besides its covariates.
COHORT_EPISODE_COLUMNS = ("release_id", "person_id", "release_date", "time", "event")
#: Columns of an attrition table (words by :func:`analysis.impact.wording.attrition_table`).
ATTRITION_COLUMNS = ("step", "participants", "comparison", "removed")


@dataclass(frozen=True)
class Programmes:
    """The programme(s) evaluated together and how they are described."""

    label: str
    ids: tuple[str, ...]
    setting: str  # in_prison | community | post_release
    cost: pd.DataFrame  # program_id, name, cost_per_participant, currency


@dataclass(frozen=True)
class LeftOut:
    """A requested covariate the adjustment does not use, and why.

    ``reason`` is one of :data:`LEFT_OUT_REASONS`: ``empty`` (no known value among the
    releases compared), ``few_known`` (an extra covariate of the default set known for
    less than :data:`MIN_KNOWN_SHARE` of them), ``constant`` (a single value), or
    ``redundant`` (every indicator it makes is a linear combination of the other
    covariates, e.g. a women's prison beside sex). ``known_share`` is the share of the
    releases compared whose value is known.
    """

    covariate: str
    reason: str
    known_share: float

    def as_dict(self) -> dict:
        return {"covariate": self.covariate, "reason": self.reason,
                "known_share": self.known_share}


@dataclass(frozen=True)
class Cohort:
    """Analysis frame: one row per compared release, with ``treated``, ``time``, ``event``.

    ``frame`` holds ``release_id``, ``person`` (people as integer codes numbered in order
    of appearance, :func:`~analysis.survival.person_codes.person_codes`),
    ``release_date``, ``time``, ``event``, the usable covariates and ``treated``.
    """

    frame: pd.DataFrame
    programmes: Programmes
    covariates: tuple[str, ...]
    landmark_days: int | None
    #: step (a code of :data:`analysis.impact.wording.ATTRITION_STEPS`), participants,
    #: comparison, removed (the count the step's note quotes, or None)
    attrition: pd.DataFrame
    notes: tuple[Reason, ...]
    #: Covariates requested but not usable here (empty, constant, few known values).
    left_out: tuple[LeftOut, ...] = ()
    #: Share of known values of each requested covariate among the releases compared.
    known_shares: dict[str, float] | None = None
    #: The usable covariates that enter as indicators (text, or of kind categorical).
    categorical: tuple[str, ...] = CATEGORICAL_COVARIATES


def resolve_programmes(
    con: duckdb.DuckDBPyConnection, program: str | None = None, project: str | None = None
) -> Programmes:
    """Programme ids for ``program`` or for every programme of ``project`` (or funder).

    ``program`` may also be a service exposure, ``service:<service_type>`` or
    ``service:any`` (:mod:`analysis.survival.service_exposure`): reaching a post-release
    service, compared at the landmark day as a post-release programme, with no cost.
    """
    if (program is None) == (project is None):
        raise AnalysisError("name exactly one of a programme (--program) or a project (--project)")
    catalogue = con.execute(
        "SELECT program_id, name, setting, project, funder, cost_per_participant, currency "
        "FROM programs ORDER BY program_id"
    ).df()
    if (program is not None and is_service_exposure(program)
            and program not in set(catalogue["program_id"])):
        program_settings(con, [program])  # refuses an unknown one, listing the known ones
        service_type = service_type_of(program)
        return Programmes(
            label="service: " + ("any" if service_type is None
                                 else service_type.replace("_", " ")),
            ids=(program,),
            setting="post_release",
            cost=catalogue.iloc[0:0][["program_id", "name", "cost_per_participant",
                                      "currency"]].reset_index(drop=True),
        )
    if program is not None:
        chosen = catalogue[catalogue["program_id"] == program]
        if chosen.empty:
            known = ", ".join(catalogue["program_id"]) or "none imported"
            raise AnalysisError(f"unknown programme '{program}'; programmes: {known}")
        label = f"{program} ({chosen['name'].iloc[0]})"
    else:
        chosen = catalogue[(catalogue["project"] == project) | (catalogue["funder"] == project)]
        if chosen.empty:
            projects = sorted(
                set(catalogue["project"].dropna()) | set(catalogue["funder"].dropna())
            )
            raise AnalysisError(
                f"no programme belongs to project or funder '{project}'; known: {', '.join(projects)}"
            )
        label = f"project {project}"
    settings = set(chosen["setting"])
    kind = {"post_release" if s in TIME_VARYING_SETTINGS else "at_release" for s in settings}
    if len(kind) > 1:
        raise AnalysisError(
            f"{label} mixes programmes taken in custody and after release; they need different "
            "comparisons (at release vs at a landmark day), so evaluate them separately"
        )
    setting = "post_release" if kind == {"post_release"} else sorted(settings)[0]
    return Programmes(
        label=label,
        ids=tuple(chosen["program_id"]),
        setting=setting,
        cost=chosen[["program_id", "name", "cost_per_participant", "currency"]].reset_index(
            drop=True
        ),
    )


def _usable_covariates(
    episodes: pd.DataFrame, wanted: tuple[str, ...], optional: frozenset[str] = frozenset()
) -> tuple[tuple[str, ...], list[Reason], list[LeftOut], dict[str, float]]:
    """The covariates of ``wanted`` that can enter the adjustment, with why the others
    cannot; ``optional`` ones (extras of the default set) also need
    :data:`MIN_KNOWN_SHARE` of known values."""
    notes: list[Reason] = []
    left_out: list[LeftOut] = []
    shares: dict[str, float] = {}
    usable = []
    for name in wanted:
        column = episodes[name]
        share = float(column.notna().mean()) if len(column) else 0.0
        shares[name] = share
        if column.isna().all():
            notes.append(Reason(COVARIATE_EMPTY, {"name": name}))
            left_out.append(LeftOut(name, "empty", share))
        elif name in optional and share < MIN_KNOWN_SHARE:
            # said by the adjustment block (Adjustment.describe), not as a note
            left_out.append(LeftOut(name, "few_known", share))
        elif column.nunique(dropna=True) <= 1 and not column.isna().any():
            notes.append(Reason(COVARIATE_CONSTANT, {"name": name}))
            left_out.append(LeftOut(name, "constant", share))
        else:
            usable.append(name)
    return tuple(usable), notes, left_out, shares


def _as_levels(column: pd.Series) -> pd.Series:
    """A categorical covariate as a pandas Categorical of text labels, missing values as
    the level ``"unknown"``.

    The propensity design reads it as it read text (:mod:`analysis.impact.propensity`):
    the same levels, found in the same order, at a fraction of the memory.

    Examples
    --------
    >>> _as_levels(pd.Series([2021, 2019, 2021])).tolist()
    ['2021', '2019', '2021']
    >>> _as_levels(pd.Series(["North", None], dtype="str")).tolist()
    ['North', 'unknown']
    >>> _as_levels(pd.Series(["M", "F"], dtype="category")).cat.categories.tolist()
    ['F', 'M']
    """
    if not isinstance(column.dtype, pd.CategoricalDtype):
        codes, values = pd.factorize(column)  # each distinct value written once
        labels = [str(value) for value in values]
        column = pd.Series(pd.Categorical.from_codes(codes, categories=labels)
                           if len(set(labels)) == len(labels) else
                           pd.Categorical([labels[c] if c >= 0 else None for c in codes]),
                           index=column.index, name=column.name)
    if column.hasnans:
        if "unknown" not in column.cat.categories:
            column = column.cat.add_categories("unknown")
        column = column.fillna("unknown")
    return column


def build_cohort(
    con: duckdb.DuckDBPyConnection,
    programmes: Programmes,
    *,
    outcome: Outcome | None = None,
    selection: Selection | None = None,
    covariates: tuple[str, ...] = DEFAULT_COVARIATES,
    landmark_days: int = DEFAULT_LANDMARK_DAYS,
    variant: Participation = "any",
    optional: tuple[str, ...] = (),
    extras: tuple[str, ...] = (),
    categorical: tuple[str, ...] = CATEGORICAL_COVARIATES,
) -> Cohort:
    """Participants and available comparison releases, with attrition counts.

    ``covariates`` are the adjustment set asked for; those also in ``optional`` (the
    extras the default set adds) are kept only when known for at least
    :data:`MIN_KNOWN_SHARE` of the releases compared. A numeric covariate must be known
    for a release to be eligible, except the dataset's ``extras`` (the ``covariates``
    table's columns): an unknown value of theirs enters the models as a missing-value
    indicator (numeric) or the level ``unknown`` (categorical), so that adding an
    extra covariate never shrinks the sample compared. ``categorical`` names the
    covariates that enter as indicators.
    """
    wanted = tuple(dict.fromkeys((*covariates, "facility", "release_date", "release_year")))
    # Times and events only: the end reasons' text would cost most of the fetch.
    # Categorical covariates as codes (pandas Categorical), not text: a national cohort's
    # text covariates held over half a gigabyte for as long as the evaluation ran.
    episodes = build_episodes(
        con, outcome, selection, columns=[c for c in wanted if c != "release_date"],
        base_columns=COHORT_EPISODE_COLUMNS, categories=tuple(categorical),
    )
    if episodes.empty:
        raise AnalysisError("no releases in the selection")
    post_release = programmes.setting == "post_release"
    exposure = add_exposures(con, episodes, list(programmes.ids), exposure="ever",
                             variant=variant)
    notes: list[Reason] = []
    if post_release:
        frame = _landmark(episodes, exposure.frame, programmes.ids, landmark_days)
        notes.append(Reason(POST_RELEASE_LANDMARK, {"day": int(landmark_days)}))
    else:
        took_part = exposure.frame[list(programmes.ids)].max(axis=1).astype(bool)
        frame = exposure.frame.assign(treated=took_part.to_numpy())
    treated = frame["treated"].to_numpy(dtype=bool)
    participants_total = int(treated.sum())
    if participants_total == 0:
        raise AnalysisError(f"{programmes.label} has no participants in the selection")
    steps: list[tuple[str, int, int, int | None]] = [
        ("start", participants_total, int((~treated).sum()), None)
    ]
    # Each step narrows a mask over the releases; rows are taken once, at the end.
    kept = np.ones(len(frame), dtype=bool)
    if variant == "completed" and not post_release:
        # Completers are compared with people who did not take part: those who started
        # the programme without completing it are neither (they would flatter or harm
        # the programme depending on why they left), so they leave the comparison pool.
        anyone = add_exposures(con, episodes, list(programmes.ids), exposure="ever").frame
        took_part = anyone[list(programmes.ids)].max(axis=1).astype(bool).to_numpy()
        leavers = took_part & ~treated
        kept &= ~leavers
        steps.append(
            ("completers", participants_total, int((kept & ~treated).sum()),
             int(leavers.sum()))
        )

    places = frame[["facility", "release_date"]]
    windows = places[treated].groupby("facility")["release_date"].agg(["min", "max"])
    window = places[["facility"]].join(windows, on="facility")
    available = treated | (
        window["min"].notna()
        & (places["release_date"] >= window["min"])
        & (places["release_date"] <= window["max"])
    ).to_numpy()
    excluded = int((kept & ~available).sum())
    kept &= available
    steps.append(
        ("available", participants_total, int((kept & ~treated).sum()), excluded)
    )
    rows = np.flatnonzero(kept)
    present = [c for c in covariates if c in frame]
    usable, covariate_notes, left_out, shares = _usable_covariates(
        frame[present].take(rows), tuple(present), frozenset(optional))
    notes.extend(covariate_notes)
    numeric = [c for c in usable if c not in categorical and c not in extras]
    complete = (
        frame[numeric].take(rows).notna().all(axis=1).to_numpy()
        if numeric
        else np.ones(len(rows), dtype=bool)
    )
    rows = rows[complete]
    steps.append(
        ("eligible", int(treated[rows].sum()), int((~treated[rows]).sum()),
         int((~complete).sum()))
    )
    # only what the evaluation reads: the comparison's columns, not the programmes'
    # exposure columns or covariates left out (on a national cohort each is 80-240 MB)
    kept_columns = [c for c in (*COHORT_EPISODE_COLUMNS, *usable, "treated") if c in frame]
    frame = frame[kept_columns].take(rows).reset_index(drop=True)
    # people as integer codes (the models cluster on them), not 64-character pseudonyms
    frame.insert(frame.columns.get_loc("person_id"), "person",
                 person_codes(frame.pop("person_id")))
    for name in usable:
        if name in categorical:
            frame[name] = _as_levels(frame[name])
    attrition = attrition_frame(steps)
    give_back_arrow_memory()  # what taking the text ids' rows left in Arrow's pool
    return Cohort(
        frame, programmes, usable, landmark_days if post_release else None, attrition,
        tuple(notes), tuple(left_out), shares,
        tuple(c for c in usable if c in categorical),
    )


def attrition_frame(steps: list[tuple[str, int, int, int | None]]) -> pd.DataFrame:
    """Attrition rows ``(step, participants, comparison, removed)`` as a table.

    ``removed`` stays whole numbers and None (a float column would write 7 as 7.0).

    Examples
    --------
    >>> attrition_frame([("start", 700, 9000, None), ("eligible", 680, 8800, 20)])["removed"].tolist()
    [None, 20]
    """
    frame = pd.DataFrame([step[:3] for step in steps], columns=list(ATTRITION_COLUMNS[:3]))
    frame["removed"] = pd.Series([step[3] for step in steps], dtype=object)
    return frame


def _landmark(episodes: pd.DataFrame, split: pd.DataFrame, ids, landmark: int) -> pd.DataFrame:
    """Releases at risk at day ``landmark``; treated = started by then; time from the landmark."""
    exposed = split[split[list(ids)].max(axis=1) > 0]
    first_start = exposed.groupby("release_id")["start"].min()
    at_risk = episodes[episodes["time"] > landmark].copy()
    starts = at_risk["release_id"].map(first_start)
    at_risk["treated"] = (starts.notna() & (starts < landmark)).to_numpy()
    at_risk["time"] = at_risk["time"] - landmark
    return at_risk.reset_index(drop=True)


def events_in_window(
    con: duckdb.DuckDBPyConnection,
    release_ids: np.ndarray,
    event_types: tuple[str, ...],
    start_day: int,
    days: int,
) -> pd.DataFrame:
    """Outcome events per release in days (start_day, start_day + days] after release.

    Only releases whose follow-up covers the whole window are returned (the
    frequency of reoffending needs complete follow-up), with ``events`` counted;
    ``row`` is the release's position in ``release_ids`` (numbers travel back from
    the database faster than text ids).
    """
    ids = pd.DataFrame({"release_id": release_ids, "row": np.arange(len(release_ids))})
    con.register("impact_release_ids", ids)
    try:
        return con.execute(
            """
            SELECT i.row,
                   count(e.person_id) AS events
            FROM releases r
            JOIN impact_release_ids i USING (release_id)
            LEFT JOIN events e
              ON e.person_id = r.person_id
             AND list_contains($types, e.event_type)
             AND e.event_date > r.release_date + CAST($start AS INTEGER)
             AND e.event_date <= r.release_date + CAST($end AS INTEGER)
            WHERE r.follow_up_end >= r.release_date + CAST($end AS INTEGER)
            GROUP BY i.row
            """,
            {"types": list(event_types), "start": start_day, "end": start_day + days},
        ).df()
    finally:
        con.unregister("impact_release_ids")
