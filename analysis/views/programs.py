"""Programmes page services: catalogue, hazard ratios by programme, completers vs dropouts.

Layer rule: this module belongs to the *services* layer (``analysis/views/``). It is pure
Python — it never imports streamlit — and every function takes ``(con, filters,
**options)`` and returns a small frozen dataclass or a tidy DataFrame that is already
disclosure-controlled with ``filters.min_cell`` (counts below ``k`` shown as ``"<k"``,
estimates for groups below ``k`` not computed). The dashboard pages only display them.

Choice of models (measured on the 50,000-release demo, 2 cores): one Cox model per
programme would take about 0.2 s each, twice (crude and adjusted), so the page fits
**two** models over every programme with at least ``k`` participants in the selection:

* *programmes only*: all programme indicators together, no background covariates —
  the "unadjusted" hazard ratio, each programme compared with people who did not take
  it, holding the other programmes fixed;
* *adjusted*: the same indicators plus age, sex, prior convictions, offense category,
  sentence length, facility and release year.

``in_prison`` programmes are baseline indicators of the custody period that ended with
the release; ``post_release`` and ``community`` ones are time-varying exposures (never
baseline: that would credit them with the time people had to survive to start them).
See :mod:`analysis.survival.exposures`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from analysis.disclosure import (
    DisclosurePolicy,
    model_counts,
    primary_suppression,
    rate_discloses,
    suppression_mask,
)
from analysis.errors import AnalysisError, ModelNotConvergedError
from analysis.impact.cohort import CATEGORICAL_COVARIATES, DEFAULT_COVARIATES
from analysis.impact.rules import MULTIPLE_COMPARISONS, Reason
from analysis.impact.wording import SECONDARY_LABEL
from analysis.survival.cox import CoxModel
from analysis.survival.episodes import episodes_query
from analysis.survival.exposures import BASELINE_SETTINGS, add_exposures
from analysis.survival.kaplan_meier import KaplanMeier
from analysis.survival.person_codes import person_codes
from analysis.views.estimates import as_numbers, view_study
from analysis.views.filters import ViewFilters
from analysis.views.scope import only_program_rows, serves
from analysis.views.words import Note

#: Participation statuses shown as their own column; anything else counts as ``other``.
STATUSES: tuple[str, ...] = ("completed", "dropped_out", "ongoing", "other")
#: Covariates of the adjusted model (the impact evaluation's baseline covariates).
ADJUSTMENT: tuple[str, ...] = DEFAULT_COVARIATES
#: The note on how the models are fitted (a :class:`~analysis.views.words.Note`).
MODEL_NOTE = Note("two_models")
#: Columns of each model's estimates: hazard ratio, its interval and p-value, and both
#: standard errors of the log hazard ratio with the kind behind the interval (se_type).
EFFECT_COLUMNS = ["hr", "hr_lower", "hr_upper", "p", "se_type", "se_model", "se_robust"]
#: The note on the two standard errors (model-based and robust, clustered by person).
SE_NOTE = Note("standard_errors")


def suppress_with_total(counts: pd.DataFrame, total: str, parts: list[str],
                        policy: DisclosurePolicy) -> pd.DataFrame:
    """Counts as text, for rows where ``total = sum(parts)`` is published.

    Primary suppression hides parts and totals from 1 to ``k - 1`` (shown ``"<k"``).
    Complementary suppression works row by row (only row totals are published): when a
    row has exactly one hidden part, the smallest visible non-zero part is hidden too and
    shown as :data:`SECONDARY_LABEL` — it is not below ``k``, so ``"<k"`` would be untrue.

    Examples
    --------
    >>> df = pd.DataFrame({"n": [53, 8], "a": [40, 5], "b": [13, 3]})
    >>> suppress_with_total(df, "n", ["a", "b"], DisclosurePolicy(k=10)).values.tolist()
    [['53', '40', '13'], ['<10', '<10', '<10']]
    >>> df = pd.DataFrame({"n": [53], "a": [40], "b": [10], "c": [3]})
    >>> suppress_with_total(df, "n", ["a", "b", "c"], DisclosurePolicy(k=10)).values.tolist()
    [['53', '40', 'hidden', '<10']]
    """
    out = counts.copy()
    values = counts[parts].fillna(0).astype("int64")
    primary = primary_suppression(values, policy)
    # suppression_mask on a one-row table is exactly row-wise complementary suppression
    hidden = pd.concat([suppression_mask(values.iloc[[i]], policy, totals="rows")
                        for i in range(len(values))]) if len(values) else primary
    for column in parts:
        text = values[column].astype(str).mask(hidden[column], SECONDARY_LABEL)
        out[column] = text.mask(primary[column], policy.label)
    totals = counts[total].fillna(0).astype("int64")
    out[total] = totals.astype(str).mask((totals > 0) & (totals < policy.k), policy.label)
    return out


def _selected_releases_sql(con: duckdb.DuckDBPyConnection, filters: ViewFilters
                           ) -> tuple[str, dict]:
    # The episodes query without outcome events is the one place that knows how a
    # Selection filters releases (derived age band, release year).
    return episodes_query(con, (), filters.selection, select="release_id, person_id")


@serves("programs", restrict=only_program_rows)
def program_catalog(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> pd.DataFrame:
    """Every programme with its participations in the selection, by status.

    A participation belongs to the selection when the release it names is selected (or,
    for rows naming no release, when the person has a selected release). Counts are
    participation records; ``participants = completed + dropped_out + ongoing + other``,
    with complementary suppression across each row.

    Returns
    -------
    DataFrame
        ``program_id, name, participants, completed, dropped_out, ongoing, other,
        category, setting, project, funder``: the counts first, beside the name, as
        numbers (``"<k"`` or ``"hidden"`` in a suppressed cell only).
    """
    sql, params = _selected_releases_sql(con, filters)
    counts = con.execute(
        f"""
        WITH chosen AS ({sql}),
        linked AS (
            SELECT pa.program_id,
                   CASE WHEN pa.status IN ('completed', 'dropped_out', 'ongoing')
                        THEN pa.status ELSE 'other' END AS status
            FROM participation pa
            WHERE pa.release_id IN (SELECT release_id FROM chosen)
               OR (pa.release_id IS NULL
                   AND pa.person_id IN (SELECT person_id FROM chosen))
        )
        SELECT p.program_id, p.name, p.category, p.setting, p.project, p.funder,
               count(l.status) AS participants,
               {", ".join(f"count(*) FILTER (WHERE l.status = '{s}') AS {s}" for s in STATUSES)}
        FROM programs p LEFT JOIN linked l USING (program_id)
        GROUP BY ALL ORDER BY p.program_id
        """,
        params,
    ).df()
    shown = suppress_with_total(counts, "participants", list(STATUSES), filters.policy)
    for column in ("participants", *STATUSES):
        shown[column] = as_numbers(shown[column])
    return shown[["program_id", "name", "participants", *STATUSES, "category", "setting",
                  "project", "funder"]]


@dataclass(frozen=True)
class ProgramEffects:
    """Hazard ratios of every programme, ready to show.

    ``table`` has one row per programme: ``program_id, name, setting, exposure,
    participants`` (text, suppressed; ``exposure`` is ``at_release`` or
    ``time_varying``), ``status`` (``estimated``, ``suppressed``, ``not_estimable`` when participants all or
    none had the outcome, ``not_converged`` when the models did not converge), then :data:`EFFECT_COLUMNS` (``hr, hr_lower, hr_upper, p,
    se_type, se_model, se_robust``) for the unadjusted model and the same prefixed
    ``adj_`` for the adjusted one (NaN when not estimated; see :data:`SE_NOTE`).
    ``forest`` is the tidy frame for :func:`analysis.charts.forest_plot` (``term``,
    :data:`EFFECT_COLUMNS`, ``model``).
    """

    table: pd.DataFrame
    forest: pd.DataFrame
    n_releases: int | None  # None when hidden (fewer than k)
    n_events: int | None  # None when it, or the releases without one, number 1 to k - 1
    small_sample: bool
    notes: tuple[Note | Reason, ...] = field(default=())


def _as_labels(column: pd.Series) -> pd.Categorical:
    """Text labels of a categorical covariate as a pandas Categorical; missing = unknown."""
    codes, uniques = pd.factorize(column)
    labels = [str(u) for u in uniques]
    if "unknown" not in labels:
        labels.append("unknown")
    codes = np.where(codes < 0, labels.index("unknown"), codes)
    return pd.Categorical.from_codes(codes, categories=labels)


def _participant_counts(frame: pd.DataFrame, programs: list[str]) -> tuple[dict, dict]:
    """Releases exposed to each programme, and how many of them had the outcome."""
    # one grouped pass: time-varying programmes give several rows per release
    per_release = frame.groupby("_release", sort=False)[[*programs, "event"]].max() > 0
    exposed = {p: int(per_release[p].sum()) for p in programs}
    events = {p: int((per_release[p] & per_release["event"]).sum()) for p in programs}
    return exposed, events


def _usable_covariates(frame: pd.DataFrame) -> list[str]:
    """Adjustment covariates that vary within the selection (a filter can fix one)."""
    return [c for c in ADJUSTMENT if c in frame and frame[c].nunique(dropna=True) > 1]


#: The episode columns the programme views read: those
#: :func:`~analysis.survival.exposures.add_exposures` reads, and the outcome. The end
#: reasons and dates are not fetched: on a national database their text costs most of
#: the time and memory of the fetch.
_EPISODE_INPUTS = ("release_id", "person_id", "release_date", "time", "event")
#: Columns :func:`program_effects` needs besides the covariates: the episode inputs and
#: the row and person codes.
_MODEL_INPUTS = (*_EPISODE_INPUTS, "_release", "_person")


def _fit(frame, data, covariates, programs) -> pd.DataFrame:
    categorical = [c for c in covariates if c in CATEGORICAL_COVARIATES]
    # Newton: the same maximum as PHReg, and fast at every size (PHReg loops in Python)
    model = CoxModel(ties="efron", solver="newton", robust=True).fit(
        frame, data.duration_col, data.event_col, [*covariates, *programs],
        categorical=categorical, entry_col=data.entry_col, cluster_col="_person",
    )
    summary = model.summary.set_index("term")
    return summary.loc[programs, EFFECT_COLUMNS]


@serves("programs", restrict=only_program_rows)
def program_effects(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> ProgramEffects:
    """Unadjusted and adjusted hazard ratios of every programme (see the module notes).

    Programmes with fewer than ``k`` participating releases in the selection are listed
    as suppressed and left out of the models; programmes whose participants all (or
    none) had the outcome are *not estimable*.
    """
    policy = filters.policy
    catalogue = con.execute(
        "SELECT program_id, name, setting FROM programs ORDER BY program_id").df()
    episodes = view_study(con, filters).episodes(
        columns=ADJUSTMENT, base_columns=_EPISODE_INPUTS, categories=CATEGORICAL_COVARIATES)
    if episodes.empty:
        raise AnalysisError("no releases match the selection")
    programs = list(catalogue["program_id"])
    # small integer codes instead of text before the episodes are split (up to twice as
    # many rows): copying, grouping and encoding codes is several times faster
    episodes = episodes.assign(
        **{c: _as_labels(episodes[c]) for c in ADJUSTMENT if c in CATEGORICAL_COVARIATES},
        _release=np.arange(len(episodes)), _person=person_codes(episodes["person_id"]))
    # only what the exposures and the models read: every column is copied for each of the
    # split rows, and text columns (end reasons, dates) cost the most
    episodes = episodes[[c for c in episodes.columns if c in _MODEL_INPUTS or c in ADJUSTMENT]]
    # the models know releases and people by their codes: the text ids stay behind
    data = add_exposures(con, episodes, programs, drop_ids=True)
    n_releases, n_events = len(episodes), int(episodes["event"].sum())
    del episodes
    frame = data.frame
    exposed, events = _participant_counts(frame, programs)
    status = {}
    for program in programs:
        if exposed[program] < policy.k:
            status[program] = "suppressed"
        elif events[program] in (0, exposed[program]) or exposed[program] == n_releases:
            status[program] = "not_estimable"
        else:
            status[program] = "estimated"
    fitted = [p for p in programs if status[p] == "estimated"]
    notes: list[Note | Reason] = [MODEL_NOTE]
    crude = adjusted = pd.DataFrame(columns=EFFECT_COLUMNS)
    if fitted:
        try:
            crude = _fit(frame, data, [], fitted)
            adjusted = _fit(frame, data, _usable_covariates(frame), fitted)
        except ModelNotConvergedError:
            # the data allow the models; the estimation did not settle
            notes.append(Note("models_not_converged"))
            status.update(dict.fromkeys(fitted, "not_converged"))
            crude = adjusted = crude.iloc[0:0]
        except AnalysisError as exc:
            notes.append(Note("models_failed", {"error": str(exc)}))
            status.update(dict.fromkeys(fitted, "not_estimable"))
            crude = adjusted = crude.iloc[0:0]
    if len(crude):
        notes.append(SE_NOTE)
    if len(fitted) > 1:
        notes.append(MULTIPLE_COMPARISONS)
    if data.dropped_zero_time:
        dropped = (policy.label if policy.hides(data.dropped_zero_time)
                   else f"{data.dropped_zero_time}")
        notes.append(Note("dropped_zero_time", {"count": dropped}))
    table = catalogue.assign(
        exposure=np.where(catalogue["setting"].isin(BASELINE_SETTINGS), "at_release",
                          "time_varying"),
        participants=[exposed[p] for p in programs],
        status=[status[p] for p in programs],
    )
    table["participants"] = table["participants"].astype(str).mask(
        table["participants"].between(1, policy.k - 1), policy.label)
    table = table.join(crude, on="program_id").join(
        adjusted.add_prefix("adj_"), on="program_id")
    forest = pd.concat(
        [part.reset_index(names="term").assign(model=name)
         for name, part in (("unadjusted", crude), ("adjusted", adjusted)) if len(part)],
        ignore_index=True,
    ) if len(crude) else pd.DataFrame(columns=["term", *EFFECT_COLUMNS, "model"])
    counts = model_counts(n_releases, n_events, policy)
    return ProgramEffects(
        table=table.reset_index(drop=True),
        forest=forest,
        n_releases=counts["n"],
        n_events=counts["events"],
        small_sample=policy.is_small(n_releases),
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class CompletionOutcomes:
    """Recidivism at a horizon of completers and non-completers of in-prison programmes.

    ``table``: ``program_id, name, completed_n, completed_rate, completed_lower,
    completed_upper, not_completed_n, not_completed_rate, not_completed_lower,
    not_completed_upper, note`` (a code of :data:`analysis.views.words.NOTES`, its
    numbers in ``note_params``, or ``""``). Counts are text (``"<k"`` when suppressed); rates are
    NaN when a group has fewer than ``k`` releases (both groups are then hidden, so one
    cannot be recovered from the other and the programme's total), and a group's rate
    is NaN when 1 to ``k - 1`` of its releases, or all but 1 to ``k - 1``, reoffended by
    the horizon (:func:`analysis.disclosure.rate_discloses`).
    """

    table: pd.DataFrame
    horizon_days: int
    notes: tuple[Note, ...] = field(default=())
    note_params: dict[str, int] = field(default_factory=dict)


def _group_size_text(size: int, hide: bool, policy: DisclosurePolicy) -> str:
    if not hide or size == 0:
        return str(size)
    # the other group is below k; this one is hidden only to protect it
    return policy.label if size < policy.k else SECONDARY_LABEL


@serves("programs", restrict=only_program_rows)
def completion_outcomes(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                        horizon_days: int = 365) -> CompletionOutcomes:
    """Kaplan–Meier recidivism at ``horizon_days`` of completers vs non-completers.

    Only ``in_prison`` programmes: completion is known at release, so splitting at
    release is fair. Completers took part with status ``completed``; non-completers
    took part (dropped out or other) without completing. The comparison is descriptive:
    people who complete differ from those who drop out.
    """
    policy = filters.policy
    catalogue = con.execute(
        "SELECT program_id, name FROM programs WHERE list_contains(?, setting) "
        "ORDER BY program_id", [list(BASELINE_SETTINGS)]).df()
    programs = list(catalogue["program_id"])
    columns = ["program_id", "name"] + [
        f"{g}_{c}" for g in ("completed", "not_completed")
        for c in ("n", "rate", "lower", "upper")] + ["note"]
    if not programs:
        return CompletionOutcomes(pd.DataFrame(columns=columns), horizon_days,
                                  note_params={"k": policy.k, "n": policy.small_sample})
    episodes = view_study(con, filters).episodes(base_columns=_EPISODE_INPUTS)
    if episodes.empty:
        raise AnalysisError("no releases match the selection")
    anyone = add_exposures(con, episodes, programs, variant="any", drop_ids=True).frame
    completers = add_exposures(con, episodes, programs, variant="completed",
                               drop_ids=True).frame
    rows = []
    for program, name in zip(programs, catalogue["name"], strict=True):
        took = anyone[program].to_numpy() > 0
        done = completers[program].to_numpy() > 0
        groups = {"completed": done, "not_completed": took & ~done}
        row: dict[str, object] = {"program_id": program, "name": name, "note": ""}
        sizes = {g: int(mask.sum()) for g, mask in groups.items()}
        hide = min(sizes.values()) < policy.k
        for group, mask in groups.items():
            row[f"{group}_n"] = _group_size_text(sizes[group], hide, policy)
            row.update(dict.fromkeys(
                (f"{group}_rate", f"{group}_lower", f"{group}_upper"), np.nan))
            if hide:
                continue
            part = episodes[mask]
            reoffended = int((part["event"].astype(bool) & (part["time"] <= horizon_days)).sum())
            if rate_discloses(reoffended, sizes[group], policy):
                continue  # the rate beside the group size would name 1 to k - 1 people
            at = KaplanMeier().fit(part["time"], part["event"]).at([horizon_days]).iloc[0]
            row[f"{group}_rate"] = at["recidivism"]
            row[f"{group}_lower"] = at["recidivism_lower"]
            row[f"{group}_upper"] = at["recidivism_upper"]
        if max(sizes.values()) == 0:
            row["note"] = "no_participants"
        elif hide:
            row["note"] = "group_hidden"
        elif min(sizes.values()) < policy.small_sample:
            row["note"] = "group_small"
        rows.append(row)
    notes = (Note("descriptive_completion"),)
    return CompletionOutcomes(pd.DataFrame(rows, columns=columns), horizon_days, notes,
                              {"k": policy.k, "n": policy.small_sample})
