from __future__ import annotations

import pytest

from ipa_energy.backends.base import PipelineConfig, StageConfig
from ipa_energy.backends.local.ledger import EnergySplit, Ledger

CONFIG = PipelineConfig((StageConfig("a", 1, 1), StageConfig("b", 2, 1)))


def close(ledger: Ledger, k: int, energy_j: float = 2.0) -> None:
    # idle 25 %, the stages 3:1 of the rest after a quarter of it stays unattributed
    split = EnergySplit(energy_j, energy_j / 4, 3 * energy_j / 4, (energy_j * 3 / 8, energy_j / 8),
                        energy_j / 2, "model (estimated)")
    ledger.close_second(
        k, energy=split, window_s=1.0, stage_cpu_s=ledger.take_stage_cpu_s(), cost_cores=2, pas=0.5,
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


def test_energy_rows_carry_the_split_and_the_cpu_of_the_second() -> None:
    led = Ledger(sla_s=1.0, n_stages=2)
    led.cpu(0, 0.3)
    led.cpu(1, 0.1)
    close(led, 0, energy_j=8.0)
    row, rec = led.energy_rows[0], led.records[0]
    assert (row["a_cpu_s"], row["b_cpu_s"]) == (0.3, 0.1)
    assert row["a_energy_j"] + row["b_energy_j"] + row["unattributed_energy_j"] == pytest.approx(8.0)
    assert rec.idle_energy_j + rec.dynamic_energy_j == pytest.approx(rec.energy_j)
    close(led, 1, energy_j=1.0)  # the CPU counters restart every second
    assert (led.energy_rows[1]["a_cpu_s"], led.energy_rows[1]["b_cpu_s"]) == (0.0, 0.0)


def test_a_split_that_does_not_add_up_is_refused() -> None:
    led = Ledger(sla_s=1.0, n_stages=2)
    bad = EnergySplit(2.0, 1.0, 0.5, (0.5, 0.5), 1.0, "x")
    with pytest.raises(ValueError, match="idle \\+ dynamic"):
        led.close_second(0, energy=bad, window_s=1.0, stage_cpu_s=(0.0, 0.0), cost_cores=2, pas=0.5,
                         queue_lengths=(0, 0), config=CONFIG, stage_names=("a", "b"))


def test_no_labels_means_no_accuracy() -> None:
    led = Ledger(sla_s=1.0, n_stages=1)
    led.complete(0.1, 0.1, correct=None)
    assert led.accuracy() is None


def test_an_event_stamped_in_a_closed_second_lands_in_the_first_open_one() -> None:
    # a completion whose time was read just before its second closed but reported after it (the Ray
    # router's tasks) is counted in the next record, so records always sum to the totals
    led = Ledger(sla_s=1.0, n_stages=2)
    led.arrival(0.2)
    led.arrival(0.3)
    led.complete(0.6, 0.4, correct=None)
    close(led, 0)
    led.complete(0.99, 0.7, correct=None)  # stamped in second 0, after it closed
    close(led, 1)
    assert [r.completed for r in led.records] == [1, 1]
    assert sum(r.completed for r in led.records) == led.completed == 2
