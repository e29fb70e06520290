"""The demo writes the data contract's codes, taken from analysis.contract."""

from __future__ import annotations

import dataclasses

import pytest

from analysis.contract import EVENT_TYPES, FOLLOW_UP_END_REASONS, PARTICIPATION_STATUSES
from analysis.demo import simulate
from analysis.demo.model import default_programs
from analysis.errors import AnalysisError


def test_simulation_codes_are_positions_in_the_contract_tuples():
    assert [EVENT_TYPES[c] for c in (simulate.REARREST, simulate.RECONVICTION,
                                     simulate.REINCARCERATION, simulate.VIOLATION)] == [
        "rearrest", "reconviction", "reincarceration", "violation"]
    assert [PARTICIPATION_STATUSES[c] for c in (simulate.COMPLETED, simulate.DROPPED_OUT,
                                                simulate.ONGOING, simulate.OTHER_STATUS)] == [
        "completed", "dropped_out", "ongoing", "other"]
    assert FOLLOW_UP_END_REASONS[simulate.DATA_CUTOFF] == "data_cutoff"
    assert [FOLLOW_UP_END_REASONS[c] for c in simulate._EXIT_CODES] == [
        "death", "deportation", "emigration"]


@pytest.mark.parametrize("field", ["category", "setting"])
def test_a_programme_outside_the_contract_codes_is_refused(field):
    program = default_programs()[0]
    with pytest.raises(AnalysisError, match=f"{program.program_id}: {field} 'nonsense'"):
        dataclasses.replace(program, **{field: "nonsense"})
