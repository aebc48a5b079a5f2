"""Drops past the drop limit, and every request accounted for (completed + dropped + in flight = sent)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from simtest_helpers import assert_accounted, config, make_sim, variant

from ipa_energy.optimize.problem import Stage


def reference_fifo(arrivals: np.ndarray, servers: int, service_s: float, limit_s: float) -> np.ndarray:
    """Per-request FIFO with identical servers, batch 1, drop at dequeue when older than the limit.

    Returns each request's latency (NaN when dropped). Written independently of the simulator.
    """
    free_at = [0.0] * servers
    out = np.full(arrivals.size, np.nan)
    for i, a in enumerate(arrivals):
        j = min(range(servers), key=lambda s: free_at[s])
        start = max(a, free_at[j])
        if start - a > limit_s:
            continue  # dropped; the server stays free
        free_at[j] = start + service_s
        out[i] = start + service_s - a
    return out


@pytest.mark.parametrize("servers", [1, 3])
def test_overload_matches_an_independent_per_request_reference(servers: int) -> None:
    rng = np.random.default_rng(3)
    # 30 s of Poisson arrivals at 1.5x capacity, then quiet: the queue grows, old requests are dropped
    service_s, limit_s = 0.25, 2.0
    rate = 1.5 * servers / service_s
    arrivals = np.sort(rng.uniform(0.0, 30.0, int(rate * 30)))
    stage = Stage("only", (variant("a", [(1, service_s, 0.0)]),))
    sim = make_sim([stage], arrivals, config(("a", 1, servers)), drop_limit_s=limit_s)
    sim.run_until(60.0)
    s = sim.summary()
    ref = reference_fifo(arrivals, servers, service_s, limit_s)
    assert s.dropped == int(np.isnan(ref).sum()) > 0
    assert s.completed == int((~np.isnan(ref)).sum())
    np.testing.assert_allclose(np.sort(s.latencies_s), np.sort(ref[~np.isnan(ref)]), atol=1e-9)
    assert s.latencies_s.max() <= limit_s + service_s + 1e-9
    assert s.in_flight == 0
    assert_accounted(sim)
    rec = sim.seconds()
    assert sum(r.dropped for r in rec) == s.dropped
    assert sum(r.completed for r in rec) == s.completed
    assert sum(r.arrivals for r in rec) == s.sent


def test_requests_expiring_in_the_queue_are_dropped_by_the_end_of_that_second() -> None:
    # 10 requests at 0; one replica busy for 100 s with the first. Drop limit 3 s: the other 9 pass the
    # limit during second 3 and are counted as dropped in its record, leaving the queue empty.
    stage = Stage("only", (variant("a", [(1, 100.0, 0.0)]),))
    sim = make_sim([stage], [0.0] * 10, config(("a", 1, 1)), drop_limit_s=3.0)
    sim.run_until(5.0)
    rec = sim.seconds()
    assert [r.dropped for r in rec] == [0, 0, 0, 9, 0]
    assert [r.queue_lengths for r in rec] == [(9,), (9,), (9,), (0,), (0,)]
    s = sim.summary()
    assert (s.sent, s.completed, s.dropped, s.in_flight) == (10, 0, 9, 1)


def test_a_request_exactly_at_the_drop_limit_is_still_served() -> None:
    # "older than the limit" is strict: the second request waits exactly 1.0 s (the limit) and is served
    stage = Stage("only", (variant("a", [(1, 1.0, 0.0)]),))
    sim = make_sim([stage], [0.0, 0.0], config(("a", 1, 1)), drop_limit_s=1.0)
    sim.run_until(5.0)
    s = sim.summary()
    assert (s.completed, s.dropped) == (2, 0)


def test_later_stage_drops_requests_that_aged_in_the_earlier_stage() -> None:
    # stage A takes 2.5 s, B 1 s; limit 3 s. Two requests at 0 go through A together (batch 2, done 2.5);
    # B (batch 1) serves the first from 2.5 to 3.5; the second is 3.5 s old by then: dropped at B.
    a = Stage("a", (variant("x", [(1, 2.0, 0.0), (2, 2.5, 0.0)]),))
    b = Stage("b", (variant("y", [(1, 1.0, 0.0)]),))
    sim = make_sim([a, b], [0.0, 0.0], config(("x", 2, 1), ("y", 1, 1)), drop_limit_s=3.0)
    sim.run_until(10.0)
    s = sim.summary()
    assert (s.completed, s.dropped, s.in_flight) == (1, 1, 0)
    np.testing.assert_allclose(s.latencies_s, [3.5])
    assert sim.seconds()[3].dropped == 1  # at 3.5 when B would dequeue it


def test_sent_counts_arrivals_up_to_now_inclusive() -> None:
    stage = Stage("only", (variant("a", [(1, 0.1, 0.0)]),))
    sim = make_sim([stage], [0.5, 1.0, 1.5, 7.0], config(("a", 1, 1)))
    sim.run_until(1.0)  # the arrival at exactly 1.0 has happened and is being served
    s = sim.summary()
    assert (s.sent, s.completed, s.in_flight) == (2, 1, 1)
    sim.run_until(1.55)
    s = sim.summary()
    assert (s.sent, s.completed, s.in_flight) == (3, 2, 1)
    assert_accounted(sim)


@settings(max_examples=25, deadline=None)
@given(
    seed=hs.integers(0, 10_000),
    n_stages=hs.integers(1, 3),
    steps=hs.lists(
        hs.tuples(hs.integers(0, 1), hs.sampled_from([1, 2, 4]), hs.integers(1, 3)), min_size=1, max_size=5
    ),
    noise=hs.sampled_from([0.0, 0.3]),
    step_s=hs.sampled_from([0.7, 2.0, 3.0]),
)
def test_every_request_is_accounted_for_under_reconfiguration(
    seed: int, n_stages: int, steps: list[tuple[int, int, int]], noise: float, step_s: float
) -> None:
    rng = np.random.default_rng(seed)
    fast = variant("fast", [(1, 0.05, 0.1), (4, 0.12, 0.3)], accuracy=0.6)
    slow = variant("slow", [(1, 0.2, 0.4), (2, 0.3, 0.6), (8, 0.9, 1.5)], accuracy=0.9, cores=2)
    stages = [Stage(f"s{i}", (fast, slow)) for i in range(n_stages)]
    arrivals = np.sort(rng.uniform(0.0, 12.0, int(rng.integers(0, 400))))
    names = ("fast", "slow")
    sim = make_sim(
        stages, arrivals, None, drop_limit_s=1.5, max_batch_wait_s=0.3, replica_startup_s=0.4,
        variant_switch_s=1.1, latency_noise_cv=noise, seed=seed,
    )
    t = 0.0
    for v, b, n in steps:
        sim.apply(config(*[(names[(v + i) % 2], b, n) for i in range(n_stages)]))
        t += step_s
        sim.run_until(t)
        assert_accounted(sim)
    sim.run_until(30.0)  # past every arrival + drop limit + service: nothing can remain in flight
    s = sim.summary()
    assert_accounted(sim)
    assert s.in_flight == 0 and s.sent == arrivals.size
    rec = sim.seconds()
    assert len(rec) == 30
    assert sum(r.completed for r in rec) == s.completed
    assert sum(r.dropped for r in rec) == s.dropped
    assert sum(r.arrivals for r in rec) == s.sent
    assert sum(r.energy_j for r in rec) == pytest.approx(s.energy_j)
    if s.completed:
        assert s.latencies_s.min() > 0
        # a completed request left its last queue within the limit, then was served (noise <= x10)
        assert s.latencies_s.max() <= 1.5 + 10 * 0.9
