"""Reading the demo's services directory and referrals, for the tests of tests/demo."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.contract import ALL_REGIONS, LIST_SEPARATOR


def split_list(cell) -> list[str]:
    """The values of a list cell (``"Capital;North Coast"``); empty for an empty cell."""
    return [] if pd.isna(cell) or cell == "" else str(cell).split(LIST_SEPARATOR)


def read_services(folder: Path) -> dict[str, pd.DataFrame]:
    """providers, services (as written: lists still joined) and referrals of a demo folder."""
    return {
        "providers": pd.read_csv(folder / "providers.csv", dtype=str, keep_default_na=False),
        "services": pd.read_csv(folder / "services.csv", dtype={"capacity_per_year": "Int64"},
                                parse_dates=["valid_from", "valid_to"]),
        "referrals": pd.read_csv(folder / "referrals.csv",
                                 parse_dates=["referral_date", "first_contact_date"]),
    }


def offered_in(services: pd.DataFrame, region: str, on: pd.Timestamp) -> pd.DataFrame:
    """Services whose regions name ``region`` (or are national) and that are open ``on``."""
    regions = services["regions"].map(split_list)
    here = regions.map(lambda r: region in r or r == [ALL_REGIONS])
    open_ = (services["valid_from"].isna() | (services["valid_from"] <= on)) & (
        services["valid_to"].isna() | (services["valid_to"] >= on))
    return services[here & open_]


def referrals_with_releases(referrals: pd.DataFrame, releases: pd.DataFrame) -> pd.DataFrame:
    """Each referral with the release it follows: its release_id, else the person's latest
    release on or before the referral (columns of the release suffixed ``_rel``)."""
    releases = releases.sort_values("release_date")
    own = pd.merge_asof(
        referrals.reset_index().sort_values("referral_date"),
        releases.add_suffix("_rel"),
        left_on="referral_date", right_on="release_date_rel",
        left_by="person_id", right_by="person_id_rel",
    )
    return own.sort_values("index").set_index("index")
