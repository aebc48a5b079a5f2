from __future__ import annotations

import numpy as np
import pytest

from ipa_energy.energy.analysis import binned, ewma, idle_active, per_minute, rolling_mean, savgol, smoother
from ipa_energy.energy.formats import DomainSeries
from ipa_energy.errors import ConfigError


def series(power, interval=1.0):
    p = np.asarray(power, dtype=float)
    iv = np.full(len(p), interval)
    return DomainSeries("pkg", np.cumsum(iv), iv, p * iv)


def test_per_minute_is_energy_weighted_and_skips_gaps():
    p = np.r_[np.full(60, 100.0), np.full(60, 80.0), np.full(10, 50.0)]
    p[5] = np.nan  # a gap: not a zero
    b = per_minute(series(p))
    assert b.mean_power_w[0] == pytest.approx(100.0)
    assert b.covered_s[0] == 59
    assert b.mean_power_w[1] == pytest.approx(80.0)
    assert np.isnan(b.mean_power_w[2])  # 10 s of the last minute: not a minute
    assert binned(series(p), 10.0).mean_power_w[-1] == pytest.approx(50.0)


def test_rolling_mean_and_ewma_by_hand():
    x = np.array([1.0, 2.0, np.nan, 4.0])
    assert rolling_mean(x, 2).tolist() == [1.0, 1.5, 2.0, 4.0]
    e = ewma(x, 0.5)
    assert e.tolist() == [1.0, 1.5, 1.5, 2.75]
    with pytest.raises(ConfigError):
        ewma(x, 0)


def test_savgol_preserves_a_line_and_gaps():
    x = np.arange(20, dtype=float) * 2 + 3
    x[7] = np.nan
    y = savgol(x, 7, 2)
    assert np.isnan(y[7])
    ok = ~np.isnan(y)
    assert np.allclose(y[ok], x[ok])  # a quadratic filter reproduces a straight line


def test_smoother_specs():
    assert smoother("rolling:3")[0] == "rolling mean (3)"
    assert smoother("ewma")[0].startswith("EWMA")
    with pytest.raises(ConfigError, match="valid: none, rolling, ewma, savgol"):
        smoother("kalman")
    with pytest.raises(ConfigError, match="bad parameter"):
        smoother("rolling:x")


def test_idle_active_split():
    s = series([73.0, 73.0, 100.0, 90.0])
    r = idle_active(s, idle_w=73.0)
    assert r.idle_j == pytest.approx(4 * 73.0)
    assert r.active_j == pytest.approx(27 + 17)
