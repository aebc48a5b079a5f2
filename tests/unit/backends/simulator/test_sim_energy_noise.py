"""Energy (idle per core + profiled dynamic energy + node base) by hand, and seeded latency noise."""

from __future__ import annotations

import numpy as np
import pytest
from simtest_helpers import config, make_sim, one_stage, variant

from ipa_energy.optimize.problem import Stage


def two_core_stage() -> Stage:
    # one batch of 1 takes 0.5 s and 3 J of dynamic energy; 2 cores per replica
    return Stage("only", (variant("a", [(1, 0.5, 3.0)], cores=2),))


def test_energy_is_idle_plus_dynamic_plus_base_by_hand() -> None:
    # idle 5 W/core x 2 cores = 10 W; base 50 W; the batch 0.75 -> 1.25 puts 1.5 J in seconds 0 and 1
    sim = make_sim(
        [two_core_stage()], [0.75], config(("a", 1, 1)), idle_power_w_per_core=5.0, node_base_power_w=50.0
    )
    sim.run_until(3.0)
    rec = sim.seconds()
    assert [r.energy_j for r in rec] == pytest.approx([61.5, 61.5, 60.0])
    assert [r.power_w for r in rec] == [r.energy_j for r in rec]  # one-second records: W = J/s
    assert all(r.energy_source.startswith("model (estimated") for r in rec)
    # the split: idle 10 W + base 50 W each second; dynamic 1.5, 1.5, 0; the stage holds idle + dynamic
    assert [r.idle_energy_j for r in rec] == pytest.approx([60.0, 60.0, 60.0])
    assert [r.dynamic_energy_j for r in rec] == pytest.approx([1.5, 1.5, 0.0])
    assert [r.stage_energy_j for r in rec] == [pytest.approx((11.5,)), pytest.approx((11.5,)), pytest.approx((10.0,))]
    assert [r.unattributed_energy_j for r in rec] == pytest.approx([50.0, 50.0, 50.0])
    assert sim.summary().energy_j == pytest.approx(183.0)


def test_summary_energy_at_a_fractional_time_excludes_the_future_part_of_a_batch() -> None:
    # a batch 2.25 -> 2.75 (3 J); at 2.5 half of it has run: 1.5 J; idle + base for half a second: 30 J
    sim = make_sim(
        [two_core_stage()], [0.75, 2.25], config(("a", 1, 1)), idle_power_w_per_core=5.0,
        node_base_power_w=50.0,
    )
    sim.run_until(2.5)
    assert sim.summary().energy_j == pytest.approx(61.5 + 61.5 + 30.0 + 1.5)
    sim.run_until(3.0)
    assert sim.summary().energy_j == pytest.approx(61.5 + 61.5 + 63.0)


def test_starting_and_draining_replicas_draw_idle_power() -> None:
    stage = Stage("only", (variant("a", [(1, 1.0, 0.0)], cores=1), variant("b", [(1, 1.0, 0.0)], cores=4)))
    sim = make_sim([stage], [], config(("a", 1, 1)), idle_power_w_per_core=1.0, variant_switch_s=2.5)
    sim.run_until(1.0)
    sim.apply(config(("b", 1, 1)))  # b starting from 1.0, lands at 3.5 when a (idle) retires
    sim.run_until(5.0)
    assert [r.energy_j for r in sim.seconds()] == pytest.approx([1.0, 5.0, 5.0, 4.5, 4.0])


def test_dynamic_energy_of_a_partial_batch_is_interpolated() -> None:
    # batch 4 profile: b1 1 J, b4 4 J; a batch of 2 (fill wait expired) costs 2 J
    sim = make_sim([one_stage()], [0.0, 0.1], config(("a", 4, 1)), max_batch_wait_s=0.5)
    sim.run_until(2.0)
    assert sum(r.energy_j for r in sim.seconds()) == pytest.approx(2.0)


def test_noise_is_seeded_and_unbiased() -> None:
    stage = Stage("only", (variant("a", [(1, 0.01, 1.0)]),))
    arrivals = np.arange(0.0, 200.0, 0.05)  # 4000 requests, no queueing (20 rps vs 100 rps capacity)

    def run(seed: int) -> np.ndarray:
        sim = make_sim([stage], arrivals, config(("a", 1, 1)), latency_noise_cv=0.3, seed=seed)
        sim.run_until(210.0)
        return sim.summary().latencies_s

    a, b, c = run(1), run(1), run(2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.mean() == pytest.approx(0.01, rel=0.03)  # lognormal factor with mean 1
    assert a.std() / a.mean() == pytest.approx(0.3, rel=0.1)


def test_noise_scales_the_batch_energy_with_its_latency() -> None:
    stage = Stage("only", (variant("a", [(1, 0.01, 1.0)]),))
    sim = make_sim([stage], np.arange(0.0, 100.0, 0.1), config(("a", 1, 1)), latency_noise_cv=0.5, seed=3)
    sim.run_until(101.0)
    total_j = sum(r.energy_j for r in sim.seconds())
    lat = sim.summary().latencies_s
    assert total_j == pytest.approx(lat.sum() / 0.01 * 1.0)  # energy = profile energy x the same factor
