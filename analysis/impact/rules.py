"""Rules that keep impact results honest (after the UK Justice Data Lab).

- No result is reported for fewer than ``MIN_PARTICIPANTS`` participants with
  outcomes (people followed up to the horizon).
- A difference is called *significant* only when p ≤ ``ALPHA`` **and** each
  group has at least ``MIN_OUTCOMES_PER_GROUP`` people with the outcome.
- Sub-analyses (completers vs dropouts, women, age bands) obey the same rules.
- When several programmes are shown together, about 1 in 20 true null effects
  will look significant by chance: the note says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.impact.wording_locales import slavic_plural

MIN_PARTICIPANTS = 60
MIN_OUTCOMES_PER_GROUP = 10
ALPHA = 0.05

MULTIPLE_COMPARISONS_NOTE = (
    "Several programmes are compared here. With many comparisons, about one in twenty "
    "programmes with no real effect will still show a 'significant' difference by chance; "
    "read single significant results among many with caution."
)


@dataclass(frozen=True)
class Verdict:
    """Whether a result may be shown, and whether it may be called significant."""

    reportable: bool
    significant: bool
    reasons: tuple[str, ...]


#: Why no result is reported, per language; ``{n}`` is the count of participants.
NOT_REPORTED_REASONS: dict[str, str] = {
    "en": f"fewer than {MIN_PARTICIPANTS} participants with outcomes ({{n}}): "
          "no result is reported",
    "fr": f"moins de {MIN_PARTICIPANTS} participants dont l'issue est connue ({{n}}) : "
          "aucun résultat n'est publié",
    "ar": f"أقل من {MIN_PARTICIPANTS} مشاركًا معروفة نتائجهم ({{n}}): لا تُنشر أي نتيجة",
    "ru": f"меньше {MIN_PARTICIPANTS} "
          f"{slavic_plural(MIN_PARTICIPANTS, 'участника', 'участников', 'участников')} с известным "
          "исходом ({n}): результат не публикуется",
    "sr": f"manje od {MIN_PARTICIPANTS} učesnika sa poznatim ishodom ({{n}}): "
          "nijedan rezultat se ne objavljuje",
}
#: Why a difference cannot be called significant, per language.
FEW_OUTCOMES_REASONS: dict[str, str] = {
    "en": f"fewer than {MIN_OUTCOMES_PER_GROUP} people reoffended in a group: "
          "the difference cannot be called significant",
    "fr": f"moins de {MIN_OUTCOMES_PER_GROUP} personnes ont récidivé dans un groupe : "
          "la différence ne peut pas être dite significative",
    "ar": f"عدد الذين عادوا إلى ارتكاب جريمة في إحدى المجموعتين أقل من "
          f"{MIN_OUTCOMES_PER_GROUP}: لا يمكن وصف الفرق بأنه ذو دلالة إحصائية",
    "ru": f"в одной из групп повторное правонарушение совершили меньше "
          f"{MIN_OUTCOMES_PER_GROUP} "
          f"{slavic_plural(MIN_OUTCOMES_PER_GROUP, 'человека', 'человек', 'человек')}: "
          "разницу нельзя назвать статистически значимой",
    "sr": f"u jednoj grupi je manje od {MIN_OUTCOMES_PER_GROUP} osoba ponovo počinilo "
          "krivično delo: razlika ne može da se nazove statistički značajnom",
}


def judge(
    participants_with_outcomes: int,
    participants_reoffending: int,
    comparison_reoffending: int,
    p_value: float | None,
    *,
    language: str = "en",
) -> Verdict:
    """Apply the reporting rules; the reasons are written in ``language``.

    Examples
    --------
    >>> judge(59, 20, 30, 0.001).reportable
    False
    >>> judge(200, 8, 30, 0.001).significant
    False
    >>> judge(200, 40, 60, 0.01)
    Verdict(reportable=True, significant=True, reasons=())
    >>> judge(59, 20, 30, 0.001, language="fr").reasons
    ("moins de 60 participants dont l'issue est connue (59) : aucun résultat n'est publié",)
    """
    if language not in NOT_REPORTED_REASONS:
        raise ValueError(f"language must be one of {', '.join(NOT_REPORTED_REASONS)}, "
                         f"not {language!r}")
    reasons: list[str] = []
    reportable = participants_with_outcomes >= MIN_PARTICIPANTS
    if not reportable:
        reasons.append(NOT_REPORTED_REASONS[language].format(n=participants_with_outcomes))
    few = min(participants_reoffending, comparison_reoffending) < MIN_OUTCOMES_PER_GROUP
    if few:
        reasons.append(FEW_OUTCOMES_REASONS[language])
    significant = reportable and not few and p_value is not None and p_value <= ALPHA
    return Verdict(reportable, significant, tuple(reasons))
