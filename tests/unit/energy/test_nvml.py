from __future__ import annotations

import sys
from types import SimpleNamespace
from unittest import mock

import pynvml
import pytest

from ipa_energy.energy import get_meter
from ipa_energy.errors import MeterUnavailable


@pytest.fixture
def nv(monkeypatch):
    """pynvml replaced by an autospec mock (real exception classes kept)."""
    fake = mock.create_autospec(pynvml, instance=False)
    fake.NVMLError = pynvml.NVMLError
    fake.NVMLError_NotSupported = pynvml.NVMLError_NotSupported
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    fake.nvmlDeviceGetCount.return_value = 2
    fake.nvmlDeviceGetHandleByIndex.side_effect = lambda i: f"h{i}"
    fake.nvmlDeviceGetName.side_effect = lambda h: {"h0": "NVIDIA H200", "h1": b"Tesla T4"}[h]
    return fake


def test_counter_gpu_and_power_sampled_gpu(nv, clock):
    energy_mj = {"h0": 1_000_000}
    power_mw = {"h1": 70_000}

    def total_energy(h):
        if h == "h1":
            raise pynvml.NVMLError_NotSupported()
        return energy_mj[h]

    nv.nvmlDeviceGetTotalEnergyConsumption.side_effect = total_energy
    nv.nvmlDeviceGetPowerUsage.side_effect = lambda h: power_mw[h]
    m = get_meter("nvml", clock=clock, guard=False)
    assert m.methods == {"gpu-0": "counter", "gpu-1": "power"}
    assert m.poll_period_s == 0.1
    assert "NVIDIA H200" in m.describe() and "Tesla T4" in m.describe()
    m.begin_window("w")
    clock.advance(2.0)
    energy_mj["h0"] += 500_000  # +500 J
    power_mw["h1"] = 90_000  # 70 W -> 90 W: trapezoid over 2 s = 160 J
    out = m.end_window("w")
    assert out.zones_j == {"gpu-0": pytest.approx(500.0), "gpu-1": pytest.approx(160.0)}
    assert out.energy_j == pytest.approx(660.0)
    assert out.source == "nvml" and out.quality == "measured"
    m.close()
    nv.nvmlShutdown.assert_called_once()


def test_read_error_is_a_gap(nv, clock):
    nv.nvmlDeviceGetCount.return_value = 1
    nv.nvmlDeviceGetTotalEnergyConsumption.return_value = 5
    m = get_meter("nvml", clock=clock, guard=False)
    nv.nvmlDeviceGetTotalEnergyConsumption.side_effect = pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)
    assert m.read().energy_j == {}


def test_no_driver_no_gpu(nv):
    nv.nvmlInit.side_effect = pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    with pytest.raises(MeterUnavailable, match="cannot initialise NVML"):
        get_meter("nvml")
    nv.nvmlInit.side_effect = None
    nv.nvmlDeviceGetCount.return_value = 0
    with pytest.raises(MeterUnavailable, match="no GPU"):
        get_meter("nvml")
    nv.nvmlShutdown.assert_called()


def test_utilization_for_attribution(nv, clock):
    nv.nvmlDeviceGetCount.return_value = 1
    nv.nvmlDeviceGetTotalEnergyConsumption.return_value = 0
    nv.nvmlDeviceGetUtilizationRates.return_value = SimpleNamespace(gpu=40, memory=10)
    nv.nvmlDeviceGetProcessUtilization.return_value = [
        SimpleNamespace(pid=11, smUtil=30), SimpleNamespace(pid=12, smUtil=10), SimpleNamespace(pid=11, smUtil=35),
    ]
    m = get_meter("nvml", clock=clock, guard=False)
    assert m.utilization() == {"gpu-0": 0.4}
    assert m.process_utilization() == {"gpu-0": {11: 0.35, 12: 0.10}}


def test_stage_energy_of_a_gpu_follows_its_replicas_sm_utilisation(nv, clock):
    """A serving backend's split (EnergySplit.of, as the local executor and each Ray node meter call it):
    each GPU's energy goes to stages by their replica processes' SM utilisation; a process outside every
    stage keeps its share unattributed; a meter without NVML gives no utilisation (GPU left unattributed)."""
    from ipa_energy.backends.local.ledger import EnergySplit
    from ipa_energy.energy.auto import CompositeMeter
    from ipa_energy.energy.base import Measurement
    from ipa_energy.energy.nvml import GpuSamples, gpu_process_utilization

    nv.nvmlDeviceGetCount.return_value = 1
    nv.nvmlDeviceGetTotalEnergyConsumption.return_value = 0
    nv.nvmlDeviceGetProcessUtilization.return_value = [
        SimpleNamespace(pid=11, smUtil=60), SimpleNamespace(pid=12, smUtil=20), SimpleNamespace(pid=99, smUtil=20),
    ]
    gpu = get_meter("nvml", clock=clock, guard=False)
    cpu = get_meter("model", clock=clock)
    util = gpu_process_utilization(CompositeMeter([cpu, gpu]), since_us=123)
    nv.nvmlDeviceGetProcessUtilization.assert_called_with("h0", 123)
    assert util == {"gpu-0": {11: 0.6, 12: 0.2, 99: 0.2}}
    assert gpu_process_utilization(cpu, 0) is None
    samples = GpuSamples(CompositeMeter([cpu, gpu]))
    first = nv.nvmlDeviceGetProcessUtilization.call_count
    assert samples.take() == util and samples.take() == util
    (_, t1), (_, t2) = (c.args for c in nv.nvmlDeviceGetProcessUtilization.call_args_list[first:])
    assert 0 < t1 <= t2  # each window starts where the last one ended
    assert GpuSamples(cpu).take() is None
    m = Measurement(energy_j=100.0, zones_j={"gpu-0": 100.0}, duration_s=1.0, counted_zones=("gpu-0",),
                    source="nvml", quality="measured")
    split = EnergySplit.of(m, ("detect", "classify"), (0.0, 0.0), 0.0, gpu_util=util, stage_pids=[[11], [12]])
    assert split.stage_energy_j == pytest.approx((60.0, 20.0))
    assert split.unattributed_energy_j == pytest.approx(20.0)
    plain = EnergySplit.of(m, ("detect", "classify"), (0.0, 0.0), 0.0)
    assert plain.stage_energy_j == (0.0, 0.0) and plain.unattributed_energy_j == pytest.approx(100.0)


def test_real_nvml_here_is_unavailable_or_works():
    try:
        m = get_meter("nvml")
    except MeterUnavailable as e:
        assert str(e).startswith("nvml:")
    else:
        assert m.zones()
        m.close()
