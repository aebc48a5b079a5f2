"""Energy logs (issue 14): corrupt readings are gaps with a note, never summed; run records parse."""

from __future__ import annotations

import pytest

from ipa_energy.cli.energy import exit_status
from ipa_energy.energy.formats import parse_text

PERF = "# started on x\n{rows}"


@pytest.mark.parametrize(
    ("rows", "total_j", "gaps", "phrase"),
    [
        ("1.0 10.0 Joules power/energy-pkg/\n2.0 -5.0 Joules power/energy-pkg/\n3.0 10.0 Joules power/energy-pkg/\n",
         20.0, 1, "negative or not finite"),
        ("1.0 10.0 Joules power/energy-pkg/\n2.0 10.0 Joules power/energy-pkg/\n1.5 99.0 Joules power/energy-pkg/\n",
         20.0, 1, "does not advance"),
        ("1.0,10.0,Joules,power/energy-pkg/\n1.0,10.0,Joules,power/energy-pkg/\n", 10.0, 1, "does not advance"),
    ],
)
def test_corrupt_readings_are_gaps_never_summed(rows: str, total_j: float, gaps: int, phrase: str) -> None:
    log = parse_text(PERF.format(rows=rows))
    pkg = log.domains["pkg"]
    assert pkg.total_energy_j == pytest.approx(total_j)
    assert pkg.gaps == gaps
    assert any(phrase in n for n in log.notes), log.notes
    assert pkg.mean_power_w is not None and pkg.mean_power_w > 0


def test_unitless_value_with_event_is_kept_and_flagged() -> None:
    log = parse_text("1.0,10.0,Joules,power/energy-pkg/\n2.0,12.0,,power/energy-pkg/\n")
    pkg = log.domains["pkg"]
    assert pkg.samples == 2 and pkg.flagged == 1 and pkg.total_energy_j == pytest.approx(22.0)


@pytest.mark.parametrize(
    "text",
    [
        "t_s,window_s,energy_j,power_w,energy_source,worker_cpu_s\n0,1.0,5.0,5.0,model,0.1\n1,1.0,6.0,6.0,model,0.1\n",
        "t_s,arrivals,completed,power_w,energy_j,energy_source,config\n0,3,3,5.0,5.0,model,a\n1,3,3,6.0,6.0,model,a\n",
    ],
)
def test_run_records_parse(text: str) -> None:
    log = parse_text(text)
    assert log.format == "ipa-energy-run"
    total = log.domains["total"]
    assert total.total_energy_j == pytest.approx(11.0) and total.covered_s == pytest.approx(2.0)


@pytest.mark.parametrize(("rc", "want"), [(0, 0), (3, 3), (-9, 137), (-15, 143), (-2, 130)])
def test_measure_exit_status(rc: int, want: int) -> None:
    assert exit_status(rc) == want
