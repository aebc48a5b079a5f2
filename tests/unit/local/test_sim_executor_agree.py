"""The simulator and the local executor follow one set of serving rules (``ipa_energy.rules``).

Given the same arrivals and the same scripted configuration changes, they must batch the same requests
together, drop the same requests, and serve them by the same variant, as far as the executor's timing
allows: its model loads take wall time, so a variant switch lands at a different moment in each. The
script is built so that the rules, not timing, decide: bursts of simultaneous requests a second apart
(batches fill at once), service times of milliseconds, a batch that can never fill and waits past the
drop limit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ipa_energy.backends.base import Backend, BatchRecord, PipelineConfig, StageConfig
from ipa_energy.backends.local.backend import LocalBackend
from ipa_energy.backends.local.build import local_stages
from ipa_energy.backends.local.clock import WallClock
from ipa_energy.backends.simulator.backend import SimParams, SimulatorBackend
from ipa_energy.loadgen import DigitsInputs
from ipa_energy.optimize.presets import build_problem
from ipa_energy.pipelines import load_pipeline

DROP_LIMIT_S = 1.0
WAIT_S = 5.0
A = PipelineConfig((StageConfig("digits-loc-s", 2, 2), StageConfig("digits-cls-s", 2, 2)))
B = PipelineConfig((StageConfig("digits-loc-s", 2, 2), StageConfig("digits-cls-m", 2, 2)))  # switch
C = PipelineConfig((StageConfig("digits-loc-s", 8, 2), StageConfig("digits-cls-m", 2, 2)))  # batch 8
SCRIPT = ((2.5, B), (8.5, C), (12.0, None))
SWITCH_S = 2.5
# bursts of 4 simultaneous requests at 0.2, 1.2, ..., 7.2; then 3 at 9.2 that stage 1 (batch 8, wait 5 s)
# holds until they pass the 1 s drop limit
ARRIVALS = np.concatenate([np.repeat(0.2 + np.arange(8.0), 4), np.full(3, 9.2)])
DROPPED = {32, 33, 34}


def play(b: Backend) -> None:
    b.start(A)
    for t_s, config in SCRIPT:
        b.run_until(t_s)
        if config is not None:
            b.apply(config)
    b.finish(drain_s=2.0 * DROP_LIMIT_S)


def groups(log: list[BatchRecord], stage: int) -> set[frozenset[int]]:
    return {frozenset(r.request_ids) for r in log if r.stage == stage}


def variant_of(log: list[BatchRecord], stage: int) -> dict[int, str]:
    return {i: r.variant for r in log if r.stage == stage for i in r.request_ids}


@pytest.fixture(scope="module")
def runs(digits_cache: Path) -> tuple[list[BatchRecord], list[BatchRecord], Backend, Backend]:
    from ipa_energy.models import ModelSpec, prepare

    prepare(ModelSpec("digits", "digits-cls-m", str(digits_cache)))
    pipeline = load_pipeline("digits")
    world = build_problem(pipeline, "ipa", 1.0, latency_factor=1.0)
    sim = SimulatorBackend(
        world.stages, ARRIVALS, sla_s=pipeline.sla_s, accuracy_method=world.accuracy_method,
        params=SimParams(max_batch_wait_s=WAIT_S, drop_limit_s=DROP_LIMIT_S, variant_switch_s=1.0),
        record_batches=True,
    )
    play(sim)
    stages = [s for s in pipeline.stages]
    keep = {"digits-loc-s", "digits-cls-s", "digits-cls-m"}
    local_input = [type("S", (), {"name": s.name, "variants": [v for v in s.variants if v.name in keep]})()
                   for s in stages]
    ex = LocalBackend(
        local_stages(local_input, cache_dir=str(digits_cache)), ARRIVALS, DigitsInputs(0), clock=WallClock(),
        meter=None, sla_s=pipeline.sla_s, drop_limit_s=DROP_LIMIT_S, accuracy_method=world.accuracy_method,
        max_batch_wait_s=WAIT_S, record_batches=True,
    )
    try:
        play(ex)
    finally:
        ex.close()
    return sim.batch_log(), ex.batch_log(), sim, ex


def test_same_requests_batched_together(runs: tuple) -> None:
    sim_log, ex_log, _, _ = runs
    for stage in (0, 1):
        assert groups(sim_log, stage) == groups(ex_log, stage)
    # the rules, not luck: every burst of 4 leaves stage 1 as two full batches of 2
    assert all(len(g) == 2 for g in groups(sim_log, 0))


def test_same_requests_dropped(runs: tuple) -> None:
    sim_log, ex_log, sim, ex = runs
    everyone = set(range(ARRIVALS.size))
    for log in (sim_log, ex_log):
        assert everyone - set(variant_of(log, 1)) == DROPPED
    for b in (sim, ex):
        s = b.summary()
        assert (s.sent, s.completed, s.dropped, s.failed, s.in_flight) == (35, 32, 3, 0, 0)
    # both drop at the first second boundary after the limit: the burst at 9.2 is dropped in second 10
    assert [r.dropped for r in sim.seconds()] == [r.dropped for r in ex.seconds()][: len(sim.seconds())]
    assert sim.seconds()[10].dropped == 3


def test_same_variant_once_the_switch_has_landed_in_both(runs: tuple) -> None:
    sim_log, ex_log, _, _ = runs
    sim_v, ex_v = variant_of(sim_log, 1), variant_of(ex_log, 1)

    def landed(log: list[BatchRecord]) -> float:
        return min(r.start_s for r in log if r.stage == 1 and r.variant == "digits-cls-m")

    t_both = max(landed(sim_log), landed(ex_log))
    assert landed(sim_log) > SWITCH_S and SWITCH_S < landed(ex_log) < 8.2  # make-before-break, then landed
    for i, t_a in enumerate(ARRIVALS):
        if i in DROPPED:
            continue
        if t_a < SWITCH_S:
            assert sim_v[i] == ex_v[i] == "digits-cls-s"
        elif t_a >= t_both:
            assert sim_v[i] == ex_v[i] == "digits-cls-m"
        else:  # switching: each backend still serves the old variant until its new replicas are ready
            assert {sim_v[i], ex_v[i]} <= {"digits-cls-s", "digits-cls-m"}
    # and nothing after the landing falls back to the old variant
    for log in (sim_log, ex_log):
        assert all(r.variant == "digits-cls-m" for r in log if r.stage == 1 and r.start_s >= landed(log))
