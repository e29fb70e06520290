"""The impact headline and the rules' reasons in every language of the dashboard."""

from __future__ import annotations

import re

import pytest

from analysis.disclosure import DisclosurePolicy
from analysis.impact.publication import hide_small_mentions
from analysis.impact.rules import judge
from analysis.impact.wording import horizon_words, impact_sentence
from analysis.impact.wording_locales import WORDINGS, slavic_plural

LANGUAGES = tuple(WORDINGS)
TRANSLATED = tuple(code for code in LANGUAGES if code != "en")
POLICY = DisclosurePolicy(k=10)


def sentence(language: str, *, participants=300, reoffending=(90, 111), p=0.01,
             lower=-0.12, upper=-0.02, rate=0.30, horizon=730) -> str:
    verdict = judge(participants, *reoffending, p, language=language)
    return impact_sentence(participant_rate=rate, comparison_rate=0.37,
                           difference_lower=lower, difference_upper=upper,
                           horizon_days=horizon, verdict=verdict,
                           participants_with_outcomes=participants, language=language)


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
    assert sentence("en", participants=20, horizon=182) == (
        "No result can be reported: only 20 participants could be followed up within 6 "
        "months, and at least 60 are needed for a reliable comparison.")
    assert judge(20, 5, 50, 0.01).reasons == (
        "fewer than 60 participants with outcomes (20): no result is reported",
        "fewer than 10 people reoffended in a group: the difference cannot be called "
        "significant")


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
    assert increase.endswith(WORDINGS[language].increase)
    for shown in (text, increase):
        assert not re.search("[a-z]{4,}", shown) or language in ("fr", "sr"), shown
        assert "fewer" not in shown and "within" not in shown


@pytest.mark.parametrize("language", TRANSLATED)
def test_reasons_are_translated_with_the_count_in_parentheses(language):
    reasons = judge(20, 5, 50, 0.01, language=language).reasons
    assert len(reasons) == 2 and "(20)" in reasons[0]
    assert all("fewer than" not in r for r in reasons)
    # A result with too few events is still worded as such in that language.
    assert WORDINGS[language].too_few.strip() in sentence(language, reoffending=(5, 100))


@pytest.mark.parametrize(("language", "forms"), [
    ("ru", {1: "1 человек совершил", 3: "3 человека совершили", 5: "5 человек совершили",
            21: "21 человек совершил"}),
    ("sr", {1: "1 osoba je ponovo počinila", 3: "3 osobe su ponovo počinile",
            5: "5 osoba je ponovo počinilo", 21: "21 osoba je ponovo počinila"}),
])
def test_slavic_plurals_of_people_who_reoffended(language, forms):
    for n, words in forms.items():
        assert words in sentence(language, rate=n / 100), (n, words)


@pytest.mark.parametrize(("language", "forms"), [
    ("ru", {1: "только 1 участник был", 3: "только 3 участника были",
            5: "только 5 участников были", 21: "только 21 участник был"}),
    ("sr", {1: "samo 1 učesnik je praćen", 3: "samo 3 učesnika su praćena",
            5: "samo 5 učesnika je praćeno", 21: "samo 21 učesnik je praćen"}),
    ("fr", {1: "seul 1 participant a pu être suivi", 3: "seuls 3 participants ont pu",
            5: "seuls 5 participants ont pu", 21: "seuls 21 participants ont pu"}),
])
def test_plurals_of_participants_followed_up(language, forms):
    for n, words in forms.items():
        assert words in sentence(language, participants=n), (n, words)


def test_slavic_plural_rule():
    forms = [slavic_plural(n, "one", "few", "many") for n in (1, 3, 5, 11, 12, 21, 24, 111)]
    assert forms == ["one", "few", "many", "many", "many", "one", "few", "many"]


@pytest.mark.parametrize(("language", "days", "words"), [
    ("fr", 365, "dans un délai d'un an"), ("ar", 1095, "خلال ثلاث سنوات"),
    ("ru", 182, "в течение 6 месяцев"), ("ru", 640, "в течение 21 месяца"),
    ("sr", 182, "u roku od 6 meseci"), ("sr", 91, "u roku od 91 dana"),
    ("ar", 182, "خلال 6 أشهر"), ("ar", 45, "خلال 45 يومًا"),
])
def test_horizon_words_in_other_languages(language, days, words):
    assert horizon_words(days, language=language) == words


def test_an_unknown_language_is_an_error():
    with pytest.raises(ValueError, match="language"):
        horizon_words(365, language="de")
    with pytest.raises(ValueError, match="language"):
        judge(100, 20, 20, 0.1, language="de")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("count", [1, 3, 5, 9, 21])
def test_small_counts_never_show_in_any_language(language, count):
    text = sentence(language, participants=count, reoffending=(0, 0))
    not_reported = judge(count, 0, 0, None, language=language).reasons[0]
    for shown in (text, not_reported):
        hidden = hide_small_mentions(shown, POLICY)
        numbers = {int(n) for n in re.findall(r"(?<![<\d])\d+", hidden)}
        assert count not in numbers or count >= POLICY.k, hidden
        if count < POLICY.k:
            assert "<10" in hidden, hidden
    hidden = hide_small_mentions(text, POLICY)
    if count >= POLICY.k:
        assert hidden == text
    elif language in ("ru", "sr", "fr"):
        # The same noun form whatever the hidden count, so it cannot give away a 1.
        same = hide_small_mentions(sentence(language, participants=1, reoffending=(0, 0)),
                                   POLICY)
        assert hidden == same


def test_hiding_is_idempotent_and_leaves_large_counts():
    for language in LANGUAGES:
        large = sentence(language, participants=45)
        assert hide_small_mentions(large, POLICY) == large and "45" in large
        small = hide_small_mentions(sentence(language, participants=4), POLICY)
        assert hide_small_mentions(small, POLICY) == small
