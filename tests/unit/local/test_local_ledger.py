from __future__ import annotations

import pytest

from ipa_energy.backends.base import PipelineConfig, StageConfig
from ipa_energy.backends.local.ledger import Ledger

CONFIG = PipelineConfig((StageConfig("a", 1, 1), StageConfig("b", 2, 1)))


def close(ledger: Ledger, k: int, energy_j: float = 2.0) -> None:
    ledger.close_second(
        k, energy_j=energy_j, window_s=1.0, energy_source="model (estimated)", cost_cores=2, pas=0.5,
        queue_lengths=(0, 1), config=CONFIG, stage_names=("a", "b"),
    )


def test_events_are_filed_per_second_and_totalled() -> None:
    led = Ledger(sla_s=1.0, n_stages=2)
    for t in (0.1, 0.5, 1.2):
        led.arrival(t)
    led.complete(0.9, 0.4, correct=True)
    led.complete(1.5, 1.3, correct=False)  # late
    led.drop(1.7)
    close(led, 0)
    close(led, 1)
    r0, r1 = led.records
    assert (r0.arrivals, r0.completed, r0.late) == (2, 1, 0)
    assert (r1.arrivals, r1.completed, r1.late, r1.dropped) == (1, 1, 1, 1)
    s = led.summary(in_flight=0, duration_s=2.0)
    assert s.sent == s.completed + s.dropped + s.failed + s.in_flight
    assert led.accuracy() == 0.5
    assert s.energy_j == pytest.approx(4.0)


def test_energy_is_attributed_by_worker_cpu_time() -> None:
    led = Ledger(sla_s=1.0, n_stages=2)
    led.cpu(0, 0.3)
    led.cpu(1, 0.1)
    close(led, 0, energy_j=8.0)
    row = led.energy_rows[0]
    assert row["a_energy_j"] == pytest.approx(6.0) and row["b_energy_j"] == pytest.approx(2.0)
    close(led, 1, energy_j=1.0)  # no CPU reported: split evenly, never lost
    assert led.energy_rows[1]["a_energy_j"] + led.energy_rows[1]["b_energy_j"] == pytest.approx(1.0)


def test_no_labels_means_no_accuracy() -> None:
    led = Ledger(sla_s=1.0, n_stages=1)
    led.complete(0.1, 0.1, correct=None)
    assert led.accuracy() is None
