"""The Arrow schemas of the demo's files: one column list per contract table.

An upcoming release (``expected_releases``) carries the release fields a person has
before leaving, so its schema is built from the releases' own columns, not repeated.
"""

from __future__ import annotations

import pyarrow as pa

RELEASE_SCHEMA = pa.schema(
    [
        ("release_id", pa.string()),
        ("person_id", pa.string()),
        ("release_date", pa.date32()),
        ("facility", pa.string()),
        ("follow_up_end", pa.date32()),
        ("release_region", pa.string()),
        ("sex", pa.string()),
        ("birth_year", pa.int32()),
        ("age_at_release", pa.float64()),
        ("offense_category", pa.string()),
        ("sentence_months", pa.float64()),
        ("prior_convictions", pa.int32()),
        ("release_type", pa.string()),
        ("follow_up_end_reason", pa.string()),
        ("education_level", pa.string()),
        ("employment_before", pa.string()),
    ]
)
PARTICIPATION_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("program_id", pa.string()),
        ("start_date", pa.date32()),
        ("end_date", pa.date32()),
        ("status", pa.string()),
        ("hours", pa.float64()),
        ("release_id", pa.string()),
    ]
)
EVENT_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("event_date", pa.date32()),
        ("event_type", pa.string()),
        ("offense_category", pa.string()),
    ]
)

#: Release fields known before a release happens: those of ``expected_releases``.
_KNOWN_BEFORE_RELEASE = ("facility", "release_region", "sex", "birth_year", "age_at_release",
                         "offense_category", "sentence_months", "prior_convictions",
                         "release_type", "education_level", "employment_before")
EXPECTED_SCHEMA = pa.schema(
    [("person_id", pa.string()), ("expected_release_date", pa.date32()),
     *(RELEASE_SCHEMA.field(name) for name in _KNOWN_BEFORE_RELEASE)]
)
#: The demo's referrals (``analysis.demo.referrals``), columns in the contract's order.
REFERRAL_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("service_id", pa.string()),
        ("referral_date", pa.date32()),
        ("status", pa.string()),
        ("release_id", pa.string()),
        ("first_contact_date", pa.date32()),
    ]
)
