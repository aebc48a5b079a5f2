"""The simulator against cases whose answer is known in closed form or by hand."""

from __future__ import annotations

import numpy as np
import pytest
from simtest_helpers import assert_accounted, config, make_sim, one_stage, variant

from ipa_energy.optimize.problem import Stage


def test_batch1_single_replica_below_capacity_latency_is_the_service_time() -> None:
    arrivals = np.arange(0.0, 50.0, 0.5)  # 2 rps against a 0.1 s service: never a queue
    sim = make_sim([one_stage()], arrivals, config(("a", 1, 1)))
    sim.run_until(60.0)
    s = sim.summary()
    assert s.completed == arrivals.size and s.dropped == 0 and s.in_flight == 0
    np.testing.assert_allclose(s.latencies_s, 0.1, rtol=0, atol=1e-12)
    assert_accounted(sim)


def test_md1_mean_wait_matches_pollaczek_khinchine() -> None:
    # M/D/1: Poisson arrivals at 50 rps, deterministic 10 ms service: rho = 0.5
    lam, d = 50.0, 0.01
    rho = lam * d
    rng = np.random.default_rng(7)
    arrivals = np.cumsum(rng.exponential(1 / lam, 60_000))
    stage = Stage("only", (variant("a", [(1, d, 0.0)]),))
    sim = make_sim([stage], arrivals, config(("a", 1, 1)), drop_limit_s=1e9)
    sim.run_until(float(arrivals[-1]) + 1.0)
    s = sim.summary()
    assert s.completed == arrivals.size
    waits = s.latencies_s - d
    pk = rho * d / (2 * (1 - rho))  # Pollaczek-Khinchine mean wait in queue
    assert waits.mean() == pytest.approx(pk, rel=0.05)
    # and P(no wait) = 1 - rho (an arrival finds the server idle)
    assert np.mean(waits < 1e-12) == pytest.approx(1 - rho, abs=0.02)


def test_batching_trace_by_hand() -> None:
    # batch 4, wait 1 s. 0, .1, .2, .3 fill a batch at 0.3 (0.4 s): done 0.7.
    # 2.0 and 2.5 wait until 3.0 (2.0 + 1 s), then a batch of 2 (0.2 s, interpolated): done 3.2.
    sim = make_sim([one_stage()], [0.0, 0.1, 0.2, 0.3, 2.0, 2.5], config(("a", 4, 1)), max_batch_wait_s=1.0)
    sim.run_until(5.0)
    s = sim.summary()
    np.testing.assert_allclose(s.latencies_s, [0.7, 0.6, 0.5, 0.4, 1.2, 0.7], atol=1e-12)
    rec = sim.seconds()
    assert [r.completed for r in rec] == [4, 0, 0, 2, 0]
    assert rec[2].queue_lengths == (2,)  # waiting to fill at the end of second 2


def test_requests_arriving_during_the_fill_wait_join_the_batch() -> None:
    # batch 4, wait 1 s: request 0 alone at 0 sets the deadline 1.0; 0.2 and 0.5 join; at 1.0 the batch
    # leaves with 3 requests (0.3 s, interpolated): done 1.3.
    sim = make_sim([one_stage()], [0.0, 0.2, 0.5], config(("a", 4, 1)), max_batch_wait_s=1.0)
    sim.run_until(3.0)
    np.testing.assert_allclose(sim.summary().latencies_s, [1.3, 1.1, 0.8], atol=1e-12)


def test_fill_wait_counts_from_the_oldest_request_not_from_the_replica_becoming_free() -> None:
    # wait 0.2 s. 0, .05, .1, .15 fill a batch at 0.15 that runs until 0.55. Request 0.2 has waited past
    # its deadline (0.4) when the replica frees at 0.55: it leaves at once as a batch of 1 (0.1 s, done
    # 0.65), not 0.2 s after the replica became free.
    sim = make_sim([one_stage()], [0.0, 0.05, 0.1, 0.15, 0.2], config(("a", 4, 1)), max_batch_wait_s=0.2)
    sim.run_until(3.0)
    np.testing.assert_allclose(sim.summary().latencies_s, [0.55, 0.5, 0.45, 0.4, 0.45], atol=1e-12)


def test_leftovers_of_a_full_batch_wait_until_their_own_deadline() -> None:
    # 6 requests at 0 with batch 4: a full batch at 0 (0.4 s). The 2 left keep waiting to fill after the
    # replica frees at 0.4, until 1.0 (their arrival + 1 s): a batch of 2 (0.2 s), done 1.2.
    sim = make_sim([one_stage()], [0.0] * 6, config(("a", 4, 1)), max_batch_wait_s=1.0)
    sim.run_until(2.0)
    np.testing.assert_allclose(sim.summary().latencies_s, [0.4] * 4 + [1.2] * 2, atol=1e-12)


def test_two_stages_by_hand() -> None:
    # stage A batch 2 (b1 0.2 s, b2 0.3 s); stage B batch 2 (b1 0.1 s, b2 0.15 s); wait 1 s at each stage.
    a = Stage("a", (variant("x", [(1, 0.2, 0.0), (2, 0.3, 0.0)]),))
    b = Stage("b", (variant("y", [(1, 0.1, 0.0), (2, 0.15, 0.0)]),))
    sim = make_sim([a, b], [0.0, 0.4, 3.0], config(("x", 2, 1), ("y", 2, 1)), max_batch_wait_s=1.0)
    sim.run_until(10.0)
    # 0 and 0.4 fill A's batch at 0.4 -> 0.7; both reach B together -> batch of 2 -> 0.85.
    # 3.0 waits at A until 4.0 -> 4.2; waits at B (from its arrival there, 4.2) until 5.2 -> 5.3.
    np.testing.assert_allclose(sim.summary().latencies_s, [0.85, 0.45, 2.3], atol=1e-12)
    assert_accounted(sim)


def test_late_counts_completions_over_the_sla() -> None:
    sim = make_sim([one_stage()], [0.0, 0.1, 0.2, 0.3, 2.0, 2.5], config(("a", 4, 1)), sla_s=0.65)
    sim.run_until(5.0)
    s = sim.summary()
    assert s.late == 3  # 0.7, 1.2, 0.7
    assert sum(r.late for r in sim.seconds()) == 3


def test_per_second_latency_percentiles() -> None:
    arrivals = np.arange(0.0, 1.0, 0.01)  # 100 requests in second 0, batch 1, 12 replicas: no queue
    sim = make_sim([one_stage()], arrivals, config(("a", 1, 12)))
    sim.run_until(2.0)
    rec = sim.seconds()
    assert rec[0].latency_p50_s == pytest.approx(0.1) and rec[0].latency_p99_s == pytest.approx(0.1)
    done_in_0 = int(np.sum(arrivals + 0.1 < 1.0))
    assert rec[0].completed == done_in_0 and rec[1].completed == 100 - done_in_0
    assert rec[1].latency_p50_s is not None
