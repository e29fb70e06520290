"""The impact headline's words in each language of the dashboard.

English is the reference (its output is a contract of the CLI, JSON and report). The
French, Arabic, Russian and Serbian (Latin script) texts were written by developers and
need review by native speakers before they are shown to an audience.

Counts of people agree with their number: Russian and Serbian have three forms (1 / 2–4
/ 5+, :func:`slavic_plural`), French two. Arabic sentences are built so that no noun has
to agree with a count ("… هو 7 فقط", "31 منهم"), and numbers stay Western digits.

Every language lists in ``small_counts`` the phrase that quotes a count of participants,
and how that phrase reads once the count is hidden as ``"<k"``: the hidden phrase always
uses the same form, because a singular form after ``"<10"`` would reveal a count of 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def slavic_plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian/Serbian form of a noun after the whole number ``n``.

    Examples
    --------
    >>> [slavic_plural(n, "год", "года", "лет") for n in (1, 3, 5, 11, 21, 22, 112)]
    ['год', 'года', 'лет', 'лет', 'год', 'года', 'лет']
    """
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def _arabic_counted(n: int, plural: str, accusative: str, singular: str) -> str:
    """Arabic noun after a number: 3–10 plural, 11–99 accusative singular, else singular."""
    rest = n % 100
    if 3 <= rest <= 10:
        return plural
    if 11 <= rest <= 99:
        return accusative
    return singular


@dataclass(frozen=True)
class SmallCount:
    """A phrase quoting a count of participants (``n``), and its text once hidden."""

    pattern: str  # a regular expression with a named group ``n``
    hidden: str  # the replacement, with ``{label}`` for "<k"


@dataclass(frozen=True)
class Wording:
    """Every piece of the impact headline in one language."""

    years: dict[int, str]
    months: Callable[[int], str]
    days: Callable[[int], str]
    results: Callable[[int, int, str, str], str]  # participants, comparison, when, range
    zero: str
    fewer: Callable[[int], str]
    more: Callable[[int], str]
    about: str  # {one}
    between: str  # {low} {high}
    reduction: str
    increase: str
    too_few: str
    not_significant: str
    not_reportable: Callable[[int, str, int], str]  # count, when, minimum
    small_counts: tuple[SmallCount, ...]


ENGLISH = Wording(
    years={365: "within a year", 730: "within two years", 1095: "within three years",
           1461: "within four years", 1826: "within five years"},
    months=lambda n: f"within {n} months",
    days=lambda n: f"within {n} days",
    results=lambda part, comp, when, range_: (
        f"For every 100 participants, {part} reoffended {when}, compared "
        f"with {comp} of 100 similar people who did not take part. "
        f"The true difference is likely {range_}."),
    zero="no difference",
    fewer=lambda n: f"{n} fewer",
    more=lambda n: f"{n} more",
    about="about {one} per 100 participants",
    between="between {low} and {high} per 100 participants",
    reduction=" This is a statistically significant reduction.",
    increase=" This is a statistically significant increase.",
    too_few=" Too few people reoffended to say whether the programme made a difference.",
    not_significant=(" This is not statistically significant: the analysis cannot tell "
                     "whether the programme changed reoffending."),
    not_reportable=lambda n, when, minimum: (
        f"No result can be reported: only {n} participants could be "
        f"followed up {when}, and at least {minimum} are "
        "needed for a reliable comparison."),
    small_counts=(SmallCount(r"only (?P<n>\d+) participants", "only {label} participants"),),
)


def _fr_reoffended(n: int) -> str:
    return "a récidivé" if n < 2 else "ont récidivé"


def _fr_followed(n: int) -> str:
    if n < 2:
        return f"seul {n} participant a pu être suivi"
    return f"seuls {n} participants ont pu être suivis"


FRENCH = Wording(
    years={365: "dans un délai d'un an", 730: "dans un délai de deux ans",
           1095: "dans un délai de trois ans", 1461: "dans un délai de quatre ans",
           1826: "dans un délai de cinq ans"},
    months=lambda n: f"dans un délai de {n} mois",
    days=lambda n: f"dans un délai de {n} {'jour' if n < 2 else 'jours'}",
    results=lambda part, comp, when, range_: (
        f"Sur 100 participants, {part} {_fr_reoffended(part)} {when}, contre {comp} sur "
        f"100 personnes comparables qui n'ont pas participé. La vraie différence se situe "
        f"probablement {range_}."),
    zero="zéro",
    fewer=lambda n: f"{n} de moins",
    more=lambda n: f"{n} de plus",
    about="autour de {one} pour 100 participants",
    between="entre {low} et {high} pour 100 participants",
    reduction=" Cette baisse est statistiquement significative.",
    increase=" Cette hausse est statistiquement significative.",
    too_few=(" Trop peu de personnes ont récidivé pour dire si le programme a changé "
             "quelque chose."),
    not_significant=(" Ce résultat n'est pas statistiquement significatif : l'analyse ne "
                     "permet pas de dire si le programme a changé la récidive."),
    not_reportable=lambda n, when, minimum: (
        f"Aucun résultat ne peut être publié : {_fr_followed(n)} {when}, et il en faut "
        f"au moins {minimum} pour une comparaison fiable."),
    small_counts=(SmallCount(
        r"seuls? (?P<n>\d+) (?:participant a pu être suivi|participants ont pu être suivis)",
        "seuls {label} participants ont pu être suivis"),),
)

ARABIC = Wording(
    years={365: "خلال سنة", 730: "خلال سنتين", 1095: "خلال ثلاث سنوات",
           1461: "خلال أربع سنوات", 1826: "خلال خمس سنوات"},
    months=lambda n: f"خلال {n} {_arabic_counted(n, 'أشهر', 'شهرًا', 'شهر')}",
    days=lambda n: f"خلال {n} {_arabic_counted(n, 'أيام', 'يومًا', 'يوم')}",
    results=lambda part, comp, when, range_: (
        f"من بين كل 100 مشارك، عاد {part} منهم إلى ارتكاب جريمة {when}، مقارنةً بـ{comp} "
        f"من كل 100 شخص مماثل لم يشاركوا في البرنامج. ويقع الفرق الحقيقي على الأرجح "
        f"{range_}."),
    zero="صفر",
    fewer=lambda n: f"{n} أقل",
    more=lambda n: f"{n} أكثر",
    about="حول {one} لكل 100 مشارك",
    between="بين {low} و{high} لكل 100 مشارك",
    reduction=" وهذا انخفاض ذو دلالة إحصائية.",
    increase=" وهذه زيادة ذات دلالة إحصائية.",
    too_few=(" عدد الذين عادوا إلى ارتكاب جريمة قليل جدًا بحيث لا يمكن القول إن كان "
             "البرنامج قد أحدث فرقًا."),
    not_significant=(" وهذه النتيجة ليست ذات دلالة إحصائية: لا يستطيع التحليل أن يحدد ما "
                     "إذا كان البرنامج قد غيّر العودة إلى ارتكاب الجرائم."),
    not_reportable=lambda n, when, minimum: (
        f"لا يمكن نشر أي نتيجة: عدد المشاركين الذين أمكنت متابعتهم {when} هو {n} فقط، "
        f"ويلزم {minimum} على الأقل لإجراء مقارنة موثوقة."),
    small_counts=(SmallCount(r"هو (?P<n>\d+) فقط", "هو {label} فقط"),),
)


def _ru_people(n: int) -> str:
    """'N человек совершил(и)': the subject in the nominative, the verb agreeing."""
    noun = slavic_plural(n, "человек", "человека", "человек")
    verb = slavic_plural(n, "совершил", "совершили", "совершили")
    return f"{n} {noun} {verb} повторное правонарушение"


def _ru_range(n: int, word: str) -> str:
    # After "от", "до" and "около" the count is in the genitive: 1 человека, 5 человек.
    return f"{n} {slavic_plural(n, 'человека', 'человек', 'человек')} {word}"


def _ru_followed(n: int) -> str:
    noun = slavic_plural(n, "участник", "участника", "участников")
    verb = slavic_plural(n, "был", "были", "были")
    return f"только {n} {noun} {verb} под наблюдением"


RUSSIAN = Wording(
    years={365: "в течение года", 730: "в течение двух лет", 1095: "в течение трёх лет",
           1461: "в течение четырёх лет", 1826: "в течение пяти лет"},
    months=lambda n: f"в течение {n} {slavic_plural(n, 'месяца', 'месяцев', 'месяцев')}",
    days=lambda n: f"в течение {n} {slavic_plural(n, 'дня', 'дней', 'дней')}",
    results=lambda part, comp, when, range_: (
        f"Из каждых 100 участников {_ru_people(part)} {when}, тогда как среди 100 похожих "
        f"людей, не участвовавших в программе, — {comp}. Истинная разница, вероятно, "
        f"составляет {range_}."),
    zero="нуля",
    fewer=lambda n: _ru_range(n, "меньше"),
    more=lambda n: _ru_range(n, "больше"),
    about="около {one} на 100 участников",
    between="от {low} до {high} на 100 участников",
    reduction=" Это статистически значимое снижение.",
    increase=" Это статистически значимый рост.",
    too_few=(" Слишком мало людей совершили повторное правонарушение, чтобы сказать, "
             "изменила ли программа что-либо."),
    not_significant=(" Это статистически незначимо: анализ не позволяет сказать, изменила "
                     "ли программа повторную преступность."),
    not_reportable=lambda n, when, minimum: (
        f"Результат не может быть опубликован: {_ru_followed(n)} {when}, а для надёжного "
        f"сравнения нужно не меньше {minimum}."),
    small_counts=(SmallCount(
        r"только (?P<n>\d+) (?:участник был|участника были|участников были)",
        "только {label} участников были"),),
)


def _sr_people(n: int) -> str:
    """'N osoba je počinilo': osoba (f.) 1 / osobe 2–4 / osoba 5+, the verb agreeing."""
    noun = slavic_plural(n, "osoba", "osobe", "osoba")
    verb = slavic_plural(n, "je ponovo počinila", "su ponovo počinile", "je ponovo počinilo")
    return f"{n} {noun} {verb} krivično delo"


def _sr_followed(n: int) -> str:
    words = slavic_plural(n, "učesnik je praćen", "učesnika su praćena",
                          "učesnika je praćeno")
    return f"samo {n} {words}"


SERBIAN = Wording(
    years={365: "u roku od godinu dana", 730: "u roku od dve godine",
           1095: "u roku od tri godine", 1461: "u roku od četiri godine",
           1826: "u roku od pet godina"},
    months=lambda n: f"u roku od {n} {slavic_plural(n, 'meseca', 'meseca', 'meseci')}",
    days=lambda n: f"u roku od {n} dana",
    results=lambda part, comp, when, range_: (
        f"Od svakih 100 učesnika, {_sr_people(part)} {when}, u poređenju sa {comp} od 100 "
        f"sličnih osoba koje nisu učestvovale. Stvarna razlika je verovatno {range_}."),
    zero="nule",
    fewer=lambda n: f"{n} manje",
    more=lambda n: f"{n} više",
    about="oko {one} na 100 učesnika",
    between="između {low} i {high} na 100 učesnika",
    reduction=" Ovo je statistički značajno smanjenje.",
    increase=" Ovo je statistički značajno povećanje.",
    too_few=(" Premalo osoba je ponovo počinilo krivično delo da bi se moglo reći da li je "
             "program nešto promenio."),
    not_significant=(" Ovo nije statistički značajno: analiza ne može da pokaže da li je "
                     "program promenio povratništvo."),
    not_reportable=lambda n, when, minimum: (
        f"Nijedan rezultat ne može da se objavi: {_sr_followed(n)} {when}, a za pouzdano "
        f"poređenje potrebno je najmanje {minimum}."),
    small_counts=(SmallCount(
        r"samo (?P<n>\d+) (?:učesnik je praćen|učesnika su praćena|učesnika je praćeno)",
        "samo {label} učesnika je praćeno"),),
)

#: Language code (as in ``dashboard/i18n.py``) -> wording.
WORDINGS: dict[str, Wording] = {
    "en": ENGLISH, "fr": FRENCH, "ar": ARABIC, "ru": RUSSIAN, "sr": SERBIAN,
}


def wording(language: str) -> Wording:
    """The wording of ``language``; an unknown code is an error, not a silent English.

    Examples
    --------
    >>> wording("fr").fewer(3)
    '3 de moins'
    """
    try:
        return WORDINGS[language]
    except KeyError:
        raise ValueError(f"language must be one of {', '.join(WORDINGS)}, "
                         f"not {language!r}") from None
