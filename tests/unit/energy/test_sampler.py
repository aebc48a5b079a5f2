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


def test_meter_with_a_short_poll_period_is_read_between_samples():
    class Polled(ReplayMeter):
        reads = 0

        @property
        def poll_period_s(self):
            return 0.01

        def _read_energy_j(self, t_s):
            Polled.reads += 1
            return super()._read_energy_j(t_s)

    m = Polled([1.0], {"package-0": [5.0]}, loop=True)
    with Sampler(m, interval_s=0.05) as s:
        assert s.reads_per_sample == 5
        time.sleep(0.3)
    assert Polled.reads > 2 * len(s.samples())  # extra reads between samples
    assert all(x.interval_s > 0.03 for x in s.samples()[:-1])  # samples still every ~0.05 s


def test_replay_from_a_saved_log(clock):
    from pathlib import Path

    m = ReplayMeter.from_log(Path(__file__).parent / "data" / "perf_csv.txt", clock=clock)
    assert m.recorded_source == "perf-csv"
    m.begin_window("w")
    clock.advance(1.0000)
    out = m.end_window("w")
    assert out.zones_j["pkg"] == pytest.approx(74.55 * 1.0 / 1.000107406)
