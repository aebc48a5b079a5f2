"""Real worker processes serving the two cheapest digits models (a few seconds per test)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import SimpleNamespace as NS

import numpy as np
import pytest

from ipa_energy.backends.base import PipelineConfig, StageConfig
from ipa_energy.backends.local.backend import LocalBackend
from ipa_energy.backends.local.build import local_stages
from ipa_energy.backends.local.clock import WallClock
from ipa_energy.errors import ConfigError
from ipa_energy.loadgen import DigitsInputs

STAGES = [
    NS(name="locate", variants=[NS(name="digits-loc-s", cores=1, accuracy=0.94)]),
    NS(name="classify", variants=[NS(name="digits-cls-s", cores=1, accuracy=0.64)]),
]
CONFIG = PipelineConfig((StageConfig("digits-loc-s", 2, 1), StageConfig("digits-cls-s", 2, 1)))


def make(cache: Path, arrivals: np.ndarray, **kw: object) -> tuple[LocalBackend, WallClock]:
    clock = WallClock()
    b = LocalBackend(
        local_stages(STAGES, cache_dir=str(cache)), arrivals, DigitsInputs(0), clock=clock, meter=None,
        sla_s=2.0, drop_limit_s=kw.pop("drop_limit_s", 5.0), max_batch_wait_s=0.05, **kw,  # type: ignore[arg-type]
    )
    return b, clock


def test_killed_worker_is_replaced_and_its_batch_retried(digits_cache: Path) -> None:
    arrivals = np.sort(np.random.default_rng(2).uniform(0, 6.0, 60))
    b, clock = make(digits_cache, arrivals)
    try:
        b.warm_up(CONFIG)
        clock.restart()
        b.run_until(1.0)
        victim = b.worker_pids()["classify"][0]
        os.kill(victim, signal.SIGKILL)
        b.run_until(6.0)
        b.drain(10.0)
        b.finish_second()
        s = b.summary()
        assert b.replaced_workers() == 1
        assert victim not in b.worker_pids()["classify"] and len(b.worker_pids()["classify"]) == 1
        # nothing silently lost: every request is completed, dropped (waited past the limit) or failed
        assert s.sent == 60 and s.sent == s.completed + s.dropped + s.failed + s.in_flight
        assert s.in_flight == 0 and s.failed == 0 and s.completed >= 55
        assert 0.15 < (b.accuracy() or 0) < 0.8  # measured against labels, not a constant
        recs = b.seconds()
        assert sum(r.arrivals for r in recs) == 60 and sum(r.completed for r in recs) == s.completed
        assert recs[0].config.stages[0].variant == "digits-loc-s"
        assert recs[0].cost_cores == 2 and recs[0].pas == pytest.approx(0.94 * 0.64)
    finally:
        b.close()


def test_variant_switch_and_rescale_lose_nothing(digits_cache: Path) -> None:
    stages = [
        NS(name="locate", variants=[NS(name="digits-loc-s", cores=1, accuracy=0.94)]),
        NS(name="classify", variants=[NS(name="digits-cls-s", cores=1, accuracy=0.64),
                                      NS(name="digits-cls-m", cores=1, accuracy=0.73)]),
    ]
    from ipa_energy.models import ModelSpec, prepare

    prepare(ModelSpec("digits", "digits-cls-m", str(digits_cache)))
    clock = WallClock()
    arrivals = np.sort(np.random.default_rng(3).uniform(0, 5.0, 50))
    b = LocalBackend(local_stages(stages, cache_dir=str(digits_cache)), arrivals, DigitsInputs(0),
                     clock=clock, meter=None, sla_s=2.0, drop_limit_s=10.0, max_batch_wait_s=0.05)
    try:
        b.warm_up(CONFIG)
        clock.restart()
        b.run_until(1.0)
        b.apply(PipelineConfig((StageConfig("digits-loc-s", 4, 2), StageConfig("digits-cls-m", 1, 1))))
        t = 5.0
        b.run_until(t)
        while b.seconds()[-1].config.stages[1].variant != "digits-cls-m" and t < 60:
            t += 1.0
            b.run_until(t)  # the new replicas are still loading; the old ones serve meanwhile
        b.drain(10.0)
        b.finish_second()
        s = b.summary()
        assert s.sent == 50 and s.completed == 50, s
        last = b.seconds()[-1].config
        assert last.stages[1].variant == "digits-cls-m" and last.stages[0].replicas == 2
    finally:
        b.close()


def test_bad_config_names_the_field(digits_cache: Path) -> None:
    b, _ = make(digits_cache, np.zeros(0))
    try:
        with pytest.raises(ConfigError, match="no local variant 'resnet18'"):
            b.apply(PipelineConfig((StageConfig("resnet18", 1, 1), StageConfig("digits-cls-s", 1, 1))))
        with pytest.raises(ConfigError, match="config has 1 stages"):
            b.apply(PipelineConfig((StageConfig("digits-loc-s", 1, 1),)))
    finally:
        b.close()


def test_random_init_outputs_are_never_scored(digits_cache: Path) -> None:
    """A stage whose replica runs random-init weights yields no accuracy, even with labelled inputs."""
    from ipa_energy.backends.local.stage import Request

    b, _ = make(digits_cache, np.zeros(0))
    try:
        b._route(1, [Request(0, 0.0, None, 3, 1)], [3], 0.5, scored=False)
        assert b.accuracy() is None
        b._route(1, [Request(1, 0.0, None, 3, 1)], [3], 0.6)
        assert b.accuracy() == 1.0
    finally:
        b.close()
