"""Arrival generation: seeded, sorted, inside their second, counts matching the rates."""

from __future__ import annotations

import numpy as np
import pytest

from ipa_energy.errors import UnknownNameError
from ipa_energy.workloads import Workload, arrival_times, load_workload


def _per_second(times: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(np.floor(times).astype(np.int64), minlength=n)


def test_poisson_counts_match_rates_on_average() -> None:
    rates = np.array([0.0, 1.0, 5.0, 20.0, 50.0])
    w = Workload("t", np.tile(rates, 400), "test")  # 2000 s, each rate 400 times
    t = arrival_times(w, seed=3)
    counts = _per_second(t, w.duration_s).reshape(400, rates.size)
    assert counts[:, 0].sum() == 0
    mean = counts.mean(axis=0)
    # the mean of 400 Poisson(r) counts has standard deviation sqrt(r / 400); allow 5 of them
    assert np.all(np.abs(mean - rates) <= 5 * np.sqrt(rates / 400) + 1e-12), mean
    var = counts.var(axis=0)
    assert var[4] == pytest.approx(50.0, rel=0.25)  # Poisson, not a fixed count per second


def test_poisson_on_a_bundled_workload() -> None:
    w = load_workload("bursty")
    t = arrival_times(w, seed=0)
    # total ~ Poisson(14437): within 5 standard deviations
    assert abs(t.size - 14_437) < 5 * np.sqrt(14_437)
    assert np.all(np.diff(t) >= 0)
    assert t[0] >= 0 and t[-1] < 1200


def test_seeds_reproduce_and_differ() -> None:
    w = load_workload("fluctuating")
    a, b = arrival_times(w, seed=7), arrival_times(w, seed=7)
    np.testing.assert_array_equal(a, b)
    c = arrival_times(w, seed=8)
    assert a.size != c.size or not np.array_equal(a, c)


def test_arrivals_stay_inside_their_second() -> None:
    w = Workload("t", np.full(3000, 30.0), "test")
    t = arrival_times(w, seed=1)
    lo = np.floor(t)
    assert np.all(t >= lo) and np.all(t < lo + 1)


def test_uniform_is_ipa_load_tester_like() -> None:
    w = load_workload("steady_low")
    t = arrival_times(w, seed=0, process="uniform")
    assert t.size == 6_067
    np.testing.assert_array_equal(_per_second(t, 1200), w.rates_rps)
    # evenly spaced inside second 0
    n0 = int(w.rates_rps[0])
    np.testing.assert_allclose(t[:n0], np.arange(n0) / n0)


def test_uniform_fractional_rates_carry_over() -> None:
    w = Workload("t", np.full(10, 2.5), "test")
    t = arrival_times(w, seed=0, process="uniform")
    assert t.size == 25
    assert set(_per_second(t, 10).tolist()) == {2, 3}


def test_unknown_process() -> None:
    with pytest.raises(UnknownNameError, match="poisson, uniform"):
        arrival_times(load_workload("bursty"), 0, process="gamma")


def test_scaled_bursty_count() -> None:
    # speed is measured by benchmarks/simulator_speed.py, not asserted here
    w = load_workload("bursty", load_scale=100)  # about 1.44 M requests
    t = arrival_times(w, seed=1)
    assert abs(t.size - 1_443_700) < 5 * np.sqrt(1_443_700)
    assert np.all(np.diff(t) >= 0)
