from __future__ import annotations

from ipa_energy.energy import ReplayMeter, Sampler
from ipa_energy.energy.prometheus import PrometheusExporter


def test_counters_and_gauges_with_labels(clock):
    m = ReplayMeter.constant({"package-0": 40.0, "package-0/core": 25.0}, clock=clock)
    exp = PrometheusExporter(m)
    s = Sampler(m, 1.0, on_sample=exp.update)
    s.step()
    for _ in range(3):
        clock.advance(0.5)
        s.step()
    text = exp.text()
    assert 'ipa_energy_joules_total{domain="pkg",quality="replayed",source="replay",zone="package-0"} 60.0' in text
    assert 'ipa_energy_watts{domain="cores",quality="replayed",source="replay",zone="package-0/core"} 25.0' in text
    # two exporters do not share state
    assert "package-0" not in PrometheusExporter(m).text()
