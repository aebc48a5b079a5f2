"""Reconfiguration: start-up delays, variant switches and what PAS reports, scale-down, batch changes."""

from __future__ import annotations

import numpy as np
import pytest
from simtest_helpers import assert_accounted, config, make_sim, variant

from ipa_energy.errors import BackendError
from ipa_energy.optimize.problem import Stage


def slow_stage() -> Stage:
    """Variant a: 1 s per request, 1 core, accuracy 0.5; variant b: 0.5 s, 2 cores, accuracy 0.9."""
    return Stage(
        "only",
        (
            variant("a", [(1, 1.0, 0.0), (2, 1.5, 0.0)], accuracy=0.5, cores=1),
            variant("b", [(1, 0.5, 0.0), (2, 0.8, 0.0)], accuracy=0.9, cores=2),
        ),
    )


@pytest.mark.parametrize(("startup_s", "second_latency_s"), [(3.0, 2.0), (0.5, 1.5)])
def test_a_new_replica_serves_only_after_its_startup(startup_s: float, second_latency_s: float) -> None:
    # two requests at 10.0; a second replica is added at 10.0. With a 3 s start-up the first replica
    # serves both (done 11 and 12); with 0.5 s the new replica takes the second at 10.5 (done 11.5).
    sim = make_sim([slow_stage()], [10.0, 10.0], config(("a", 1, 1)), replica_startup_s=startup_s)
    sim.run_until(10.0)
    sim.apply(config(("a", 1, 2)))
    sim.run_until(20.0)
    np.testing.assert_allclose(sim.summary().latencies_s, [1.0, second_latency_s])
    rec = sim.seconds()
    assert rec[10].cost_cores == 2  # a starting replica holds its cores
    assert rec[10].config.stages[0].replicas == (2 if startup_s < 1 else 1)  # serving at the end of 10
    assert rec[19].config.stages[0].replicas == 2


def test_a_variant_switch_lands_after_its_delay_and_pas_follows_the_serving_variant() -> None:
    # a -> b applied at 10 with a 4.5 s switch: b is ready at 14.5, then a retires.
    arrivals = [12.0, 14.2, 16.0]
    sim = make_sim([slow_stage()], arrivals, config(("a", 1, 1)), variant_switch_s=4.5, method="sum")
    sim.run_until(10.0)
    sim.apply(config(("b", 1, 1)))
    sim.run_until(20.0)
    rec = sim.seconds()
    # PAS reports the variant serving at the end of each second, not the one requested
    assert [r.pas for r in rec[9:16]] == [0.5, 0.5, 0.5, 0.5, 0.5, 0.9, 0.9]
    assert [r.config.stages[0].variant for r in rec[13:16]] == ["a", "b", "b"]
    # 12.0 is served by a (1 s); 14.2 starts on a just before the switch (a drains: done 15.2);
    # 16.0 is served by b (0.5 s)
    np.testing.assert_allclose(sim.summary().latencies_s, [1.0, 1.0, 0.5])
    # cost: a (1 core) until it retires, plus b (2 cores) from the moment the switch was requested
    assert [r.cost_cores for r in rec[8:17]] == [1, 1, 3, 3, 3, 3, 3, 2, 2]
    assert_accounted(sim)


def test_switching_back_before_the_switch_lands_cancels_the_new_replicas() -> None:
    sim = make_sim([slow_stage()], [], config(("a", 1, 2)), variant_switch_s=10.0)
    sim.run_until(10.0)
    sim.apply(config(("b", 1, 1)))
    sim.run_until(12.0)
    sim.apply(config(("a", 1, 2)))
    sim.run_until(30.0)
    rec = sim.seconds()
    assert [r.cost_cores for r in rec[9:13]] == [2, 4, 4, 2]
    assert all(r.pas == 0.5 for r in rec)


def test_scaling_up_a_variant_that_is_still_switching_in_lands_with_the_switch() -> None:
    sim = make_sim([slow_stage()], [], config(("a", 1, 1)), variant_switch_s=6.0, replica_startup_s=1.0)
    sim.run_until(10.0)
    sim.apply(config(("b", 1, 1)))
    sim.run_until(12.0)
    sim.apply(config(("b", 1, 3)))  # 2 more of b: start-up 1 s, but not before b lands at 16
    sim.run_until(20.0)
    rec = sim.seconds()
    assert [r.config.stages[0].replicas for r in rec[14:17]] == [1, 1, 3]
    assert [r.config.stages[0].variant for r in rec[14:17]] == ["a", "a", "b"]
    assert rec[17].cost_cores == 6


def test_scale_down_lets_a_busy_replica_finish_its_batch() -> None:
    # two replicas busy with 1 s requests from 10.0; scale to 1 at 10.5: one drains until 11.0
    sim = make_sim([slow_stage()], [10.0, 10.0], config(("a", 1, 2)))
    sim.run_until(10.5)
    sim.apply(config(("a", 1, 1)))
    sim.run_until(13.0)
    np.testing.assert_allclose(sim.summary().latencies_s, [1.0, 1.0])
    rec = sim.seconds()
    assert [r.cost_cores for r in rec[9:12]] == [2, 2, 1]
    assert rec[10].config.stages[0].replicas == 1


def test_scale_down_removes_idle_replicas_at_once() -> None:
    sim = make_sim([slow_stage()], [], config(("a", 1, 3)), idle_power_w_per_core=1.0)
    sim.run_until(10.0)
    sim.apply(config(("a", 1, 1)))
    sim.run_until(11.0)
    assert sim.seconds()[10].cost_cores == 1
    assert sim.seconds()[10].energy_j == pytest.approx(1.0)


def test_a_batch_size_change_applies_to_the_next_batch() -> None:
    # batch 2 with a long fill wait; at 5.0 the batch becomes 1: the lone request at 4.0 leaves at once
    sim = make_sim([slow_stage()], [4.0], config(("a", 2, 1)), max_batch_wait_s=100.0)
    sim.run_until(5.0)
    assert sim.summary().completed == 0
    sim.apply(config(("a", 1, 1)))
    sim.run_until(10.0)
    np.testing.assert_allclose(sim.summary().latencies_s, [2.0])


def test_applies_before_the_first_run_are_the_initial_deployment() -> None:
    sim = make_sim([slow_stage()], [0.5], None, replica_startup_s=50.0, variant_switch_s=50.0)
    sim.apply(config(("a", 1, 3)))
    sim.apply(config(("b", 1, 1)))  # replaces the first: one b replica, ready at t = 0
    sim.run_until(2.0)
    rec = sim.seconds()
    assert rec[0].cost_cores == 2 and rec[0].pas == 0.9
    np.testing.assert_allclose(sim.summary().latencies_s, [0.5])


def test_running_without_a_configuration_is_an_error() -> None:
    sim = make_sim([slow_stage()], [0.5], None)
    with pytest.raises(BackendError, match="no configuration"):
        sim.run_until(1.0)


def test_clock_follows_run_until_and_never_goes_back() -> None:
    sim = make_sim([slow_stage()], [0.5], config(("a", 1, 1)))
    assert sim.clock.now_s() == 0.0
    sim.run_until(3.5)
    assert sim.clock.now_s() == 3.5
    assert len(sim.seconds()) == 3 and list(sim.arrivals_per_second()) == [1.0, 0.0, 0.0]
    with pytest.raises(BackendError, match="before the simulated time"):
        sim.run_until(2.0)


def test_a_switch_landing_exactly_at_the_next_decision_is_seen_by_it() -> None:
    # a -> b at 10 with a 10 s switch lands at 20.0; run_until(20.0) includes it, so switching back to
    # a at 20.0 is a new switch (b serves until 30), not a cancellation of b
    sim = make_sim([slow_stage()], [], config(("a", 1, 1)), variant_switch_s=10.0)
    sim.run_until(10.0)
    sim.apply(config(("b", 1, 1)))
    sim.run_until(20.0)
    sim.apply(config(("a", 1, 1)))
    sim.run_until(35.0)
    variants = [r.config.stages[0].variant for r in sim.seconds()]
    assert variants[19:31] == ["a"] + ["b"] * 10 + ["a"]
