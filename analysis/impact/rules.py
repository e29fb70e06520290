"""Rules that keep impact results honest (after the UK Justice Data Lab).

- No result is reported for fewer than ``MIN_PARTICIPANTS`` participants with
  outcomes (people followed up to the horizon).
- A difference is called *significant* only when p ≤ ``ALPHA`` **and** each
  group has at least ``MIN_OUTCOMES_PER_GROUP`` people with the outcome.
- Sub-analyses (completers vs dropouts, women, age bands) obey the same rules.
- When several programmes are shown together, about 1 in 20 true null effects
  will look significant by chance: the note says so (:data:`MULTIPLE_COMPARISONS`).

A verdict carries codes and numbers, never sentences: :mod:`analysis.impact.wording`
writes them in the reader's language (``reason_text``, ``verdict_reasons``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MIN_PARTICIPANTS = 60
MIN_OUTCOMES_PER_GROUP = 10
ALPHA = 0.05

#: Fewer than ``minimum`` participants with outcomes (``n``): no result is reported.
NOT_REPORTED = "not_reported"
#: Fewer than ``minimum`` people reoffended in a group: no claim of significance.
FEW_OUTCOMES = "few_outcomes"
#: Several programmes are compared together: beware of chance findings.
MULTIPLE_COMPARISONS_CODE = "multiple_comparisons"


@dataclass(frozen=True)
class Reason:
    """Why a rule applies, as a code and the numbers its wording quotes.

    ``params`` is read as given, never changed in place: a published copy
    (:func:`analysis.impact.publication.for_publication`) replaces a count by its label
    (``"<10"``) with :meth:`with_params`. (A plain dict, so stored views can keep it.)

    Examples
    --------
    >>> Reason(NOT_REPORTED, {"n": 32, "minimum": 60}).with_params(n="<60")
    Reason(code='not_reported', params={'n': '<60', 'minimum': 60})
    """

    code: str
    params: dict[str, object] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted((k, str(v)) for k, v in self.params.items()))))

    def with_params(self, **params: object) -> Reason:
        """A copy with some numbers replaced (e.g. a hidden count by its label)."""
        return Reason(self.code, {**self.params, **params})


#: The note shown wherever several programmes are compared side by side.
MULTIPLE_COMPARISONS = Reason(MULTIPLE_COMPARISONS_CODE)


@dataclass(frozen=True)
class Verdict:
    """Whether a result may be shown, whether it may be called significant, and why not."""

    reportable: bool
    significant: bool
    reasons: tuple[Reason, ...]

    def has(self, code: str) -> bool:
        """True when one of the reasons has ``code``.

        Examples
        --------
        >>> judge(200, 8, 30, 0.001).has(FEW_OUTCOMES)
        True
        """
        return any(reason.code == code for reason in self.reasons)


def judge(
    participants_with_outcomes: int,
    participants_reoffending: int,
    comparison_reoffending: int,
    p_value: float | None,
) -> Verdict:
    """Apply the reporting rules.

    Examples
    --------
    >>> judge(59, 20, 30, 0.001).reportable
    False
    >>> judge(200, 8, 30, 0.001).significant
    False
    >>> judge(200, 40, 60, 0.01)
    Verdict(reportable=True, significant=True, reasons=())
    >>> judge(59, 20, 30, 0.001).reasons
    (Reason(code='not_reported', params={'n': 59, 'minimum': 60}),)
    """
    reasons: list[Reason] = []
    reportable = participants_with_outcomes >= MIN_PARTICIPANTS
    if not reportable:
        reasons.append(Reason(NOT_REPORTED, {"n": int(participants_with_outcomes),
                                             "minimum": MIN_PARTICIPANTS}))
    few = min(participants_reoffending, comparison_reoffending) < MIN_OUTCOMES_PER_GROUP
    if few:
        reasons.append(Reason(FEW_OUTCOMES, {"minimum": MIN_OUTCOMES_PER_GROUP}))
    significant = reportable and not few and p_value is not None and p_value <= ALPHA
    return Verdict(reportable, significant, tuple(reasons))

