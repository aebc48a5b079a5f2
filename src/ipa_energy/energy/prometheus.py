"""Prometheus export of live meter samples (prometheus_client).

Metrics (labels ``zone``, ``domain``, ``source``, ``quality``)::

    ipa_energy_joules_total   counter: energy since the exporter started
    ipa_energy_watts          gauge:   power over the last sample interval

:class:`RunExporter` (``serve --prometheus-port``) exports a serving run, one update per closed second::

    ipa_energy_requests_total          counter: requests by outcome (arrived, completed, dropped, failed, late)
    ipa_energy_request_latency_seconds histogram: end-to-end latency of completed requests
    ipa_energy_run_joules_total        counter: energy by part (total, idle, dynamic, unattributed,
                                       stage:<name>) and source ("model (estimated)", "rapl", ...)
    ipa_energy_run_watts               gauge:   power of the last closed second, by source
    ipa_energy_stage_replicas / _batch gauge:   the configuration serving now, by stage and variant

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

    def serve(self, port: int, addr: str = "127.0.0.1") -> int:
        """Start an HTTP endpoint in a daemon thread; returns the port bound (``port`` 0: a free one)."""
        return serve_registry(self.registry, port, addr)


def serve_registry(registry: Any, port: int, addr: str = "127.0.0.1") -> int:
    """Serve ``registry`` over HTTP in a daemon thread; the bound port. A port in use or out of range
    is a ConfigError naming ``--prometheus-port``."""
    from prometheus_client import start_http_server

    from ipa_energy.errors import ConfigError

    if not 0 <= port <= 65535:
        raise ConfigError(f"must be 0-65535 (got {port})", field="--prometheus-port")
    try:
        server, _thread = start_http_server(port, addr=addr, registry=registry)
    except OSError as e:
        raise ConfigError(f"cannot listen on {addr}:{port}: {e.strerror}", field="--prometheus-port") from None
    return int(server.server_port)


#: latency buckets (s): from a digits batch (~1 ms) to past every shipped SLA
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class RunExporter:
    """The live metrics of one serving run (see the module doc). Fed by the run path once per second."""

    def __init__(self, *, registry: Any = None, prefix: str = "ipa_energy") -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self._requests = Counter(f"{prefix}_requests", "Requests by outcome", ("outcome",), registry=r)
        self._latency = Histogram(f"{prefix}_request_latency_seconds", "End-to-end latency of completed "
                                  "requests (s)", buckets=LATENCY_BUCKETS_S, registry=r)
        self._joules = Counter(f"{prefix}_run_joules", "Energy of the run by part and source (J)",
                               ("part", "source"), registry=r)
        self._watts = Gauge(f"{prefix}_run_watts", "Power of the last closed second (W)", ("source",), registry=r)
        self._replicas = Gauge(f"{prefix}_stage_replicas", "Replicas serving now", ("stage", "variant"), registry=r)
        self._batch = Gauge(f"{prefix}_stage_batch", "Batch size serving now", ("stage", "variant"), registry=r)
        self._config: dict[str, str] = {}
        self._latencies_seen = 0

    def observe_second(self, counts: dict[str, int], energy_j: dict[str, float], source: str,
                       power_w: float) -> None:
        """One closed second: request ``counts`` by outcome, energy by part (J), its source, power (W)."""
        for outcome, n in counts.items():
            self._requests.labels(outcome).inc(max(0, n))
        for part, e in energy_j.items():
            if e == e and e >= 0:  # a gap (NaN) or a negative reading is never added
                self._joules.labels(part, source).inc(e)
        if power_w == power_w:
            self._watts.labels(source).set(power_w)

    def observe_latencies(self, all_latencies_s: Any) -> None:
        """The run's latencies so far (a growing sequence); only the new ones are observed."""
        for x in list(all_latencies_s[self._latencies_seen:]):
            self._latency.observe(float(x))
        self._latencies_seen = len(all_latencies_s)

    def set_configuration(self, stages: list[tuple[str, str, int, int]]) -> None:
        """The configuration serving now: (stage, variant, batch, replicas) per stage."""
        for stage, variant, batch, replicas in stages:
            old = self._config.get(stage)
            if old is not None and old != variant:
                self._replicas.remove(stage, old)
                self._batch.remove(stage, old)
            self._config[stage] = variant
            self._replicas.labels(stage, variant).set(replicas)
            self._batch.labels(stage, variant).set(batch)

    def text(self) -> str:
        from prometheus_client import generate_latest

        out: bytes = generate_latest(self.registry)
        return out.decode()

    def serve(self, port: int, addr: str = "127.0.0.1") -> int:
        return serve_registry(self.registry, port, addr)
