"""Observability (issue 14): serve's Prometheus metrics (the exporter itself; the live endpoint is in
``tests/integration/test_rel_crash.py``), ``--prometheus-port 0`` prints the bound port, progress only on
a terminal. A replaced replica reported as it happens: the integration test above."""

from __future__ import annotations

import re
import urllib.request

import pytest
from rel_helpers import Runner


def test_run_exporter_counts_latencies_energy_and_configuration() -> None:
    from ipa_energy.energy.prometheus import RunExporter

    ex = RunExporter()
    ex.observe_second({"arrived": 5, "completed": 4, "dropped": 1, "failed": 0, "late": 1},
                      {"total": 10.0, "idle": 6.0, "dynamic": 4.0, "stage:crop": 3.0, "unattributed": 7.0},
                      "model (estimated)", 10.0)
    ex.observe_second({"arrived": 2, "completed": 2, "dropped": 0, "failed": 0, "late": 0},
                      {"total": float("nan"), "idle": -1.0}, "model (estimated)", 9.0)  # gaps never added
    ex.observe_latencies([0.002, 0.3])
    ex.observe_latencies([0.002, 0.3, 4.0])  # only the new one counts
    ex.set_configuration([("crop", "yolov5n", 2, 3)])
    ex.set_configuration([("crop", "yolov5s", 4, 1)])  # a switch removes the old variant's series
    text = ex.text()
    assert 'ipa_energy_requests_total{outcome="arrived"} 7.0' in text
    assert 'ipa_energy_requests_total{outcome="dropped"} 1.0' in text
    assert "ipa_energy_request_latency_seconds_count 3.0" in text
    assert 'ipa_energy_request_latency_seconds_bucket{le="0.5"} 2.0' in text
    assert 'ipa_energy_run_joules_total{part="total",source="model (estimated)"} 10.0' in text
    assert 'ipa_energy_run_joules_total{part="idle",source="model (estimated)"} 6.0' in text
    assert 'ipa_energy_run_watts{source="model (estimated)"} 9.0' in text
    assert 'ipa_energy_stage_replicas{stage="crop",variant="yolov5s"} 1.0' in text
    assert 'variant="yolov5n"' not in text


def test_exporter_port_zero_binds_a_free_port() -> None:
    from ipa_energy.energy.prometheus import RunExporter

    ex = RunExporter()
    port = ex.serve(0)
    assert port > 0
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert "ipa_energy_requests" in body


def test_energy_monitor_prints_the_bound_port(cli: Runner) -> None:
    r = cli("energy", "monitor", "--meter", "model", "--duration-s", "0.5", "--interval-s", "0.25",
            "--prometheus-port", "0")
    assert r.code == 0, r.err
    m = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", r.err)
    assert m and int(m.group(1)) > 0, r.err


def test_serve_progress_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from ipa_energy.cli.serve import _progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    with _progress(10.0) as on_progress:
        assert on_progress is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with _progress(10.0) as on_progress:
        assert on_progress is not None
        on_progress(5.0, 10.0)

