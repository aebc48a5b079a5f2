"""The local executor reports every answered batch as an observation, energy shared by CPU time."""

from __future__ import annotations

import math
import os
from pathlib import Path
from types import SimpleNamespace as NS

import numpy as np
import pytest

from ipa_energy.backends.base import PipelineConfig, StageConfig
from ipa_energy.backends.local.backend import LocalBackend
from ipa_energy.backends.local.build import local_stages
from ipa_energy.backends.local.clock import WallClock
from ipa_energy.energy import get_meter
from ipa_energy.loadgen import DigitsInputs

STAGES = [
    NS(name="locate", variants=[NS(name="digits-loc-s", cores=1, accuracy=0.94)]),
    NS(name="classify", variants=[NS(name="digits-cls-s", cores=1, accuracy=0.64)]),
]


def test_batches_become_observations_with_attributed_energy(digits_cache: Path) -> None:
    arrivals = np.sort(np.random.default_rng(5).uniform(0, 3.0, 40))
    clock = WallClock()
    b = LocalBackend(local_stages(STAGES, cache_dir=str(digits_cache)), arrivals, DigitsInputs(0), clock=clock,
                     meter=get_meter("model", pids=[os.getpid()]), sla_s=2.0, drop_limit_s=5.0,
                     max_batch_wait_s=0.05)
    try:
        b.warm_up(PipelineConfig((StageConfig("digits-loc-s", 2, 1), StageConfig("digits-cls-s", 2, 1))))
        clock.restart()
        b.run_until(3.0)
        b.drain(10.0)
        b.finish_second()
        obs = b.observations()
        assert b.observations() == []  # drained
        recs = b.seconds()
    finally:
        b.close()
    for stage in ("locate", "classify"):
        mine = [o for o in obs if o.stage == stage]
        assert sum(o.batch for o in mine) == 40  # every request in exactly one batch of each stage
        assert all(o.latency_s > 0 and o.latency_stat == "latency_p50_s" and o.cores == 1 for o in mine)
        assert all(o.energy_j is not None and o.energy_j >= 0 for o in mine)
        assert {o.energy_source for o in mine} == {recs[0].energy_source}
        i = [s.name for s in STAGES].index(stage)
        attributed = math.fsum(r.stage_energy_j[i] for r in recs)
        assert math.fsum(o.energy_j or 0.0 for o in mine) == pytest.approx(attributed, rel=1e-6, abs=1e-9)


def test_batch_observations_share_the_stage_energy_of_the_second() -> None:
    from ipa_energy.backends.local.ledger import EnergySplit, ServedBatch, batch_observations

    split = EnergySplit(10.0, 4.0, 6.0, (4.5, 1.5), 4.0, "model (estimated)")
    served = [[ServedBatch(0.2, "a", 4, 1, 0.05, 3.0), ServedBatch(0.7, "a", 2, 1, 0.02, 1.0)],
              [ServedBatch(0.9, "b", 1, 2, 0.01, 0.0)]]
    obs = batch_observations(split, ("s0", "s1"), served, metered=True)
    assert [(o.stage, o.variant, o.batch, o.cores, o.t_s) for o in obs] == [
        ("s0", "a", 4, 1, 0.2), ("s0", "a", 2, 1, 0.7), ("s1", "b", 1, 2, 0.9)]
    assert [o.energy_j for o in obs[:2]] == [pytest.approx(4.5 * 0.75), pytest.approx(4.5 * 0.25)]
    assert obs[2].energy_j is None  # nothing to share by: no energy claimed
    assert obs[0].energy_source == "model (estimated)" and obs[2].energy_source == ""
    unmetered = batch_observations(split, ("s0", "s1"), served, metered=False)
    assert all(o.energy_j is None and o.latency_stat == "latency_p50_s" for o in unmetered)
