"""A composite meter (what ``auto`` returns) whose CPU part is a process-mode estimate says so."""

from __future__ import annotations

import os

from ipa_energy.energy import get_meter
from ipa_energy.energy.auto import CompositeMeter
from ipa_energy.energy.scope import energy_scope


def test_composite_reports_process_mode_of_its_part() -> None:
    part = get_meter("model", pids=[os.getpid()])
    m = CompositeMeter([part])
    assert m.process_mode is True
    assert energy_scope(m) == "serving processes (estimated from their CPU time)"
    whole = CompositeMeter([get_meter("model")])
    assert whole.process_mode is False
    assert energy_scope(whole).startswith("whole-machine")
