r"""Codes of the data contract and of the models, in words: values of coded columns and
design terms.

Results keep the codes (``in_prison``, ``drug_treatment``, ``F``, ``sex[F]``,
``release_year[2025]``): they are the JSON and CLI keys, and the same in every
language. Whoever shows one to a person words it here, in that person's language:

- :func:`value_label` for a cell of a column whose values are contract codes (the sex,
  a programme's category, the kind of standard error, an import's mode);
- :func:`term_label` for a term of a model or of a balance table: ``sex[F]`` reads
  "sex: female", ``release_year[2025]`` "release year: 2025",
  ``facility[Eastfield Prison]`` "facility: Eastfield Prison" (a level from the data is
  shown as it is), a programme's code "programme: VOC-METAL".

Examples
--------
>>> term_label("sex[F]", "fr"), term_label("release_year[2025]")
('sexe : femme', 'release year: 2025')
>>> value_label("category", "drug_treatment", "ar")
'علاج الإدمان'
"""

from __future__ import annotations

from collections.abc import Mapping

from analysis.i18n import N_, translator
from analysis.i18n.vocabulary import SEX_WORDS
from analysis.impact.wording import covariate_words

#: Programme categories of the data contract (:data:`analysis.contract.PROGRAM_CATEGORIES`).
CATEGORY_WORDS: dict[str, str] = {
    "education": N_("education"),
    "vocational": N_("vocational training"),
    "work": N_("prison work"),
    "drug_treatment": N_("drug treatment"),
    "health": N_("health"),
    "psychosocial": N_("psychosocial support"),
    "legal_aid": N_("legal aid"),
    "disengagement": N_("disengagement from violence"),
    "employment": N_("employment support"),
    "post_release_support": N_("support after release"),
    "other": N_("other kind"),
}
#: Which standard error a Cox model's intervals use (:data:`analysis.survival.cox.SE_TYPES`).
SE_TYPE_WORDS: dict[str, str] = {
    "robust": N_("robust (clustered by person)"),
    "model": N_("model-based"),
}
#: How an import treated invalid rows (the import log's ``mode``).
IMPORT_MODE_WORDS: dict[str, str] = {
    "all_or_nothing": N_("all or nothing"),
    "skip_invalid": N_("invalid rows skipped"),
}
#: Kinds of the importer's problems and warnings (:data:`analysis.ingest.problems.PROBLEM_KINDS`
#: and ``WARNING_KINDS``, whose English texts these are), for the problems table.
PROBLEM_KIND_WORDS: dict[str, str] = {
    "missing_file": N_("required file missing"),
    "ambiguous_file": N_("several files for one table"),
    "unreadable_file": N_("file is not a readable table"),
    "wrong_encoding": N_("file is not UTF-8 text"),
    "empty_file": N_("file has no data rows"),
    "missing_column": N_("required column missing"),
    "unknown_column": N_("column not in the contract"),
    "duplicate_column": N_("column appears twice"),
    "identifier_column": N_("column looks like a direct identifier"),
    "bad_column_name": N_("extra column name cannot be used as a covariate"),
    "missing_value": N_("required value empty"),
    "bad_date": N_("not a date written YYYY-MM-DD"),
    "bad_number": N_("not a number in the allowed range"),
    "unknown_code": N_("value not in the list of codes"),
    "duplicate_id": N_("identifier appears more than once"),
    "date_order": N_("dates in the wrong order"),
    "future_date": N_("date in the future"),
    "unknown_person": N_("person has no release"),
    "unknown_program": N_("program_id not in programs"),
    "unknown_release": N_("release_id not in releases"),
    "conflicting_covariate": N_("covariate type differs from earlier imports"),
    "over_limit": N_("file over a documented limit"),
    "outside_link": N_("link to a file outside the dataset folder"),
    "control_character": N_("invisible control character in a cell"),
    "mixed_scripts": N_("identifier mixes letters of several alphabets"),
    "look_alike_ids": N_("identifiers that look the same but differ"),
    "bad_list": N_("list of values that cannot be used"),
    "unknown_region": N_("region that no release goes to"),
    "unknown_provider": N_("provider_id not in providers"),
    "unknown_service": N_("service_id not in services"),
    "before_release": N_("referral dated before the release"),
    "bad_boundaries": N_("region boundaries file is not usable GeoJSON"),
    "outside_service_dates": N_("referral outside the service's valid dates"),
    "region_without_releases": N_("region boundary for a region no release goes to"),
}
#: Column code -> the words of its coded values. A value a column's table does not know
#: is shown as recorded (a category added to the contract later, a typing error).
VALUE_WORDS: dict[str, Mapping[str, str]] = {
    "sex": SEX_WORDS,
    "category": CATEGORY_WORDS,
    "se_type": SE_TYPE_WORDS,
    "adj_se_type": SE_TYPE_WORDS,
    "mode": IMPORT_MODE_WORDS,
    "kind": PROBLEM_KIND_WORDS,
}


def value_label(column: str, value: object, language: str = "en") -> object:
    """``value`` of the coded ``column`` in words; anything else as it is.

    Examples
    --------
    >>> value_label("setting", "in_prison"), value_label("sex", "M", "ru")
    ('in_prison', 'мужской')
    >>> value_label("category", "circus")
    'circus'
    """
    words = VALUE_WORDS.get(column, {})
    if isinstance(value, str) and value in words:
        return translator(language)(words[value])
    return value


def term_label(term: str, language: str = "en", *,
               programs: Mapping[str, str] | None = None) -> str:
    """A model's or a balance table's term in words, in ``language``.

    Parameters
    ----------
    term : str
        A covariate (``age_at_release``), a level of a categorical covariate as the
        design matrix names it (``sex[F]``, ``facility[Eastfield Prison]``), or a
        programme's code (a programme indicator of the Cox models).
    language : str, default "en"
        One of en, fr, ar, ru, sr.
    programs : mapping, optional
        Programme code -> name: a term found here reads "programme: CODE". Without it,
        a term the function does not know is shown as it is (a covariate of the data).

    Examples
    --------
    >>> term_label("age_at_release", "fr"), term_label("facility[Eastfield Prison]")
    ('âge à la libération', 'facility: Eastfield Prison')
    >>> term_label("VOC-METAL", programs={"VOC-METAL": "Metalwork"})
    'programme: VOC-METAL'
    >>> term_label("school_grade")
    'school_grade'
    """
    if programs is not None and term in programs:
        tr = translator(language)
        return tr("programme: {code}", code=term)
    # one wording of covariates and their levels, shared with the impact reports
    return covariate_words(term, language)
