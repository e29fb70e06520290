"""Vectorised simulation of one chunk of people of the demo country.

:func:`simulate_chunk` follows every person of a chunk from the first release to
the data cutoff: programmes in custody, the first re-arrest after each release
(proportional hazards, Weibull baseline, time-varying post-release programmes),
reconviction, re-incarceration and the next release, and the competing exits
(death, deportation, emigration). All dates are whole days since 1970-01-01.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from analysis.constants import DAYS_PER_MONTH, DAYS_PER_YEAR
from analysis.contract import EVENT_TYPES, FOLLOW_UP_END_REASONS, PARTICIPATION_STATUSES
from analysis.demo.model import OFFENSES, RELEASE_TYPES, DemoModel, Program

_EPOCH = np.datetime64("1970-01-01", "D")
#: Stands in for "never" in day arithmetic (keeps sums finite).
_NEVER = 1.0e9

# Integer codes of the simulated columns: positions in the demo model's tuples (release
# types) and in the data contract's (event types, participation statuses, end reasons),
# looked up by name so that the demo cannot drift from the contract.
NON_CUSTODIAL = RELEASE_TYPES.index("non_custodial")
CONDITIONAL = RELEASE_TYPES.index("conditional")
END_OF_SENTENCE = RELEASE_TYPES.index("end_of_sentence")
REARREST, RECONVICTION, REINCARCERATION, VIOLATION = (
    EVENT_TYPES.index(t) for t in ("rearrest", "reconviction", "reincarceration", "violation"))
COMPLETED, DROPPED_OUT, ONGOING, OTHER_STATUS = (
    PARTICIPATION_STATUSES.index(s) for s in ("completed", "dropped_out", "ongoing", "other"))
DATA_CUTOFF = FOLLOW_UP_END_REASONS.index("data_cutoff")
#: End-reason codes of the competing exits, in the column order of :func:`_exit_times`.
_EXIT_CODES = np.array([FOLLOW_UP_END_REASONS.index(r)
                        for r in ("death", "deportation", "emigration")])


def day_number(date: dt.date) -> int:
    """Days since 1970-01-01."""
    return int((np.datetime64(date, "D") - _EPOCH).astype(np.int64))


def year_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


@dataclass(frozen=True)
class Chunk:
    """Simulated rows of one chunk; ``person`` columns index the chunk's people.

    Codes index the tuples of :mod:`analysis.demo.model` (offenses, release types,
    facilities, programmes) and of :mod:`analysis.contract` (``EVENT_TYPES``,
    ``PARTICIPATION_STATUSES``, ``FOLLOW_UP_END_REASONS``).
    """

    n_persons: int
    releases: dict[str, np.ndarray]
    participation: dict[str, np.ndarray]
    events: dict[str, np.ndarray]
    #: People back in custody at the cutoff, with the release the simulation planned for
    #: them (``day``, after the cutoff) and its fields: the demo's expected releases.
    in_custody: dict[str, np.ndarray] = field(default_factory=dict)

    def releases_per_person(self) -> np.ndarray:
        return np.bincount(self.releases["person"], minlength=self.n_persons)


def _choice(rng: np.random.Generator, shares, size: int) -> np.ndarray:
    """Categorical draws with probabilities ``shares`` (normalised)."""
    cum = np.cumsum(np.asarray(shares, dtype=float))
    return np.searchsorted(cum / cum[-1], rng.random(size), side="right").astype(np.int64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _ceil_days(t: np.ndarray) -> np.ndarray:
    """Continuous time after release -> whole day offset (at least 1, so events follow day 0)."""
    return np.maximum(1, np.ceil(np.minimum(t, _NEVER))).astype(np.int64)


class _Sink:
    """Accumulates row blocks of one table as lists of arrays, concatenated once."""

    def __init__(self, columns: tuple[str, ...]):
        self.blocks: dict[str, list[np.ndarray]] = {c: [] for c in columns}

    def add(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            self.blocks[name].append(np.asarray(values))

    def frame(self) -> dict[str, np.ndarray]:
        return {
            name: (np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64))
            for name, parts in self.blocks.items()
        }


@dataclass
class _People:
    """Person-level traits of a chunk (fixed over releases)."""

    female: np.ndarray
    birth_day: np.ndarray
    region: np.ndarray
    education: np.ndarray
    employed: np.ndarray
    foreign: np.ndarray
    drug_dependent: np.ndarray
    first_offense: np.ndarray
    first_day: np.ndarray


def _draw_people(model: DemoModel, rng: np.random.Generator, n: int) -> _People:
    pop, cal = model.population, model.calendar
    female = rng.random(n) < pop.female_share
    age = pop.age_min + rng.gamma(pop.age_gamma_shape, pop.age_gamma_scale, n)
    too_old = age > pop.age_max_first_release
    age[too_old] = rng.uniform(pop.age_min, pop.age_max_first_release, int(too_old.sum()))
    first_day = rng.integers(day_number(cal.first_release_from),
                             day_number(cal.first_release_to) + 1, n)
    offense = np.where(
        female,
        _choice(rng, pop.offense_shares_female, n),
        _choice(rng, pop.offense_shares_male, n),
    )
    return _People(
        female=female,
        birth_day=first_day - np.round(age * DAYS_PER_YEAR).astype(np.int64),
        region=_choice(rng, pop.region_shares, n),
        education=_choice(rng, pop.education_shares, n),
        employed=rng.random(n) < pop.employed_before_share,
        foreign=rng.random(n) < pop.foreign_share,
        drug_dependent=rng.random(n) < np.asarray(pop.drug_dependence_share)[offense],
        first_offense=offense,
        first_day=first_day,
    )


def _served_months(model, rng, offense, conditional) -> np.ndarray:
    """Months actually served, rounded to 0.1 (the value written to the file)."""
    pop = model.population
    median = np.asarray(pop.sentence_median_months)[offense]
    full = median * np.exp(pop.sentence_sigma * rng.standard_normal(len(offense)))
    full = np.clip(full, 1.0, pop.sentence_max_months)
    lo, hi = pop.conditional_served
    share = np.where(conditional, rng.uniform(lo, hi, len(offense)), 1.0)
    return np.maximum(1.0, np.round(full * share, 1))


def _conditional(model, rng, offense, priors) -> np.ndarray:
    pop = model.population
    logit = (
        pop.conditional_logit_base
        + pop.conditional_logit_per_prior * priors
        + np.where(offense == OFFENSES.index("violent_extremism"),
                   pop.conditional_logit_violent_extremism, 0.0)
    )
    return rng.random(len(offense)) < _sigmoid(logit)


def _assign_facility(model, rng, female, offense, sentence, release_type) -> np.ndarray:
    """Probation for non-custodial sentences, the women's prison for women, else by risk."""
    kinds = [f.kind for f in model.facilities]
    men = [i for i, f in enumerate(model.facilities) if f.share > 0]
    weights = np.tile(np.asarray([model.facilities[i].share for i in men]), (len(offense), 1))
    high = [j for j, i in enumerate(men) if kinds[i] == "high_security"]
    open_ = [j for j, i in enumerate(men) if kinds[i] == "open"]
    long_sentence = sentence > 48
    short = sentence < 12
    weights[:, high] *= np.where(long_sentence, 4.0, 1.0)[:, None]
    weights[:, open_] *= np.where(short, 3.0, np.where(long_sentence, 0.2, 1.0))[:, None]
    # Violent-extremist prisoners are all held in the high-security prison.
    extremist = offense == OFFENSES.index("violent_extremism")
    weights[extremist] = 0.0
    weights[np.ix_(extremist, high)] = 1.0
    cum = np.cumsum(weights, axis=1)
    pick = (rng.random(len(offense))[:, None] * cum[:, -1:] > cum).sum(axis=1)
    facility = np.asarray(men)[pick]
    facility = np.where(female, kinds.index("women"), facility)
    return np.where(release_type == NON_CUSTODIAL, kinds.index("probation"), facility)


def _linear_predictor(model, age, female, priors, sentence, offense, facility, year):
    """log relative re-arrest hazard from the release covariates (as written to the files)."""
    hz = model.hazard
    year_index = np.clip(year - hz.release_years[0], 0, len(hz.release_years) - 1)
    return (
        hz.log_hr_per_year_of_age * (age - hz.reference_age)
        + hz.log_hr_female * female
        + hz.log_hr_per_prior * priors
        + hz.log_hr_per_sentence_month * sentence
        + np.asarray(hz.log_hr_offense)[offense]
        + np.asarray([f.log_hr for f in model.facilities])[facility]
        + np.asarray(hz.log_hr_release_year)[year_index]
    )


def _selection_logit(program: Program, r: dict[str, np.ndarray]) -> np.ndarray:
    logit = (
        program.base_logit
        + program.logit_per_decade_of_age * (r["age"] - 35.0) / 10.0
        + program.logit_per_prior * r["priors"]
        + program.logit_per_sentence_year * r["sentence"] / 12.0
        + program.logit_female * r["female"]
        + program.logit_drug_dependent * r["drug_dependent"]
        + program.logit_low_education * (r["education"] <= 1)
        + program.logit_employed_before * r["employed"]
        + program.logit_vocational_completed * r["vocational_completed"]
        + program.logit_conditional_release * (r["release_type"] == CONDITIONAL)
    )
    for offense, shift in program.logit_offense:
        logit = logit + shift * (r["offense"] == OFFENSES.index(offense))
    return logit


def _eligible(model: DemoModel, program: Program, r: dict[str, np.ndarray]) -> np.ndarray:
    """Offered in this facility this year, and not legally barred."""
    names = [f.name for f in model.facilities]
    offered = np.zeros(len(r["age"]), dtype=bool)
    for facility, first_year in program.rollout:
        offered |= (r["facility"] == names.index(facility)) & (r["year"] >= first_year)
    if program.release_types:
        codes = [RELEASE_TYPES.index(t) for t in program.release_types]
        offered &= np.isin(r["release_type"], codes)
    else:
        offered &= r["release_type"] != NON_CUSTODIAL
    if program.barred_offenses:
        offered &= ~np.isin(r["offense"], [OFFENSES.index(o) for o in program.barred_offenses])
    if program.only_offenses:
        offered &= np.isin(r["offense"], [OFFENSES.index(o) for o in program.only_offenses])
    return offered & (r["sentence"] >= program.min_sentence_months)


def _sample_rearrest(rng, model, log_hr, windows) -> np.ndarray:
    """Time (days, continuous) to the first re-arrest, by inverting the cumulative hazard.

    ``windows`` are (active, start, end, log_hr) of time-varying programmes: the hazard
    is multiplied by exp(log_hr) on [start, end) for rows where ``active``.
    """
    hz = model.hazard
    k, scale = hz.weibull_shape, hz.weibull_scale_days
    target = rng.exponential(size=len(log_hr))
    if not windows:
        return scale * (target / np.exp(log_hr)) ** (1.0 / k)
    edges = [np.zeros(len(log_hr))]
    for active, start, end, _ in windows:
        edges.append(np.where(active, start, _NEVER))
        edges.append(np.where(active, end, _NEVER))
    edges.append(np.full(len(log_hr), _NEVER * 1000))
    bounds = np.sort(np.column_stack(edges), axis=1)
    left = bounds[:, :-1]
    log_m = np.repeat(log_hr[:, None], left.shape[1], axis=1)
    for active, start, end, effect in windows:
        covered = active[:, None] & (start[:, None] <= left) & (left < end[:, None])
        log_m = log_m + np.where(covered, effect, 0.0)
    h0 = (bounds / scale) ** k
    segment = np.exp(log_m) * np.diff(h0, axis=1)
    cum_end = np.cumsum(segment, axis=1)
    j = np.minimum((cum_end < target[:, None]).sum(axis=1), segment.shape[1] - 1)
    rows = np.arange(len(log_hr))
    before = cum_end[rows, j] - segment[rows, j]
    h_at = h0[rows, j] + (target - before) / np.exp(log_m[rows, j])
    return scale * h_at ** (1.0 / k)


def _exit_times(model, rng, age, drug_dependent, foreign):
    """Days after release to the first of death, deportation, emigration; and which."""
    ex = model.exits
    n = len(age)
    rate = (
        ex.death_rate_per_year / DAYS_PER_YEAR
        * np.exp(ex.death_log_hr_per_year_of_age * (age - ex.death_reference_age))
        * np.where(drug_dependent, ex.death_hr_drug_dependent, 1.0)
    )
    early_rate = rate * np.where(drug_dependent, ex.early_death_hr_drug_dependent, 1.0)
    w = float(ex.early_window_days)
    e = rng.exponential(size=n)
    death = np.where(e < early_rate * w, e / early_rate, w + (e - early_rate * w) / rate)
    lo, hi = ex.deportation_delay_days
    deported = foreign & (rng.random(n) < ex.p_deported_if_foreign)
    deport = np.where(deported, rng.integers(lo, hi + 1, n).astype(float), _NEVER)
    emigrate = rng.exponential(DAYS_PER_YEAR / ex.emigration_rate_per_year, n)
    times = np.column_stack([death, deport, emigrate])
    which = times.argmin(axis=1)
    return times[np.arange(n), which], _EXIT_CODES[which]


def simulate_chunk(model: DemoModel, rng: np.random.Generator, n_persons: int) -> Chunk:
    """Simulate ``n_persons`` people from their first release to the data cutoff.

    Examples
    --------
    >>> chunk = simulate_chunk(DemoModel(), np.random.default_rng(1), 200)
    >>> int(chunk.releases_per_person().min()) >= 1
    True
    """
    pop, js = model.population, model.justice
    cutoff = day_number(model.calendar.cutoff)
    people = _draw_people(model, rng, n_persons)
    end_day = np.full(n_persons, cutoff, dtype=np.int64)
    end_reason = np.full(n_persons, DATA_CUTOFF, dtype=np.int64)

    releases = _Sink(("person", "day", "facility", "age", "offense", "sentence", "priors",
                      "release_type"))
    participation = _Sink(("release", "program", "start", "end", "status", "hours"))
    events = _Sink(("person", "day", "type", "offense"))
    in_custody = _Sink(("person", "day", "offense", "sentence", "priors", "release_type"))

    # Generation 1: every person's first release in the window.
    person = np.arange(n_persons)
    offense = people.first_offense
    mean_priors = pop.priors_mean_base + pop.priors_mean_per_year_of_age * (
        (people.first_day - people.birth_day) / DAYS_PER_YEAR - pop.age_min
    )
    r_ = pop.priors_dispersion
    priors = rng.negative_binomial(r_, r_ / (r_ + mean_priors)).astype(np.int64)
    non_custodial = rng.random(n_persons) < np.asarray(pop.non_custodial_share)[offense]
    conditional = ~non_custodial & _conditional(model, rng, offense, priors)
    sentence = np.where(non_custodial, 0.0, _served_months(model, rng, offense, conditional))
    release_type = np.where(non_custodial, NON_CUSTODIAL,
                            np.where(conditional, CONDITIONAL, END_OF_SENTENCE))
    day = people.first_day
    custody_start = day - np.round(sentence * DAYS_PER_MONTH).astype(np.int64)
    offset = 0

    while len(person):
        n = len(person)
        female = people.female[person]
        age = np.round((day - people.birth_day[person]) / DAYS_PER_YEAR, 1)
        year = year_of(day)
        facility = _assign_facility(model, rng, female, offense, sentence, release_type)
        releases.add(person=person, day=day, facility=facility, age=age, offense=offense,
                     sentence=sentence, priors=priors, release_type=release_type)
        row = offset + np.arange(n)
        offset += n
        r = {
            "age": age, "female": female, "priors": priors, "sentence": sentence,
            "offense": offense, "facility": facility, "year": year,
            "release_type": release_type, "education": people.education[person],
            "employed": people.employed[person],
            "drug_dependent": people.drug_dependent[person],
            "vocational_completed": np.zeros(n, dtype=bool),
        }
        log_hr = _linear_predictor(model, age, female, priors, sentence, offense, facility, year)

        # Programmes in custody: fixed effect from release, by completion status.
        windows, pending = [], []
        for j, program in enumerate(model.programs):
            take = _eligible(model, program, r) & (
                rng.random(n) < _sigmoid(_selection_logit(program, r))
            )
            dropped = take & (rng.random(n) < program.dropout_probability)
            lo, hi = program.duration_days
            planned = rng.integers(lo, hi + 1, n)
            share = np.where(dropped, rng.uniform(0.1, 0.9, n), 1.0)
            if not program.time_varying:
                custody = np.maximum(day - custody_start, 2)
                planned = np.clip(planned, 1, custody - 1)
                start = custody_start + np.floor(rng.random(n) * (custody - planned)).astype(
                    np.int64
                )
                length = np.maximum(1, np.floor(planned * share)).astype(np.int64)
                log_hr = log_hr + np.where(
                    take,
                    np.where(dropped, program.log_hr_dropped_out, program.log_hr_completed),
                    0.0,
                )
                if program.category == "vocational":
                    r["vocational_completed"] |= take & ~dropped
                participation.add(
                    release=row[take], program=np.full(int(take.sum()), j),
                    start=start[take], end=(start + length)[take],
                    status=np.where(dropped[take], DROPPED_OUT, COMPLETED),
                    hours=np.round(program.hours * share[take]),
                )
            else:
                d_lo, d_hi = program.start_delay_days
                start = rng.integers(d_lo, d_hi + 1, n).astype(float)
                length = np.maximum(1, np.floor(planned * share))
                windows.append((take, start, start + length, program.log_hr_active))
                pending.append((j, program, take, dropped, start, length, planned))

        t = _sample_rearrest(rng, model, log_hr, windows)
        exit_t, exit_reason = _exit_times(
            model, rng, age, people.drug_dependent[person], people.foreign[person]
        )
        rearrest_day = day + _ceil_days(t)
        rearrested = (t < exit_t) & (rearrest_day <= cutoff)
        same = rng.random(n) < js.p_same_offense
        new_offense = np.where(
            same,
            offense,
            np.where(female, _choice(rng, pop.offense_shares_female, n),
                     _choice(rng, pop.offense_shares_male, n)),
        )
        delay = np.maximum(1, np.round(rng.gamma(
            js.reconviction_delay_shape,
            js.reconviction_delay_mean_days / js.reconviction_delay_shape, n,
        ))).astype(np.int64)
        conviction_day = rearrest_day + delay
        convicted = (rearrested & (rng.random(n) < js.p_reconviction)
                     & (conviction_day <= cutoff) & (conviction_day - day < exit_t))
        lo, hi = js.reincarceration_delay_days
        reinc_day = conviction_day + rng.integers(lo, hi + 1, n)
        reincarcerated = (convicted & (rng.random(n) < js.p_reincarceration)
                          & (reinc_day <= cutoff) & (reinc_day - day < exit_t))
        v_lo, v_hi = js.violation_window_days
        v_offset = rng.integers(v_lo, v_hi + 1, n)
        violated = ((release_type == CONDITIONAL) & (rng.random(n) < js.p_violation_conditional)
                    & (v_offset < t) & (v_offset < exit_t) & (day + v_offset <= cutoff))

        for kind, mask, when, what in (
            (REARREST, rearrested, rearrest_day, new_offense),
            (RECONVICTION, convicted, conviction_day, new_offense),
            (REINCARCERATION, reincarcerated, reinc_day, new_offense),
            (VIOLATION, violated, day + v_offset, np.full(n, -1)),
        ):
            events.add(person=person[mask], day=when[mask],
                       type=np.full(int(mask.sum()), kind), offense=what[mask])

        # The person leaves the territory (or dies) unless back in custody first.
        exit_day = day + _ceil_days(exit_t)
        leaves = ~reincarcerated & (exit_day <= cutoff)
        end_day[person[leaves]] = exit_day[leaves]
        end_reason[person[leaves]] = exit_reason[leaves]

        # Post-release programmes are recorded only for people who reached the start.
        for j, program, take, dropped, start, length, planned in pending:
            began = take & (start < t) & (start < exit_t) & (day + start <= cutoff)
            s = day + start.astype(np.int64)
            e = s + length.astype(np.int64)
            status = np.where(dropped, DROPPED_OUT, COMPLETED)
            cut_by_custody = reincarcerated & (reinc_day < e)
            e = np.where(cut_by_custody, reinc_day, e)
            status = np.where(cut_by_custody, DROPPED_OUT, status)
            cut_by_exit = leaves & (exit_day < e)
            e = np.where(cut_by_exit, exit_day, e)
            status = np.where(cut_by_exit, OTHER_STATUS, status)
            ongoing = e > cutoff
            status = np.where(ongoing, ONGOING, status)
            attended = (np.minimum(e, cutoff) - s) / planned
            participation.add(
                release=row[began], program=np.full(int(began.sum()), j),
                start=s[began], end=np.where(ongoing, -1, e)[began], status=status[began],
                hours=np.round(program.hours * np.clip(attended, 0, 1))[began],
            )

        # Re-incarcerated people come back as a new release of the same person.
        back = reincarcerated
        person, offense = person[back], new_offense[back]
        priors = priors[back] + 1
        conditional = _conditional(model, rng, offense, priors)
        sentence = _served_months(model, rng, offense, conditional)
        release_type = np.where(conditional, CONDITIONAL, END_OF_SENTENCE)
        custody_start = reinc_day[back]
        day = custody_start + np.round(sentence * DAYS_PER_MONTH).astype(np.int64)
        # People still in custody at the cutoff have no further release (their planned
        # one is kept aside, without drawing anything, so the other tables do not change).
        keep = day < cutoff
        in_custody.add(person=person[~keep], day=day[~keep], offense=offense[~keep],
                       sentence=sentence[~keep], priors=priors[~keep],
                       release_type=release_type[~keep])
        person, offense, priors = person[keep], offense[keep], priors[keep]
        sentence, release_type = sentence[keep], release_type[keep]
        custody_start, day = custody_start[keep], day[keep]

    rel = releases.frame()
    rel["female"] = people.female[rel["person"]]
    rel["birth_year"] = year_of(people.birth_day[rel["person"]])
    rel["region"] = people.region[rel["person"]]
    rel["education"] = people.education[rel["person"]]
    rel["employed"] = people.employed[rel["person"]]
    rel["follow_up_end"] = end_day[rel["person"]]
    rel["end_reason"] = end_reason[rel["person"]]
    held = in_custody.frame()
    for name, trait in (("female", people.female), ("birth_day", people.birth_day),
                        ("region", people.region), ("education", people.education),
                        ("employed", people.employed)):
        held[name] = trait[held["person"]]
    return Chunk(n_persons, rel, participation.frame(), events.frame(), held)
