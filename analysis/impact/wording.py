"""Plain words for donors, generated from the numbers (never written by hand).

The wording follows the Justice Data Lab: results per 100 people, the likely
range of the true difference, and an explicit statement when the rules do not
allow a result or a claim of significance. Every text is an English ``msgid``
rendered through :mod:`analysis.i18n` (catalogs ``analysis/i18n/locales/<lang>/
results.json``), so the same function writes English (the reference of the CLI, JSON
and report), French, Arabic, Russian and Serbian; plural forms follow the CLDR rules
of the language.

Results carry codes and numbers: a :class:`~analysis.impact.rules.Reason` (a rule's
verdict, a note on who was compared) and an attrition step code become words here
(:func:`reason_text`, :func:`attrition_table`). A count hidden by disclosure control
arrives as its label (``"<10"``); its noun then takes the form of a large count
(:data:`HIDDEN_COUNT_FORM`) whatever the value behind it, so that a singular cannot
reveal a count of 1. Such texts show the count as ``{count}`` (``{n}`` is always the
number that picks the plural form).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from analysis.constants import DAYS_PER_MONTH
from analysis.i18n import N_, Translator, check_language, translator
from analysis.i18n.vocabulary import SEX_WORDS
from analysis.impact.rules import (
    FEW_OUTCOMES,
    MIN_PARTICIPANTS,
    MULTIPLE_COMPARISONS_CODE,
    NOT_REPORTED,
    Reason,
    Verdict,
)

#: The count whose plural form a hidden count ("<10") takes: "other"/"many" everywhere.
HIDDEN_COUNT_FORM = 100
#: Shown for a count hidden only so that a smaller hidden count cannot be recovered: a
#: code, the one definition (views, publication and :data:`analysis.views.words.CELLS`
#: import it), put into words at the edge.
SECONDARY_LABEL = "hidden"

_YEARS = {
    365: N_("within a year"),
    730: N_("within two years"),
    1095: N_("within three years"),
    1461: N_("within four years"),
    1826: N_("within five years"),
}


def _count(value: int | str, tr: Translator) -> tuple[int, int | str]:
    """(the count that picks the plural form, what is shown) of a count or its label."""
    if isinstance(value, str):
        if value.isdigit():
            return int(value), value
        return HIDDEN_COUNT_FORM, _label(value, tr)
    return int(value), int(value)


def _label(value, tr: Translator):
    """A hidden count's label in the reader's language ("<10" is the same everywhere)."""
    return tr(N_("hidden")) if value == SECONDARY_LABEL else value


def horizon_words(days: int, *, language: str = "en") -> str:
    """'within a year', 'within 6 months', 'within 90 days' (or in ``language``).

    Examples
    --------
    >>> horizon_words(365), horizon_words(182), horizon_words(90)
    ('within a year', 'within 6 months', 'within 90 days')
    >>> horizon_words(730, language="ru"), horizon_words(91, language="sr")
    ('в течение двух лет', 'u roku od 91 dana')
    """
    tr = translator(language)
    if days in _YEARS:
        return tr(_YEARS[days])
    months = days / DAYS_PER_MONTH
    if days >= 120 and abs(months - round(months)) < 0.05:
        return tr.plural("within {n} month", "within {n} months", round(months))
    return tr.plural("within {n} day", "within {n} days", days)


def _per_100(value: float) -> int:
    return round(100 * value)


def _difference_range(lower: float, upper: float, tr: Translator) -> str:
    """Range of (participants − comparison) per 100, in words."""
    low, high = _per_100(lower), _per_100(upper)

    def one(v: int) -> str:
        if v == 0:
            return tr("no difference")
        if v < 0:
            return tr.plural("{n} fewer", "{n} fewer", abs(v))
        return tr.plural("{n} more", "{n} more", v)

    if low == high:
        return tr("about {one} per 100 participants", one=one(low))
    return tr("between {low} and {high} per 100 participants", low=one(low), high=one(high))


def impact_sentence(
    *,
    participant_rate: float,
    comparison_rate: float,
    difference_lower: float,
    difference_upper: float,
    horizon_days: int,
    verdict: Verdict,
    participants_with_outcomes: int | str,
    language: str = "en",
) -> str:
    """The headline for a programme's impact, in ``language`` (en, fr, ar, ru, sr).

    Rates are proportions; the difference is participants minus comparison.
    ``participants_with_outcomes`` may be the label of a hidden count (``"<10"``).

    Examples
    --------
    >>> from analysis.impact.rules import judge
    >>> print(impact_sentence(participant_rate=0.31, comparison_rate=0.42,
    ...     difference_lower=-0.17, difference_upper=-0.05, horizon_days=365,
    ...     verdict=judge(250, 77, 105, 0.001), participants_with_outcomes=250))
    For every 100 participants, 31 reoffended within a year, compared with 42 of 100 similar people who did not take part. The true difference is likely between 17 fewer and 5 fewer per 100 participants. This is a statistically significant reduction.
    >>> print(impact_sentence(participant_rate=0.31, comparison_rate=0.42,
    ...     difference_lower=-0.17, difference_upper=-0.05, horizon_days=365,
    ...     verdict=judge(7, 2, 4, 0.5), participants_with_outcomes="<10", language="fr"))
    Aucun résultat ne peut être publié : seuls <10 participants ont pu être suivis dans un délai d'un an, et il en faut au moins 60 pour une comparaison fiable.
    """
    tr = translator(language)
    when = horizon_words(horizon_days, language=language)
    if not verdict.reportable:
        form, shown = _count(participants_with_outcomes, tr)
        return tr.plural(
            "No result can be reported: only {count} participant could be followed up {when}, "
            "and at least {minimum} are needed for a reliable comparison.",
            "No result can be reported: only {count} participants could be followed up {when}, "
            "and at least {minimum} are needed for a reliable comparison.",
            form, count=shown, when=when, minimum=MIN_PARTICIPANTS)
    participants = _per_100(participant_rate)
    # (computed apart: Babel's extractor misreads a call holding the name ``tr``)
    likely = _difference_range(difference_lower, difference_upper, tr)
    text = tr.plural(
        "For every 100 participants, {n} reoffended {when}, compared with {comparison} of "
        "100 similar people who did not take part. The true difference is likely {range}.",
        "For every 100 participants, {n} reoffended {when}, compared with {comparison} of "
        "100 similar people who did not take part. The true difference is likely {range}.",
        participants, when=when, comparison=_per_100(comparison_rate),
        range=likely)
    if verdict.significant:
        if difference_upper < 0:
            ending = tr("This is a statistically significant reduction.")
        else:
            ending = tr("This is a statistically significant increase.")
    elif verdict.has(FEW_OUTCOMES):
        ending = tr("Too few people reoffended to say whether the programme made a difference.")
    else:
        ending = tr("This is not statistically significant: the analysis cannot tell whether "
                    "the programme changed reoffending.")
    return f"{text} {ending}"


def _not_reported(tr: Translator, params: Mapping[str, object]) -> str:
    # The noun agrees with the threshold ("fewer than 60 participants"), not the count.
    _, shown = _count(params["n"], tr)  # type: ignore[arg-type]
    return tr.plural(
        "fewer than {n} participant with outcomes ({count}): no result is reported",
        "fewer than {n} participants with outcomes ({count}): no result is reported",
        int(params["minimum"]), count=shown)  # type: ignore[call-overload]


def _few_outcomes(tr: Translator, params: Mapping[str, object]) -> str:
    return tr.plural(
        "fewer than {n} person reoffended in a group: the difference cannot be called "
        "significant",
        "fewer than {n} people reoffended in a group: the difference cannot be called "
        "significant",
        int(params["minimum"]))  # type: ignore[call-overload]


def _multiple_comparisons(tr: Translator, params: Mapping[str, object]) -> str:
    return tr("Several programmes are compared here. With many comparisons, about one in "
              "twenty programmes with no real effect will still show a 'significant' "
              "difference by chance; read single significant results among many with caution.")


def _post_release(tr: Translator, params: Mapping[str, object]) -> str:
    return tr("Post-release programme: compared at day {day} after release among people still "
              "in the community and free of reoffending then; participants started by that "
              "day.", day=params["day"])


#: Covariate of the propensity model -> its words (levels come from the data).
COVARIATE_WORDS = {
    "age_at_release": N_("age at release"),
    "sex": N_("sex"),
    "prior_convictions": N_("prior convictions"),
    "offense_category": N_("offense category"),
    "sentence_months": N_("sentence (months)"),
    "facility": N_("facility"),
    "release_year": N_("release year"),
}


def covariate_words(term: str, language: str = "en") -> str:
    """A covariate, or a balance-table term, in words: ``"sex[F]"`` -> ``"sex: female"``.

    A sex code is a word of the data contract; any other level (a facility's name) is
    data and stays as it is.

    Examples
    --------
    >>> covariate_words("age_at_release"), covariate_words("facility[North]", "fr")
    ('age at release', 'établissement : North')
    >>> covariate_words("sex[F]", "fr")
    'sexe : femme'
    """
    tr = translator(language)
    name, bracket, level = term.partition("[")
    words = tr(COVARIATE_WORDS[name]) if name in COVARIATE_WORDS else name
    if not bracket:
        return words
    level = level.removesuffix("]")
    if name == "sex" and level in SEX_WORDS:
        level = tr(SEX_WORDS[level])
    return tr("{covariate}: {level}", covariate=words, level=level)


def _covariate_name(term: str, tr: Translator) -> str:
    # English notes are the JSON contract's text, which names the column itself.
    return term if tr.language == "en" else covariate_words(term, tr.language)


def _covariate_empty(tr: Translator, params: Mapping[str, object]) -> str:
    return tr("covariate {name} is empty in this database and was left out",
              name=_covariate_name(str(params["name"]), tr))


def _covariate_constant(tr: Translator, params: Mapping[str, object]) -> str:
    return tr("covariate {name} has a single value and was left out",
              name=_covariate_name(str(params["name"]), tr))


def _imbalanced(tr: Translator, params: Mapping[str, object]) -> str:
    names = [_covariate_name(str(name), tr) for name in params["covariates"]]  # type: ignore[attr-defined]
    return tr("Some covariates remain imbalanced after adjustment (|SMD| > 0.1): {covariates}",
              covariates=("، " if tr.right_to_left else ", ").join(names))  # the Arabic comma


def _small_sample(tr: Translator, params: Mapping[str, object]) -> str:
    return tr.plural("Fewer than {n} participant: estimates are uncertain.",
                     "Fewer than {n} participants: estimates are uncertain.",
                     int(params["minimum"]))  # type: ignore[call-overload]


#: Codes of the notes on who was compared (:attr:`ImpactResult.notes`).
POST_RELEASE_LANDMARK = "post_release_landmark"
COVARIATE_EMPTY = "covariate_empty"
COVARIATE_CONSTANT = "covariate_constant"
IMBALANCED = "imbalanced"
#: Fewer than ``minimum`` participants: a warning, not a rule.
SMALL_SAMPLE = "small_sample"

#: Every code a :class:`Reason` may carry -> how it is written.
REASON_TEXTS: dict[str, Callable[[Translator, Mapping[str, object]], str]] = {
    NOT_REPORTED: _not_reported,
    FEW_OUTCOMES: _few_outcomes,
    MULTIPLE_COMPARISONS_CODE: _multiple_comparisons,
    POST_RELEASE_LANDMARK: _post_release,
    COVARIATE_EMPTY: _covariate_empty,
    COVARIATE_CONSTANT: _covariate_constant,
    IMBALANCED: _imbalanced,
    SMALL_SAMPLE: _small_sample,
}


def reason_text(reason: Reason, language: str = "en") -> str:
    """A rule's reason (or a note on the comparison) in ``language``.

    Examples
    --------
    >>> from analysis.impact.rules import judge
    >>> reason_text(judge(59, 20, 30, 0.001).reasons[0], "fr")
    "moins de 60 participants dont l'issue est connue (59) : aucun résultat n'est publié"
    >>> reason_text(Reason(FEW_OUTCOMES, {"minimum": 10}))
    'fewer than 10 people reoffended in a group: the difference cannot be called significant'
    """
    try:
        render = REASON_TEXTS[reason.code]
    except KeyError:
        raise ValueError(f"no wording for the reason code {reason.code!r}: expected one of "
                         f"{', '.join(REASON_TEXTS)}") from None
    return render(translator(language), reason.params)


def verdict_reasons(verdict: Verdict, language: str = "en") -> list[str]:
    """The verdict's reasons written in ``language``, in order.

    Examples
    --------
    >>> from analysis.impact.rules import judge
    >>> verdict_reasons(judge(200, 8, 30, 0.001), "sr")
    ['u jednoj grupi je manje od 10 osoba ponovo počinilo krivično delo: razlika ne može da se nazove statistički značajnom']
    """
    check_language(language)  # an unknown language is an error even with nothing to say
    return [reason_text(reason, language) for reason in verdict.reasons]


#: Attrition step code -> its name (the English name is the JSON's ``step`` value).
ATTRITION_STEPS: dict[str, str] = {
    "start": N_("releases with the programme / without it"),
    "completers": N_("comparison without non-completing participants"),
    "available": N_("programme available (same facility and period)"),
    "eligible": N_("eligible (covariates known)"),
    "matched": N_("matched"),
    "weighted": N_("weighted"),
}


def attrition_note(step: str, removed: int | str | None, language: str = "en") -> str:
    """What a step removed (``removed``: a count, or its label), in ``language``.

    Every note that counts starts with the count, as the JSON contract's ``note``.

    Examples
    --------
    >>> attrition_note("matched", 7), attrition_note("available", "<10", "fr")
    ('7 participants without a comparison person within the caliper', "<10 libérations provenant d'établissements ou de périodes sans le programme exclues")
    """
    tr = translator(language)
    if step == "weighted":
        return tr("every eligible release, weighted")
    if removed is None or (not isinstance(removed, str) and pd.isna(removed)):
        return ""
    form, n = _count(removed, tr)
    if step == "completers":
        return tr.plural("{count} release that took part without completing excluded",
                         "{count} releases that took part without completing excluded", form,
                         count=n)
    if step == "available":
        return tr.plural(
            "{count} release from facilities or periods without the programme excluded",
            "{count} releases from facilities or periods without the programme excluded",
            form, count=n)
    if step == "eligible":
        return tr.plural("{count} release with a missing numeric covariate excluded",
                         "{count} releases with a missing numeric covariate excluded", form,
                         count=n)
    if step == "matched":
        return tr.plural("{count} participant without a comparison person within the caliper",
                         "{count} participants without a comparison person within the caliper",
                         form, count=n)
    raise ValueError(f"unknown attrition step {step!r}: expected one of "
                     f"{', '.join(ATTRITION_STEPS)}")


def attrition_table(attrition: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """The attrition steps (codes and counts) as ``step, participants, comparison, note``.

    In English it is the ``attrition`` of the ``desist impact --json`` contract.
    Counts already hidden (labels) stay as they are; the label ``"hidden"`` is
    translated.

    Examples
    --------
    >>> steps = pd.DataFrame({"step": ["start", "matched"], "participants": [680, 673],
    ...     "comparison": [9000, 673], "removed": [None, 7]})
    >>> attrition_table(steps)["note"].tolist()
    ['', '7 participants without a comparison person within the caliper']
    """
    tr = translator(language)
    return pd.DataFrame({
        "step": [tr(ATTRITION_STEPS[step]) for step in attrition["step"]],
        "participants": [_label(v, tr) for v in attrition["participants"]],
        "comparison": [_label(v, tr) for v in attrition["comparison"]],
        "note": [attrition_note(step, removed, language)
                 for step, removed in zip(attrition["step"], attrition["removed"], strict=True)],
    })

