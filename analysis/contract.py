"""The data contract: tables, columns, types and codes a dataset folder must follow.

This module is the single source of truth for the contract. ``docs/data-contract.md``
describes the same rules for people; the validator, the importer, the demo generator
and the database schema all read them from here.

A *dataset* is a folder holding one file per table, named after the table
(``releases.csv``, ``programs.parquet``, ``events.xlsx`` ...). Only ``releases`` is
mandatory; ``expected_releases`` (releases planned after the data's cutoff) and the
services directory (``providers``, ``services``: dates a service opens or closes) may
hold dates in the future. Besides the tables, a dataset may hold the country's own
region outlines (:data:`BOUNDARIES_FILE`), used only to draw a map.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Literal

from analysis.errors import DesistError

#: ``list``: several values in one cell, separated by :data:`LIST_SEPARATOR` (the regions
#: a service covers, the languages it speaks); stored as a DuckDB ``VARCHAR[]``.
ColumnKind = Literal["text", "date", "integer", "number", "code", "list"]

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

# The services directory (issue 18): who can help after release, and where.
PROVIDER_KINDS: tuple[str, ...] = ("government", "ngo", "international", "private")
#: What a service offers; the needs named by ministries, NGOs and international bodies
#: that map post-release services (drug treatment, HIV/TB/hepatitis care, social and
#: economic reintegration).
SERVICE_TYPES: tuple[str, ...] = (
    "drug_treatment", "opioid_substitution", "hiv", "tuberculosis", "hepatitis",
    "mental_health", "housing", "employment", "vocational_training", "education", "legal_aid",
    "family_support", "identity_documents", "financial_aid", "psychosocial_support",
    "disengagement",
)
SEX_SERVED: tuple[str, ...] = ("women", "men", "both")
REFERRAL_STATUSES: tuple[str, ...] = ("referred", "attended", "completed", "declined",
                                      "not_available")
#: A referral whose person reached the service (exposure, follow-through "attended").
REACHED_STATUSES: tuple[str, ...] = ("attended", "completed")
#: The region word meaning every region (a national service); written alone in a cell.
ALL_REGIONS = "all"
#: Separator of the values of a list cell: ``"Capital;North Coast"``. Not a comma, which
#: separates the cells of a CSV file.
LIST_SEPARATOR = ";"
#: The optional file of region outlines (GeoJSON, lon/lat). Not a table: it is not in
#: :data:`TABLE_ORDER`, and it is stored in ``region_boundaries``.
BOUNDARIES_FILE = "regions.geojson"


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
    #: Dates after today are accepted (a planned release); otherwise they are refused.
    future_allowed: bool = False
    #: A list of regions: each value must be a ``release_region`` of releases or
    #: expected_releases (this import or the database), or the cell is :data:`ALL_REGIONS`.
    of_regions: bool = False

    def expected(self) -> str:
        """Plain-language description of an acceptable value, used in error messages."""
        if self.kind == "list":
            if self.of_regions:
                return (f"release_region values separated by '{LIST_SEPARATOR}', "
                        f"or the single word '{ALL_REGIONS}'")
            if self.codes:
                return (f"values separated by '{LIST_SEPARATOR}', each one of "
                        + ", ".join(self.codes))
            return f"values separated by '{LIST_SEPARATOR}'"
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
    #: Column names refused in this table's files, each with the reason (a name that
    #: belongs to another table and would otherwise become a misleading covariate).
    refused_columns: dict[str, str] = field(default_factory=dict)
    #: Reason given for any other column whose name reads like a person's name or
    #: identifier, in a table that is not about people (the staff of ``providers``).
    identifier_refusal: str = ""
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})

    def refusal(self, column: str) -> str | None:
        """Why ``column`` cannot be part of this table, or None.

        Compared after :func:`squash_column_name`, so ``"Contact Person"`` is refused
        like ``contact_person``.

        >>> PROVIDERS.refusal("Focal point") is not None, PROVIDERS.refusal("website")
        (True, None)
        """
        squashed = squash_column_name(column)
        for name, reason in self.refused_columns.items():
            if squash_column_name(name) == squashed:
                return reason
        if self.identifier_refusal and looks_like_direct_identifier(column):
            return self.identifier_refusal
        return None

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



def _expected(name: str, description: str | None = None) -> Column:
    """A release column as it is in ``expected_releases`` (same kind, codes and range)."""
    column = RELEASES.by_name[name]
    return replace(column, description=description or column.description)


EXPECTED_RELEASES = Table(
    name="expected_releases",
    description=(
        "One row per release expected after the data's cutoff (people now in custody), "
        "for forecasts of who will come out, where and when."
    ),
    key=("person_id", "expected_release_date"),
    required_file=False,
    extra_columns_are_covariates=True,
    columns=(
        _c(
            "person_id",
            "text",
            True,
            "The person's identifier; pseudonymized at import with the key of releases, "
            "so that a person released before is recognised.",
        ),
        _c(
            "expected_release_date",
            "date",
            True,
            "Day the release is expected; any date, past dates included (forecasts use "
            "those after their as-of date).",
            future_allowed=True,
        ),
        _expected("facility", "Facility the person is expected to be released from."),
        _expected("release_region", "Region the person is expected to go to."),
        _expected("sex"),
        _expected("birth_year"),
        _expected("age_at_release", "Age in years on the expected release date."),
        _expected("offense_category", "Category of the offense of the current custody."),
        _expected("sentence_months", "Length of the sentence, in months, at its expected end."),
        _expected("prior_convictions"),
        _expected("release_type", "e.g. end_of_sentence, conditional."),
    ),
    refused_columns={
        name: "it belongs to releases, which records releases that happened; an expected "
        "release has no " + what
        for name, what in (
            ("release_id", "release_id yet"),
            ("release_date", "release_date yet (use expected_release_date)"),
            ("follow_up_end", "follow-up yet"),
            ("follow_up_end_reason", "follow-up yet"),
        )
    },
)

#: Column names that would hold the name of a member of a provider's staff. The
#: directory is circulated to every actor: it names organisations, never their people.
_STAFF_NAME_COLUMNS: tuple[str, ...] = (
    "contact", "contact_person", "contact_name", "contact_full_name", "person",
    "person_name", "staff", "staff_name", "staff_member", "director", "director_name",
    "manager", "manager_name", "coordinator", "coordinator_name", "focal_point",
    "focal_point_name", "responsible", "responsible_person", "responsible_name", "head",
    "head_name", "officer", "officer_name", "case_worker", "social_worker", "employee",
    "first_name", "last_name", "full_name", "surname",
    "responsable", "nom_du_responsable", "personne_de_contact", "directeur", "ime_i_prezime",
    "kontakt_osoba", "odgovorno_lice", "kontaktnoe_litso", "fio",
)
_STAFF_REASON = ("names of staff are not kept: give the organisation's public phone, email, "
                 "address or website")

PROVIDERS = Table(
    name="providers",
    description=(
        "The organisations that serve people after release: ministries, NGOs, international "
        "organisations, private bodies. Only their public contact details are kept."
    ),
    key=("provider_id",),
    required_file=False,
    columns=(
        _c("provider_id", "text", True, "Unique identifier of the organisation."),
        _c("name", "text", True, "The organisation's name (never a person's)."),
        _c("kind", "code", True, "Kind of organisation.", codes=PROVIDER_KINDS),
        _c("regions", "list", True,
           f"Regions served, separated by '{LIST_SEPARATOR}', or '{ALL_REGIONS}'.",
           of_regions=True),
        _c("phone", "text", False, "The organisation's public phone number."),
        _c("email", "text", False, "The organisation's public e-mail address."),
        _c("address", "text", False, "The organisation's public address."),
        _c("website", "text", False, "The organisation's website."),
    ),
    refused_columns=dict.fromkeys(_STAFF_NAME_COLUMNS, _STAFF_REASON),
    identifier_refusal=_STAFF_REASON,
)

SERVICES = Table(
    name="services",
    description="What a provider offers, where, to whom, in which languages and how many a year.",
    key=("service_id",),
    required_file=False,
    columns=(
        _c("service_id", "text", True, "Unique identifier of the service."),
        _c("provider_id", "text", True, "A provider_id of the providers table."),
        _c("service_type", "code", True, "What the service offers.", codes=SERVICE_TYPES),
        _c("name", "text", False, "The service's own name, if it has one."),
        _c("regions", "list", True,
           f"Regions served, separated by '{LIST_SEPARATOR}', or '{ALL_REGIONS}'.",
           of_regions=True),
        _c("sex_served", "code", True, "Who may use it.", codes=SEX_SERVED),
        _c("languages", "list", False,
           f"Languages spoken, separated by '{LIST_SEPARATOR}' (codes such as ar, fr, ru, sr, en)."),
        _c("capacity_per_year", "integer", False, "People it can take in a year.", minimum=0),
        _c("valid_from", "date", False, "First day the service runs; empty: since before the data.",
           future_allowed=True),
        _c("valid_to", "date", False, "Last day the service runs; empty: still open.",
           future_allowed=True),
    ),
)

REFERRALS = Table(
    name="referrals",
    description="A person sent to a service after release, and how far they got.",
    key=("person_id", "service_id", "referral_date"),
    required_file=False,
    columns=(
        _c("person_id", "text", True,
           "The person's identifier; pseudonymized at import with the key of releases."),
        _c("service_id", "text", True, "A service_id of the services table."),
        _c("referral_date", "date", True, "Day of the referral (not before the release)."),
        _c("status", "code", True, "How far the person got.", codes=REFERRAL_STATUSES),
        _c("release_id", "text", False, "The release the referral follows, if known."),
        _c("first_contact_date", "date", False,
           "First day the person attended (for attended or completed referrals)."),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (RELEASES, PROGRAMS, PARTICIPATION, EVENTS, EXPECTED_RELEASES,
                        PROVIDERS, SERVICES, REFERRALS)
}
#: Order in which tables are read and checked (later tables refer to earlier ones;
#: ``expected_releases`` reads the covariate kinds of ``releases``; the regions of
#: ``providers`` and ``services`` are those of releases and expected releases).
TABLE_ORDER: tuple[str, ...] = (
    "releases", "programs", "participation", "events", "expected_releases",
    "providers", "services", "referrals",
)
#: Tables whose rows describe a person; direct identifiers are refused there.
PERSON_TABLES: tuple[str, ...] = ("releases", "participation", "events", "expected_releases",
                                  "referrals")

# Column names that look like direct identifiers, in the project's five working
# languages, in the native script and transliterated. They are compared after
# :func:`squash_column_name` (case, accents, harakat and separators ignored), so
# ``"Nom du père"``, ``nom_du_pere`` and ``NOMDUPERE`` are the same word.
_IDENTIFIER_WORD_LIST: tuple[str, ...] = (
    # English
    "name", "first_name", "last_name", "full_name", "surname", "given_name", "family_name",
    "middle_name", "maiden_name", "mother_name", "mothers_name", "father_name",
    "fathers_name", "parent_name", "nickname", "nick_name", "alias", "patronymic",
    "national_id", "national_id_number", "national_identity_number", "id_card",
    "id_card_number", "passport", "passport_no", "passport_number", "address",
    "street_address", "street", "home_address", "phone", "phone_number", "telephone",
    "mobile", "email", "email_address", "date_of_birth", "dob", "birth_date", "birthday",
    "birthdate", "ssn", "social_security_number", "tax_id",
    # French (Tunisia)
    "nom", "prenom", "prenoms", "nom_complet", "nom_de_famille", "nom_du_pere",
    "nom_de_la_mere", "prenom_du_pere", "prenom_de_la_mere", "nom_de_jeune_fille",
    "nom_usuel", "surnom", "sobriquet", "adresse", "courriel", "telephone",
    "date_naissance", "date_de_naissance", "cin", "numero_cin", "passeport",
    # Serbian, Latin and Cyrillic script (transliterated: dj for đ, c for č/ć)
    "ime", "prezime", "ime_i_prezime", "ime_oca", "ime_majke", "ime_roditelja",
    "devojacko_prezime", "nadimak", "adresa", "telefon", "jmbg", "datum_rodjenja",
    "datum_rođenja", "broj_licne_karte", "broj_pasosa",
    "име", "презиме", "име_оца", "име_мајке", "име_родитеља", "девојачко_презиме",
    "надимак", "адреса", "телефон", "јмбг", "датум_рођења",
    # Russian, Cyrillic and transliterated
    "имя", "фамилия", "отчество", "кличка", "прозвище", "псевдоним", "фио", "паспорт",
    "адрес", "дата_рождения", "инн", "снилс",
    "imya", "familiya", "otchestvo", "klichka", "prozvishche", "fio", "pasport", "inn",
    "snils", "pin",
    # Arabic, Arabic script and transliterated
    "اسم", "الاسم", "الإسم", "اسم_الأب", "اسم_الأم", "اسم_العائلة", "الاسم_الكامل", "اللقب",
    "لقب", "الكنية", "كنية", "رقم_الهوية", "بطاقة_التعريف", "جواز_السفر", "العنوان",
    "الهاتف", "تاريخ_الميلاد",
    "ism", "laqab", "kunya", "nasab", "ism_al_ab", "ism_al_umm",
)
_IDENTIFIER_PREFIXES: tuple[str, ...] = ("firstname", "lastname", "passport", "email", "phone")
#: A name ending in "name" is a person's name when the rest says whose.
_PERSON_NAME_OWNERS: tuple[str, ...] = (
    "first", "last", "given", "family", "middle", "maiden", "full", "sur", "nick",
    "mother", "mothers", "father", "fathers", "parent", "parents", "spouse", "wife",
    "husband", "child", "birth", "person", "offender", "inmate", "prisoner",
)


def squash_column_name(raw: str) -> str:
    """A column name reduced for comparison: NFKC, case-folded, accents and harakat
    dropped, and only letters and digits kept (``"Nom du père"`` -> ``"nomdupere"``)."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", raw).casefold())
    kept = (ch for ch in folded if not unicodedata.combining(ch))
    return "".join(ch for ch in kept if ch.isalnum())


_IDENTIFIER_WORDS: frozenset[str] = frozenset(squash_column_name(w) for w in _IDENTIFIER_WORD_LIST)

#: Invisible characters removed from ids, codes and column names: zero-width space,
#: non-joiner and joiner, word joiner and the byte-order mark / zero-width no-break space.
ZERO_WIDTH_CHARACTERS: str = "\u200b\u200c\u200d\u2060\ufeff"
_ZERO_WIDTH = re.compile(f"[{ZERO_WIDTH_CHARACTERS}]")


def normalise_column_name(raw: str) -> str:
    """Header as the contract spells it: NFC, zero-width characters removed, trimmed,
    lower case (``" Release_ID"`` -> ``"release_id"``)."""
    return _ZERO_WIDTH.sub("", unicodedata.normalize("NFC", raw)).strip().lower()


def looks_like_direct_identifier(column: str) -> bool:
    """True when a column name looks like a direct identifier (name, ID number, address...).

    >>> looks_like_direct_identifier("Last Name"), looks_like_direct_identifier("prior_convictions")
    (True, False)
    >>> looks_like_direct_identifier("Nom du père"), looks_like_direct_identifier("отчество")
    (True, True)
    """
    squashed = squash_column_name(column)
    if squashed in _IDENTIFIER_WORDS:
        return True
    if any(squashed.startswith(p) for p in _IDENTIFIER_PREFIXES):
        return True
    return squashed.endswith("name") and squashed[: -len("name")] in _PERSON_NAME_OWNERS


#: Extra (covariate) column names must be plain identifiers so analyses can name them.
COVARIATE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

#: Names a covariate (an extra column of ``releases``) cannot take, because the database
#: or the analyses already use them beside the release columns: DuckDB's row number
#: (``rowid``), the importer's ``batch_id``, the columns of the derived table
#: ``release_follow_up`` and the fields the survival queries add to every release.
RESERVED_COVARIATE_NAMES: frozenset[str] = frozenset(
    {
        "rowid", "batch_id",
        "prev_release", "next_release", "programs", "programs_completed",
        "age", "age_band", "release_year", "censor_day", "competing_end", "first_any_day",
        *(f"first_{t}" for t in EVENT_TYPES),
        *(f"first_{t}_day" for t in EVENT_TYPES),
    }
)


# ----------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class Limit:
    """A documented maximum of the input, checked before the work starts.

    ``setting`` is the environment variable that raises it (a whole number, in ``unit``).
    """

    name: str
    setting: str
    default: int
    unit: str

    def current(self) -> int:
        """The limit in force: ``$setting`` when set, else the default.

        Raises
        ------
        DesistError
            When the environment variable is not a positive whole number.
        """
        raw = os.environ.get(self.setting, "").strip()
        if not raw:
            return self.default
        try:
            value = int(raw.replace("_", ""))
        except ValueError:
            value = 0
        if value < 1:
            raise DesistError(
                f"{self.setting}={raw!r} is not a positive whole number of {self.unit}; "
                f"unset it to use the default of {self.default:,} {self.unit}"
            )
        return value

    def refusal(self, found: int, *, counted_to_limit: bool = False) -> str:
        """Message for an input of ``found`` units, over the limit.

        ``counted_to_limit``: counting stopped once past the limit, so the true number
        is only known to be larger.
        """
        limit = self.current()
        amount = f"more than {limit:,}" if counted_to_limit else f"{found:,}"
        raise_to = f"a number above {limit}" if counted_to_limit else str(max(found, limit + 1))
        return (
            f"{amount} {self.unit} is over the limit of {limit:,} {self.unit} ({self.name}); "
            f"if the file is right, raise the limit with the environment variable "
            f"{self.setting}={raise_to}"
        )


MAX_COLUMNS = Limit("columns per file", "DESIST_MAX_COLUMNS", 500, "columns")
MAX_CELL_CHARACTERS = Limit("characters per cell", "DESIST_MAX_CELL_CHARS", 10_000, "characters")
MAX_FILE_MB = Limit("size of one table file", "DESIST_MAX_FILE_MB", 8_000, "MB")
MAX_XLSX_UNCOMPRESSED_MB = Limit(
    "uncompressed size of an XLSX workbook", "DESIST_MAX_XLSX_MB", 512, "MB"
)
#: Excel's own maximum number of rows in a sheet.
MAX_XLSX_ROWS = Limit("rows of an XLSX sheet", "DESIST_MAX_XLSX_ROWS", 1_048_576, "rows")
#: Data rows of one CSV or Parquet file (a small Parquet file can hold billions of rows).
MAX_ROWS = Limit("data rows of one table file", "DESIST_MAX_ROWS", 50_000_000, "rows")
#: The region boundaries file is parsed whole (the json module), so it has its own,
#: smaller limit: a country's regions drawn finely enough for a map fit in a few MB.
MAX_BOUNDARIES_MB = Limit(
    "size of the region boundaries file", "DESIST_MAX_BOUNDARIES_MB", 100, "MB"
)
LIMITS: tuple[Limit, ...] = (
    MAX_COLUMNS, MAX_CELL_CHARACTERS, MAX_FILE_MB, MAX_XLSX_UNCOMPRESSED_MB, MAX_XLSX_ROWS,
    MAX_ROWS, MAX_BOUNDARIES_MB,
)
