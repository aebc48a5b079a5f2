"""Workloads, arrival processes and input sources construct by name, like every other family."""

from __future__ import annotations

import numpy as np
import pytest

from ipa_energy.errors import ConfigError, UnknownNameError
from ipa_energy.loadgen import INPUT_SOURCES, RandomImageInputs
from ipa_energy.workloads import ARRIVAL_PROCESSES, WORKLOADS, arrival_times, load_workload, workload_names


def test_every_bundled_workload_is_registered_and_constructs() -> None:
    assert set(WORKLOADS.names()) == set(workload_names())
    for name in WORKLOADS:
        w = WORKLOADS.create(name, load_scale=2.0)
        ref = load_workload(name)
        assert w.name == name and w.load_scale == 2.0
        np.testing.assert_allclose(w.rates_rps, 2.0 * ref.rates_rps)
        np.testing.assert_allclose(w.history_rps, 2.0 * ref.history_rps)


def test_unknown_workload_lists_the_registered_names() -> None:
    with pytest.raises(UnknownNameError) as e:
        load_workload("burst")
    assert "bursty" in str(e.value)


def test_arrival_processes_by_name() -> None:
    w = load_workload("steady_low")
    assert set(ARRIVAL_PROCESSES.names()) == {"poisson", "uniform"}
    uni = arrival_times(w, seed=0, process="uniform")
    assert uni.size == int(np.rint(w.rates_rps.sum()))
    assert np.array_equal(uni, ARRIVAL_PROCESSES.create("uniform", workload=w, seed=5))  # seed unused
    poi = arrival_times(w, seed=1)
    assert np.array_equal(poi, arrival_times(w, seed=1, process="poisson"))
    assert not np.array_equal(poi, arrival_times(w, seed=2))
    with pytest.raises(UnknownNameError, match="uniform"):
        arrival_times(w, seed=0, process="gamma")


def test_input_sources_by_model_family() -> None:
    src = INPUT_SOURCES.create("torchvision", seed=0, size_px=8, pool=2)
    assert isinstance(src, RandomImageInputs) and src.get(3)[0].shape == (3, 8, 8)
    with pytest.raises(ConfigError, match="size_px"):  # digits canvases have a fixed size
        INPUT_SOURCES.create("digits", seed=0, size_px=8)
    with pytest.raises(UnknownNameError):
        INPUT_SOURCES.create("audio")
