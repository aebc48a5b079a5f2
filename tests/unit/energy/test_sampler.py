from __future__ import annotations

import time

import pytest

from ipa_energy.energy import ReplayMeter, Sampler
from ipa_energy.errors import ConfigError


def test_step_gives_interval_samples(clock):
    m = ReplayMeter.constant({"package-0": 40.0, "package-0/core": 30.0}, clock=clock)
    s = Sampler(m, interval_s=1.0)
    assert s.step() is None  # the reference read
    clock.advance(0.5)
    a = s.step()
    assert a is not None
    assert a.interval_s == 0.5
    assert a.energy_j == pytest.approx(20.0)  # core is not counted
    assert a.power_w == pytest.approx(40.0)
    assert a.zone_power_w()["package-0/core"] == pytest.approx(30.0)
    assert a.quality == "replayed"


def test_thread_samples_at_rate_and_iterates():
    m = ReplayMeter.constant({"package-0": 10.0})  # real monotonic clock
    got = []
    with Sampler(m, interval_s=0.02, on_sample=got.append) as s:
        time.sleep(0.2)
    n = len(s.samples())
    assert 5 <= n <= 14  # ~10 plus the final tail sample; loose for a loaded 2-core machine
    assert got == s.samples()
    total_s = sum(x.interval_s for x in s.samples())
    assert sum(x.energy_j for x in s.samples()) == pytest.approx(10.0 * total_s, rel=1e-6)
    assert list(s) == s.samples()  # the queue ends after stop()


def test_interval_must_be_positive(clock):
    with pytest.raises(ConfigError, match="interval_s"):
        Sampler(ReplayMeter.constant({"package-0": 1.0}, clock=clock), interval_s=0)
