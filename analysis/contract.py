"""The data contract: tables, columns, types and codes a dataset folder must follow.

This module is the single source of truth for the contract. ``docs/data-contract.md``
describes the same rules for people; the validator, the importer, the demo generator
and the database schema all read them from here.

A *dataset* is a folder holding one file per table, named after the table
(``releases.csv``, ``programs.parquet``, ``events.xlsx`` ...). Only ``releases`` is
mandatory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal["text", "date", "integer", "number", "code"]

FILE_SUFFIXES: tuple[str, ...] = (".csv", ".parquet", ".xlsx")

EVENT_TYPES: tuple[str, ...] = ("rearrest", "reconviction", "reincarceration", "violation")
SEX_CODES: tuple[str, ...] = ("F", "M", "X", "U")
FOLLOW_UP_END_REASONS: tuple[str, ...] = (
    "data_cutoff",
    "death",
    "deportation",
    "emigration",
    "other",
)
#: Reasons that end follow-up because the person could no longer reoffend in the
#: observed territory: competing events for cumulative-incidence estimates.
COMPETING_END_REASONS: tuple[str, ...] = ("death", "deportation", "emigration")
PROGRAM_CATEGORIES: tuple[str, ...] = (
    "education",
    "vocational",
    "work",
    "drug_treatment",
    "health",
    "psychosocial",
    "legal_aid",
    "disengagement",
    "employment",
    "post_release_support",
    "other",
)
PROGRAM_SETTINGS: tuple[str, ...] = ("in_prison", "post_release", "community")
PARTICIPATION_STATUSES: tuple[str, ...] = ("completed", "dropped_out", "ongoing", "other")


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    kind: ColumnKind
    required: bool
    description: str
    codes: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    #: Value stored when the column or the cell is empty.
    default: str | None = None

    def expected(self) -> str:
        """Plain-language description of an acceptable value, used in error messages."""
        if self.kind == "date":
            return "a date written YYYY-MM-DD"
        if self.kind == "code":
            return "one of " + ", ".join(self.codes or ())
        if self.kind in ("integer", "number"):
            word = "a whole number" if self.kind == "integer" else "a number"
            if self.minimum is not None and self.maximum is not None:
                return f"{word} from {self.minimum:g} to {self.maximum:g}"
            if self.minimum is not None:
                return f"{word} of at least {self.minimum:g}"
            return word
        return "a non-empty text value" if self.required else "text"


@dataclass(frozen=True)
class Table:
    """One contract table: its columns, its key and whether extra columns are allowed."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required_file: bool
    #: Extra columns of ``releases`` are kept as release-level covariates.
    extra_columns_are_covariates: bool = False
    description: str = ""
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name: str, kind: ColumnKind, required: bool, description: str, **kw) -> Column:
    return Column(name=name, kind=kind, required=required, description=description, **kw)


RELEASES = Table(
    name="releases",
    description="One row per release from custody, or per start of a non-custodial sentence.",
    key=("release_id",),
    required_file=True,
    extra_columns_are_covariates=True,
    columns=(
        _c("release_id", "text", True, "Unique identifier of this release."),
        _c("person_id", "text", True, "The person's identifier; pseudonymized at import."),
        _c("release_date", "date", True, "Day of release (time zero of follow-up)."),
        _c("facility", "text", True, "Facility released from (or court/probation office)."),
        _c("follow_up_end", "date", True, "Last date on which reoffending could be observed."),
        _c("release_region", "text", False, "Region the person goes to."),
        _c("sex", "code", False, "F, M, X (other) or U (unknown).", codes=SEX_CODES),
        _c(
            "birth_year",
            "integer",
            False,
            "Year of birth (never the full date).",
            minimum=1900,
            maximum=2100,
        ),
        _c(
            "age_at_release",
            "number",
            False,
            "Age in years on the release date.",
            minimum=10,
            maximum=110,
        ),
        _c("offense_category", "text", False, "Category of the index offense."),
        _c(
            "sentence_months",
            "number",
            False,
            "Length of the sentence served, in months.",
            minimum=0,
            maximum=1200,
        ),
        _c(
            "prior_convictions",
            "integer",
            False,
            "Number of earlier convictions.",
            minimum=0,
            maximum=500,
        ),
        _c("release_type", "text", False, "e.g. end_of_sentence, conditional, non_custodial."),
        _c(
            "follow_up_end_reason",
            "code",
            False,
            "Why follow-up ends; death, deportation and emigration are competing events.",
            codes=FOLLOW_UP_END_REASONS,
            default="data_cutoff",
        ),
    ),
)

PROGRAMS = Table(
    name="programs",
    description="Catalogue of rehabilitation programmes.",
    key=("program_id",),
    required_file=False,
    columns=(
        _c("program_id", "text", True, "Unique identifier of the programme."),
        _c("name", "text", True, "Programme name as people know it."),
        _c("category", "code", True, "Kind of programme.", codes=PROGRAM_CATEGORIES),
        _c("setting", "code", True, "Where it takes place.", codes=PROGRAM_SETTINGS),
        _c("project", "text", False, "Project the programme belongs to."),
        _c("funder", "text", False, "Who pays for it."),
        _c("cost_per_participant", "number", False, "Cost of one participant.", minimum=0),
        _c("currency", "text", False, "Currency of the cost, e.g. EUR, TND, KGS."),
    ),
)

PARTICIPATION = Table(
    name="participation",
    description="Who took part in which programme, and when.",
    key=("person_id", "program_id", "start_date"),
    required_file=False,
    columns=(
        _c("person_id", "text", True, "The person's identifier; pseudonymized at import."),
        _c("program_id", "text", True, "A program_id of the programs table."),
        _c("start_date", "date", True, "First day of participation."),
        _c("end_date", "date", False, "Last day; empty while ongoing."),
        _c("status", "code", False, "Outcome of the participation.", codes=PARTICIPATION_STATUSES),
        _c("hours", "number", False, "Hours attended.", minimum=0),
        _c("release_id", "text", False, "The release this participation belongs to, if known."),
    ),
)

EVENTS = Table(
    name="events",
    description="Reoffending events: re-arrests, reconvictions, re-incarcerations, violations.",
    key=("person_id", "event_date", "event_type"),
    required_file=False,
    columns=(
        _c("person_id", "text", True, "The person's identifier; pseudonymized at import."),
        _c("event_date", "date", True, "Date of the event."),
        _c("event_type", "code", True, "Kind of event.", codes=EVENT_TYPES),
        _c("offense_category", "text", False, "Category of the new offense."),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (RELEASES, PROGRAMS, PARTICIPATION, EVENTS)}
#: Order in which tables are read and checked (later tables refer to earlier ones).
TABLE_ORDER: tuple[str, ...] = ("releases", "programs", "participation", "events")
#: Tables whose rows describe a person; direct identifiers are refused there.
PERSON_TABLES: tuple[str, ...] = ("releases", "participation", "events")

# Column names that look like direct identifiers, in the project's working languages
# (normalised: lower case, only letters and digits). Matching is on the whole
# normalised name or on these as a prefix/suffix token.
_IDENTIFIER_WORDS: frozenset[str] = frozenset(
    {
        # English
        "name",
        "firstname",
        "lastname",
        "fullname",
        "surname",
        "givenname",
        "familyname",
        "middlename",
        "maidenname",
        "nationalid",
        "nationalidnumber",
        "nationalidentitynumber",
        "idcard",
        "idcardnumber",
        "passport",
        "passportno",
        "passportnumber",
        "address",
        "streetaddress",
        "street",
        "homeaddress",
        "phone",
        "phonenumber",
        "telephone",
        "mobile",
        "email",
        "emailaddress",
        "dateofbirth",
        "dob",
        "birthdate",
        "birthday",
        "ssn",
        "socialsecuritynumber",
        "taxid",
        # French (Tunisia)
        "nom",
        "prenom",
        "nomcomplet",
        "adresse",
        "courriel",
        "datenaissance",
        "datedenaissance",
        "cin",
        "numerocin",
        "passeport",
        # Serbian / Russian (transliterated)
        "ime",
        "prezime",
        "adresa",
        "telefon",
        "jmbg",
        "datumrodjenja",
        "imya",
        "familiya",
        "otchestvo",
        "pasport",
        "inn",
        "pin",
        # Arabic (transliterated)
        "ism",
        "laqab",
    }
)
_IDENTIFIER_PREFIXES: tuple[str, ...] = ("firstname", "lastname", "passport", "email", "phone")


def normalise_column_name(raw: str) -> str:
    """Header as the contract spells it: trimmed, lower case (``" Release_ID"`` -> ``"release_id"``)."""
    return raw.strip().lstrip("\ufeff").strip().lower()


def looks_like_direct_identifier(column: str) -> bool:
    """True when a column name looks like a direct identifier (name, ID number, address...).

    >>> looks_like_direct_identifier("Last Name"), looks_like_direct_identifier("prior_convictions")
    (True, False)
    """
    squashed = re.sub(r"[^0-9a-z]", "", column.lower())
    if squashed in _IDENTIFIER_WORDS:
        return True
    return any(squashed.startswith(p) for p in _IDENTIFIER_PREFIXES)


#: Extra (covariate) column names must be plain identifiers so analyses can name them.
COVARIATE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
