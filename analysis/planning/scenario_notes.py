"""What a scale-up scenario cannot show, and why: note codes and their words.

A scenario's result carries codes (``ScenarioAnalysis.notes``, the ``notes`` of
``desist scenario --json``); :data:`NOTES` maps each to its English text, the msgid the
catalogs translate, so the CLI, the dashboard and notebooks word them in the reader's
language. :func:`scenario_notes` decides which apply, from the inputs alone.
"""

from __future__ import annotations

from analysis.i18n import N_
from analysis.planning.scenario_inputs import ScenarioInputs

#: Note code -> its words (rendered in the reader's language by ``note_texts``).
NOTES = {
    "reoffending_effect_not_reportable": N_(
        "The programme's effect on reoffending cannot be reported (too few participants "
        "with a known outcome): scaling it up may change nothing, and no reoffences "
        "avoided are given."),
    "reoffending_effect_not_significant": N_(
        "The evaluation does not show that the programme reduces reoffending: scaling it "
        "up may change nothing, and the ranges of reoffences avoided include no change."),
    "returns_effect_not_reportable": N_(
        "The programme's effect on returns to custody cannot be reported (too few "
        "participants with a known outcome): no returns avoided, prison beds or custody "
        "costs saved are given."),
    "returns_effect_not_significant": N_(
        "The evaluation does not show that the programme reduces returns to custody: it "
        "may save no prison bed and no custody cost, and the ranges shown include no "
        "change."),
    "returns_effect_unavailable": N_(
        "The effect on returns to custody could not be evaluated (no reincarceration "
        "events, or too few to compare): no returns avoided, prison beds or custody costs "
        "saved are given."),
    "custody_days_unknown": N_(
        "Too few returns to custody are recorded to know how long people stay: enter a "
        "mean time in custody after a return to see the prison beds and custody costs "
        "saved."),
    "custody_days_still_in_custody": N_(
        "Many people who returned to custody are still there: the mean time in custody, "
        "and so the beds and costs saved, may be underestimated."),
    "custody_cost_not_given": N_(
        "No custody cost per day was entered: no money figures are given."),
    "programme_cost_unknown": N_(
        "The programme's cost per participant is not recorded in the programmes table: "
        "no money figures are given."),
}
#: Above this share still in custody at the longest observed stay, the mean may be low.
STILL_IN_CUSTODY_WARNING = 0.10


def scenario_notes(inputs: ScenarioInputs) -> tuple[str, ...]:
    """The note codes (:data:`NOTES`) that apply to ``inputs``, in reading order.

    Examples
    --------
    >>> scenario_notes(ScenarioInputs("VOC", 10, 1, None, None, None))
    ('reoffending_effect_not_reportable', 'returns_effect_unavailable', 'custody_days_unknown', 'custody_cost_not_given', 'programme_cost_unknown')
    """
    notes = []
    for name, effect in (("reoffending", inputs.reoffending), ("returns", inputs.returns)):
        if effect is None:
            notes.append(f"{name}_effect_unavailable" if name == "returns"
                         else f"{name}_effect_not_reportable")
        elif not effect.reportable:
            notes.append(f"{name}_effect_not_reportable")
        elif not effect.significant:
            notes.append(f"{name}_effect_not_significant")
    custody = inputs.custody
    if custody is None:
        notes.append("custody_days_unknown")
    elif (custody.still_in_custody or 0.0) > STILL_IN_CUSTODY_WARNING:
        notes.append("custody_days_still_in_custody")
    if inputs.custody_cost_per_day is None:
        notes.append("custody_cost_not_given")
    if inputs.cost_per_participant is None:
        notes.append("programme_cost_unknown")
    return tuple(notes)
