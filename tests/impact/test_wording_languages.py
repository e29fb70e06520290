"""The impact headline, the rules' reasons and the notes in every language, through the
catalogs of analysis.i18n and Babel's CLDR plural rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.i18n import LANGUAGES, translator
from analysis.impact.rules import (
    FEW_OUTCOMES,
    MULTIPLE_COMPARISONS,
    NOT_REPORTED,
    Reason,
    judge,
)
from analysis.impact.wording import (
    COVARIATE_CONSTANT,
    COVARIATE_EMPTY,
    IMBALANCED,
    POST_RELEASE_LANDMARK,
    REASON_TEXTS,
    SMALL_SAMPLE,
    attrition_note,
    covariate_words,
    horizon_words,
    impact_sentence,
    reason_text,
    verdict_reasons,
)

TRANSLATED = tuple(code for code in LANGUAGES if code != "en")
#: Unicode directional isolates that Arabic text puts around every number.
ISOLATES = re.compile("[\u2068\u2069]")


def plain(text: str) -> str:
    return ISOLATES.sub("", text)


def sentence(language: str, *, participants=300, reoffending=(90, 111), p=0.01,
             lower=-0.12, upper=-0.02, rate=0.30, horizon=730, shown=None) -> str:
    verdict = judge(participants, *reoffending, p)
    return plain(impact_sentence(
        participant_rate=rate, comparison_rate=0.37, difference_lower=lower,
        difference_upper=upper, horizon_days=horizon, verdict=verdict,
        participants_with_outcomes=participants if shown is None else shown,
        language=language))


def test_english_is_unchanged():
    assert sentence("en") == (
        "For every 100 participants, 30 reoffended within two years, compared with 37 of 100 "
        "similar people who did not take part. The true difference is likely between 12 "
        "fewer and 2 fewer per 100 participants. This is a statistically significant "
        "reduction.")
    assert sentence("en", reoffending=(90, 100), p=0.3, lower=-0.08, upper=0.04).endswith(
        "between 8 fewer and 4 more per 100 participants. This is not statistically "
        "significant: the analysis cannot tell whether the programme changed reoffending.")
    assert sentence("en", reoffending=(5, 100), lower=-0.03, upper=-0.03).endswith(
        "about 3 fewer per 100 participants. Too few people reoffended to say whether the "
        "programme made a difference.")
    assert sentence("en", lower=0.0, upper=0.0).endswith(
        "The true difference is likely about no difference per 100 participants. This is a "
        "statistically significant increase.")
    assert sentence("en", participants=20, horizon=182) == (
        "No result can be reported: only 20 participants could be followed up within 6 "
        "months, and at least 60 are needed for a reliable comparison.")
    assert verdict_reasons(judge(20, 5, 50, 0.01)) == [
        "fewer than 60 participants with outcomes (20): no result is reported",
        "fewer than 10 people reoffended in a group: the difference cannot be called "
        "significant"]
    assert reason_text(MULTIPLE_COMPARISONS) == (
        "Several programmes are compared here. With many comparisons, about one in twenty "
        "programmes with no real effect will still show a 'significant' difference by "
        "chance; read single significant results among many with caution.")


def test_verdicts_carry_codes_and_numbers_only():
    verdict = judge(20, 5, 50, 0.01)
    assert verdict.reasons == (Reason(NOT_REPORTED, {"n": 20, "minimum": 60}),
                               Reason(FEW_OUTCOMES, {"minimum": 10}))
    assert all(isinstance(value, int) for reason in verdict.reasons
               for value in reason.params.values())


# The opening words of each kind of sentence: significant, not significant, too few
# events, not reportable.
EXPECTED = {
    "fr": ("Sur 100 participants, 30 ont récidivé dans un délai de deux ans, contre 37 sur 100",
           "entre 12 de moins et 2 de moins pour 100 participants",
           "Cette baisse est statistiquement significative.",
           "n'est pas statistiquement significatif", "Trop peu de personnes ont récidivé",
           "Aucun résultat ne peut être publié : seuls 20 participants ont pu être suivis"),
    "ar": ("من بين كل 100 مشارك، عاد 30 منهم إلى ارتكاب جريمة خلال سنتين، مقارنةً بـ37",
           "بين 12 أقل و2 أقل لكل 100 مشارك", "وهذا انخفاض ذو دلالة إحصائية.",
           "ليست ذات دلالة إحصائية", "قليل جدًا",
           "لا يمكن نشر أي نتيجة: عدد المشاركين الذين أمكنت متابعتهم خلال 6 أشهر هو 20 فقط"),
    "ru": ("Из каждых 100 участников 30 человек совершили повторное правонарушение в течение "
           "двух лет", "от 12 человек меньше до 2 человек меньше на 100 участников",
           "Это статистически значимое снижение.", "Это статистически незначимо",
           "Слишком мало людей", "Результат не может быть опубликован: только 20 участников "
           "были под наблюдением в течение 6 месяцев"),
    "sr": ("Od svakih 100 učesnika, 30 osoba je ponovo počinilo krivično delo u roku od dve "
           "godine", "između 12 manje i 2 manje na 100 učesnika",
           "Ovo je statistički značajno smanjenje.", "Ovo nije statistički značajno",
           "Premalo osoba", "Nijedan rezultat ne može da se objavi: samo 20 učesnika je "
           "praćeno u roku od 6 meseci"),
}


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_kind_of_sentence_in_each_language(language):
    opening, range_, significant, unclear, too_few, not_reportable = EXPECTED[language]
    text = sentence(language)
    assert text.startswith(opening) and range_ in text and text.endswith(significant)
    assert unclear in sentence(language, reoffending=(90, 100), p=0.3, lower=-0.08,
                               upper=0.04)
    assert too_few in sentence(language, reoffending=(5, 100))
    assert sentence(language, participants=20, horizon=182).startswith(not_reportable)
    increase = sentence(language, lower=0.02, upper=0.12)
    assert increase.endswith(translator(language)(
        "This is a statistically significant increase."))
    for shown in (text, increase):
        assert not re.search("[a-z]{4,}", shown) or language in ("fr", "sr"), shown
        assert "fewer" not in shown and "within" not in shown


@pytest.mark.parametrize("language", TRANSLATED)
def test_reasons_are_translated_with_the_count_in_parentheses(language):
    reasons = [plain(r) for r in verdict_reasons(judge(20, 5, 50, 0.01), language)]
    english = verdict_reasons(judge(20, 5, 50, 0.01))
    assert len(reasons) == 2 and "(20)" in reasons[0] and "60" in reasons[0]
    assert all(r != e and "fewer than" not in r for r, e in zip(reasons, english, strict=True))


# Babel's CLDR rules choose the form: Russian one (1, 21) / few (3, 22) / many (5, 11).
@pytest.mark.parametrize(("language", "forms"), [
    ("ru", {1: "1 человек совершил ", 3: "3 человека совершили", 5: "5 человек совершили",
            11: "11 человек совершили", 21: "21 человек совершил ",
            22: "22 человека совершили"}),
    ("sr", {1: "1 osoba je ponovo počinila", 3: "3 osobe su ponovo počinile",
            5: "5 osoba je ponovo počinilo", 21: "21 osoba je ponovo počinila",
            22: "22 osobe su ponovo počinile"}),
    # French counts 0 and 1 as singular.
    ("fr", {0: "0 a récidivé", 1: "1 a récidivé", 2: "2 ont récidivé"}),
])
def test_plurals_of_people_who_reoffended(language, forms):
    for n, words in forms.items():
        assert words in sentence(language, rate=n / 100), (n, words)


@pytest.mark.parametrize(("language", "forms"), [
    ("ru", {1: "только 1 участник был", 3: "только 3 участника были",
            5: "только 5 участников были", 21: "только 21 участник был",
            22: "только 22 участника были"}),
    ("sr", {1: "samo 1 učesnik je praćen", 3: "samo 3 učesnika su praćena",
            5: "samo 5 učesnika je praćeno", 21: "samo 21 učesnik je praćen"}),
    ("fr", {0: "seul 0 participant a pu être suivi", 1: "seul 1 participant a pu être suivi",
            2: "seuls 2 participants ont pu", 21: "seuls 21 participants ont pu"}),
    ("en", {1: "only 1 participant could", 2: "only 2 participants could"}),
])
def test_plurals_of_participants_followed_up(language, forms):
    for n, words in forms.items():
        assert words in sentence(language, participants=n), (n, words)


# Arabic has six forms: zero, one (the noun alone), two (the dual), few (3-10),
# many (11-99), other (100...).
@pytest.mark.parametrize(("days", "words"), [
    (0, "خلال 0 يوم"), (1, "خلال يوم واحد"), (2, "خلال يومين"), (3, "خلال 3 أيام"),
    (11, "خلال 11 يومًا"), (100, "خلال 100 يوم"),
])
def test_arabic_plural_forms_of_days(days, words):
    assert plain(horizon_words(days, language="ar")) == words


@pytest.mark.parametrize(("language", "days", "words"), [
    ("fr", 365, "dans un délai d'un an"), ("ar", 1095, "خلال ثلاث سنوات"),
    ("ru", 182, "в течение 6 месяцев"), ("ru", 640, "в течение 21 месяца"),
    ("ru", 669, "в течение 22 месяцев"), ("ru", 1, "в течение 1 дня"),
    ("sr", 182, "u roku od 6 meseci"), ("sr", 91, "u roku od 91 dana"),
    ("ar", 182, "خلال 6 أشهر"), ("ar", 45, "خلال 45 يومًا"),
    ("fr", 1, "dans un délai de 1 jour"), ("fr", 2, "dans un délai de 2 jours"),
    ("en", 1, "within 1 day"), ("en", 45, "within 45 days"),
])
def test_horizon_words_in_every_language(language, days, words):
    assert plain(horizon_words(days, language=language)) == words


def test_an_unknown_language_is_an_error():
    with pytest.raises(ValueError, match="language"):
        horizon_words(365, language="de")
    with pytest.raises(ValueError, match="language"):
        verdict_reasons(judge(100, 20, 20, 0.1), "de")


#: One example of every reason code, with the numbers its words quote.
EXAMPLES = {
    NOT_REPORTED: {"n": 32, "minimum": 60},
    FEW_OUTCOMES: {"minimum": 10},
    MULTIPLE_COMPARISONS.code: {},
    POST_RELEASE_LANDMARK: {"day": 90},
    COVARIATE_EMPTY: {"name": "sentence_months"},
    COVARIATE_CONSTANT: {"name": "sex"},
    IMBALANCED: {"covariates": ("age_at_release", "facility[North]")},
    SMALL_SAMPLE: {"minimum": 100},
}


def test_every_reason_code_has_an_example():
    assert set(EXAMPLES) == set(REASON_TEXTS)
    with pytest.raises(ValueError, match="no wording for the reason code 'nope'"):
        reason_text(Reason("nope"))


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("code", sorted(REASON_TEXTS))
def test_every_reason_code_is_written_in_every_language(language, code):
    reason = Reason(code, EXAMPLES[code])
    english, text = reason_text(reason), plain(reason_text(reason, language))
    assert text and text != english, (code, text)
    names = code in (COVARIATE_EMPTY, COVARIATE_CONSTANT, IMBALANCED)
    for value in EXAMPLES[code].values():  # the numbers and names it quotes
        for part in value if isinstance(value, tuple) else (value,):
            quoted = plain(covariate_words(part, language)) if names else str(part)
            assert quoted in text, (code, quoted, text)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("count", [1, 3, 5, 9, 21])
def test_a_hidden_count_never_shows_and_takes_one_form(language, count):
    """A count hidden as "<10" reads the same whatever it hides (a singular would give
    away a count of 1)."""
    verdict = judge(count, 0, 0, None)
    hidden = sentence(language, participants=count, reoffending=(0, 0), shown="<10")
    same = sentence(language, participants=1, reoffending=(0, 0), shown="<10")
    reason = plain(reason_text(verdict.reasons[0].with_params(n="<10"), language))
    for shown in (hidden, reason):
        assert "<10" in shown
        assert str(count) not in re.findall(r"(?<![<\d])\d+", shown), shown
    assert hidden == same
    note = plain(attrition_note("matched", "<10", language))
    assert note == plain(attrition_note("matched", 100, language)).replace("100", "<10")


def test_hidden_secondary_counts_are_worded():
    assert attrition_note("available", "hidden") == (
        "hidden releases from facilities or periods without the programme excluded")
    assert attrition_note("available", "hidden", "fr").startswith("masqué")


def test_no_hand_written_plural_rule_is_left():
    impact = Path(__file__).resolve().parents[2] / "analysis" / "impact"
    assert not (impact / "wording_locales.py").exists()
    for path in impact.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "% 10" not in source and "slavic_plural" not in source, path
