"""The demo's ``expected_releases.csv``: releases planned in the 12 months after the cutoff.

Two kinds of people are expected out (docs/demo-data.md):

* people of ``releases.csv`` back in custody at the cutoff, on the day the simulation
  planned their next release (:attr:`analysis.demo.simulate.Chunk.in_custody`), when
  that day falls in the 12 months: re-releases, whose pseudonyms join their releases;
* new people, half a year's worth of the demo's first releases, drawn from the same
  population model as the first releases (sex, age, region, offense, priors, sentence,
  facility), on days spread uniformly over the 12 months.

Both are custodial releases (the probation service's future caseload is not known in
advance). Everything is drawn from random streams of its own, so ``releases.csv`` and
the other files are the same with or without this file.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from analysis.constants import DAYS_PER_YEAR
from analysis.contract import SEX_CODES
from analysis.demo.model import EDUCATION_LEVELS, OFFENSES, RELEASE_TYPES, DemoModel
from analysis.demo.schemas import EXPECTED_SCHEMA
from analysis.demo.simulate import (
    CONDITIONAL,
    END_OF_SENTENCE,
    Chunk,
    _assign_facility,
    _conditional,
    _draw_people,
    _served_months,
    day_number,
    year_of,
)

#: Days after the cutoff that the expected releases cover.
HORIZON_DAYS = 365
#: New people expected out in those 12 months, as a share of a year's first releases.
NEW_PEOPLE_SHARE_OF_A_YEAR = 0.5

def new_people_count(model: DemoModel, persons: int) -> int:
    """New people expected out: :data:`NEW_PEOPLE_SHARE_OF_A_YEAR` of the first releases
    of an average year of the window (every person of the demo has one first release).

    Examples
    --------
    >>> new_people_count(DemoModel(), 45_000)
    2729
    """
    cal = model.calendar
    years = (cal.first_release_to - cal.first_release_from).days / DAYS_PER_YEAR
    return round(NEW_PEOPLE_SHARE_OF_A_YEAR * persons / years)


def returning_people(model: DemoModel, chunk: Chunk, keep: np.ndarray,
                     person_number: np.ndarray, rng: np.random.Generator,
                     width: int) -> pa.Table:
    """The kept people of a chunk in custody at the cutoff and due out within the horizon."""
    held = chunk.in_custody
    cutoff = day_number(model.calendar.cutoff)
    due = ((held["day"] > cutoff) & (held["day"] <= cutoff + HORIZON_DAYS)
           & keep[held["person"]]) if len(held.get("person", ())) else np.zeros(0, dtype=bool)
    pick = {name: values[due] for name, values in held.items()} if due.any() else None
    if pick is None:
        return EXPECTED_SCHEMA.empty_table()
    facility = _assign_facility(model, rng, pick["female"], pick["offense"], pick["sentence"],
                                pick["release_type"])
    return _table(model, person_number[pick["person"]], width, {**pick, "facility": facility})


def new_people(model: DemoModel, n: int, first_number: int, rng: np.random.Generator,
               width: int) -> pa.Table:
    """``n`` people never released before, drawn like the demo's first releases."""
    if n <= 0:
        return EXPECTED_SCHEMA.empty_table()
    pop = model.population
    people = _draw_people(model, rng, n)
    cutoff = day_number(model.calendar.cutoff)
    day = cutoff + rng.integers(1, HORIZON_DAYS + 1, n)
    birth_day = day - (people.first_day - people.birth_day)  # the age drawn for a first release
    offense = people.first_offense
    mean_priors = pop.priors_mean_base + pop.priors_mean_per_year_of_age * (
        (day - birth_day) / DAYS_PER_YEAR - pop.age_min)
    r_ = pop.priors_dispersion
    priors = rng.negative_binomial(r_, r_ / (r_ + mean_priors)).astype(np.int64)
    conditional = _conditional(model, rng, offense, priors)
    sentence = _served_months(model, rng, offense, conditional)
    release_type = np.where(conditional, CONDITIONAL, END_OF_SENTENCE)
    facility = _assign_facility(model, rng, people.female, offense, sentence, release_type)
    fields = {
        "day": day, "female": people.female, "birth_day": birth_day, "region": people.region,
        "education": people.education, "employed": people.employed, "offense": offense,
        "sentence": sentence, "priors": priors, "release_type": release_type,
        "facility": facility,
    }
    return _table(model, first_number + np.arange(n), width, fields)


def _table(model: DemoModel, numbers: np.ndarray, width: int, f: dict) -> pa.Table:
    text = pc.utf8_lpad(pa.array(numbers, pa.int64()).cast(pa.string()), width=width,
                        padding="0")

    def codes(names, values) -> pa.Array:
        return pa.array(list(names), pa.string()).take(pa.array(np.asarray(values, np.int32)))

    return pa.table(
        {
            "person_id": pc.binary_join_element_wise("P", text, ""),
            "expected_release_date": pa.array(np.asarray(f["day"], np.int32),
                                               pa.int32()).cast(pa.date32()),
            "facility": codes([x.name for x in model.facilities], f["facility"]),
            "release_region": codes(model.population.regions, f["region"]),
            "sex": codes(SEX_CODES, np.where(f["female"], SEX_CODES.index("F"),
                                             SEX_CODES.index("M"))),
            "birth_year": pa.array(year_of(f["birth_day"]), pa.int32()),
            "age_at_release": pa.array(np.round((f["day"] - f["birth_day"]) / DAYS_PER_YEAR, 1),
                                       pa.float64()),
            "offense_category": codes(OFFENSES, f["offense"]),
            "sentence_months": pa.array(np.asarray(f["sentence"], np.float64), pa.float64()),
            "prior_convictions": pa.array(f["priors"], pa.int32()),
            "release_type": codes(RELEASE_TYPES, f["release_type"]),
            "education_level": codes(EDUCATION_LEVELS, f["education"]),
            "employment_before": codes(("no", "yes"), np.asarray(f["employed"], np.int64)),
        },
        schema=EXPECTED_SCHEMA,
    )


def write_expected_releases(path, parts: list[pa.Table]) -> int:
    """Write the rows in date order (then person) with a plain header; return the count."""
    table = pa.concat_tables([EXPECTED_SCHEMA.empty_table(), *parts])
    table = table.sort_by([("expected_release_date", "ascending"), ("person_id", "ascending")])
    with pa.OSFile(str(path), "wb") as sink:
        sink.write((",".join(EXPECTED_SCHEMA.names) + "\n").encode("utf-8"))
        options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
        with pa_csv.CSVWriter(sink, EXPECTED_SCHEMA, write_options=options) as writer:
            writer.write_table(table)
    return table.num_rows
