"""A small study database with a services directory and referrals, written by hand.

Every number the services tests expect is worked out from these rows in the tests'
comments (and docs/services.md uses the same shape of example). The data's last day,
hence the default as-of day, is 2024-12-31: releases of 2024 are the 12 months before it.

* North: 30 people n0..n29 released 2024-01-15 + i days; n0..n9 women; drug offence
  when i % 5 is 0 or 1 (12 of them); age 20 for i >= 22 (8 under 25), else 40; plus one
  release of 2023 (outside the 12 months).
* South: 15 men s0..s14 released in 2024; drug offence s0..s2 (3); age 20 for s0..s12
  (13 under 25). Upcoming: q1 expected 2025-03-01 (and again 2025-05-01, counted once),
  q2 on 2026-02-01 (beyond 12 months).
* East: two releases of 2022, one of them n0's (released again in North in 2024).
* Services on 2024-12-31: S1 drug treatment (P1) North and South, 20 a year, both sexes;
  S2 housing (P2) in every region ('all'), 30 a year, men only; S3 education (P1) North,
  capacity unknown; S4 HIV (P2) South, ended 2024-06-30; S5 employment (P3) North,
  from 2025; S6 housing (P3) North, 7 a year, men only.
* Referrals: housing (S6) for n0..n29: n0..n5 completed, contact day +10; n6..n11
  completed, +45; n12..n15 attended, +20; n16..n19 attended, no contact date;
  n20..n22 declined; n23..n29 referred. Drug treatment (S1) for n0..n24: n0..n11
  referred, n12..n21 completed, +5; n22..n24 declined. And n0 declined housing (S2) on
  2022-04-01, after the East release (no release_id: it belongs to that one).
* Events: rearrest of n3 at day 30 and of n7 at day 40.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from analysis.store.schema import migrate
from analysis.survival.follow_up import prepare_for_analysis

NORTH_START = dt.date(2024, 1, 15)
END = dt.date(2024, 12, 31)


def north_release(i: int) -> dt.date:
    return NORTH_START + dt.timedelta(days=i)


def _releases() -> list[tuple]:
    rows = []
    for i in range(30):
        rows.append((f"rn{i}", f"n{i}", north_release(i), "A", END, "North",
                     "F" if i < 10 else "M", 20.0 if i >= 22 else 40.0,
                     "drug" if i % 5 in (0, 1) else "property"))
    rows.append(("rn_old", "old1", dt.date(2023, 6, 1), "A", dt.date(2023, 12, 31), "North",
                 "M", 40.0, "drug"))
    for i in range(15):
        rows.append((f"rs{i}", f"s{i}", dt.date(2024, 3, 1) + dt.timedelta(days=i), "B", END,
                     "South", "M", 20.0 if i <= 12 else 40.0, "drug" if i < 3 else "violent"))
    rows.append(("re0", "n0", dt.date(2022, 3, 1), "C", dt.date(2022, 12, 31), "East", "F",
                 39.0, "property"))
    rows.append(("re1", "e1", dt.date(2022, 5, 1), "C", dt.date(2022, 12, 31), "East", "M",
                 30.0, "property"))
    return rows


SERVICES = [
    # service_id, provider_id, type, regions, sex_served, capacity, valid_from, valid_to
    ("S1", "P1", "drug_treatment", ["North", "South"], "both", 20, None, None),
    ("S2", "P2", "housing", ["all"], "men", 30, None, None),
    ("S3", "P1", "education", ["North"], "both", None, None, None),
    ("S4", "P2", "hiv", ["South"], "both", 50, None, dt.date(2024, 6, 30)),
    ("S5", "P3", "employment", ["North"], "both", 5, dt.date(2025, 1, 1), None),
    ("S6", "P3", "housing", ["North"], "men", 7, None, None),
]


def referral_rows() -> list[tuple]:
    """person_id, service_id, referral_date, status, release_id, first_contact_date."""
    rows = []

    def add(i, service, status, contact_days):
        released = north_release(i)
        contact = None if contact_days is None else released + dt.timedelta(days=contact_days)
        rows.append((f"n{i}", service, released + dt.timedelta(days=2), status, None,
                     contact))

    for i in range(30):
        if i < 6:
            add(i, "S6", "completed", 10)
        elif i < 12:
            add(i, "S6", "completed", 45)
        elif i < 16:
            add(i, "S6", "attended", 20)
        elif i < 20:
            add(i, "S6", "attended", None)
        elif i < 23:
            add(i, "S6", "declined", None)
        else:
            add(i, "S6", "referred", None)
    for i in range(25):
        if i < 12:
            add(i, "S1", "referred", None)
        elif i < 22:
            add(i, "S1", "completed", 5)
        else:
            add(i, "S1", "declined", None)
    rows.append(("n0", "S2", dt.date(2022, 4, 1), "declined", None, None))
    return rows


def fill(con: duckdb.DuckDBPyConnection, *, referrals: bool = True,
         services: bool = True) -> duckdb.DuckDBPyConnection:
    """Write the fixture's rows into a migrated database and prepare it for analysis."""
    migrate(con)
    con.executemany(
        "INSERT INTO releases (release_id, person_id, release_date, facility, follow_up_end,"
        " release_region, sex, age_at_release, offense_category, batch_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'b')", _releases())
    con.executemany(
        "INSERT INTO expected_releases (person_id, expected_release_date, facility,"
        " release_region, sex, batch_id) VALUES (?, ?, 'B', 'South', 'M', 'b')",
        [("q1", dt.date(2025, 3, 1)), ("q1", dt.date(2025, 5, 1)), ("q2", dt.date(2026, 2, 1))])
    con.executemany(
        "INSERT INTO events (person_id, event_date, event_type, batch_id)"
        " VALUES (?, ?, 'rearrest', 'b')",
        [("n3", north_release(3) + dt.timedelta(days=30)),
         ("n7", north_release(7) + dt.timedelta(days=40))])
    if services:
        con.executemany(
            "INSERT INTO providers (provider_id, name, kind, regions, batch_id)"
            " VALUES (?, ?, ?, ?, 'b')",
            [("P1", "Health Ministry", "government", ["all"]),
             ("P2", "Open Door", "ngo", ["all"]), ("P3", "Second Start", "ngo", ["North"])])
        con.executemany(
            "INSERT INTO services (service_id, provider_id, service_type, regions, sex_served,"
            " capacity_per_year, valid_from, valid_to, batch_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'b')", SERVICES)
    if services and referrals:
        con.executemany(
            "INSERT INTO referrals (person_id, service_id, referral_date, status, release_id,"
            " first_contact_date, batch_id) VALUES (?, ?, ?, ?, ?, ?, 'b')", referral_rows())
    prepare_for_analysis(con)
    return con


def fixture_db(path: Path, **options) -> Path:
    """The fixture written to a database file (for the command line)."""
    con = duckdb.connect(str(path))
    try:
        fill(con, **options)
    finally:
        con.close()
    return path
