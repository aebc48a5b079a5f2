"""Prometheus export of live meter samples (prometheus_client).

Metrics (labels ``zone``, ``domain``, ``source``, ``quality``)::

    ipa_energy_joules_total   counter: energy since the exporter started
    ipa_energy_watts          gauge:   power over the last sample interval

Each exporter owns its own ``CollectorRegistry`` unless one is passed in (no global state). Use
``exporter.update`` as a :class:`~ipa_energy.energy.sampler.Sampler`'s ``on_sample``, and
``exporter.serve(port)`` or ``exporter.text()`` to expose it.
"""

from __future__ import annotations

from typing import Any

from ipa_energy.energy.base import EnergyMeter
from ipa_energy.energy.sampler import Sample


class PrometheusExporter:
    def __init__(self, meter: EnergyMeter, *, registry: Any = None, prefix: str = "ipa_energy") -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.registry = registry if registry is not None else CollectorRegistry()
        labels = ("zone", "domain", "source", "quality")
        self._joules = Counter(f"{prefix}_joules", "Energy per zone (J)", labels, registry=self.registry)
        self._watts = Gauge(f"{prefix}_watts", "Power per zone over the last interval (W)", labels,
                            registry=self.registry)
        self._domains = {z.name: z.domain for z in meter.zones()}

    def update(self, sample: Sample) -> None:
        for zone, e in sample.zones_j.items():
            labels = (zone, self._domains.get(zone, "?"), sample.source, sample.quality)
            self._joules.labels(*labels).inc(max(0.0, e))
            if sample.interval_s > 0:
                self._watts.labels(*labels).set(e / sample.interval_s)

    def text(self) -> str:
        from prometheus_client import generate_latest

        out: bytes = generate_latest(self.registry)
        return out.decode()

    def serve(self, port: int, addr: str = "127.0.0.1") -> Any:
        """Start an HTTP endpoint in a daemon thread; returns what prometheus_client returns."""
        from prometheus_client import start_http_server

        return start_http_server(port, addr=addr, registry=self.registry)
