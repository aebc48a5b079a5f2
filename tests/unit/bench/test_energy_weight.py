"""Choosing ipa-energy's weight on held-out load: the windows, the history they carry, the rule."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ipa_energy.bench.energy_weight import (
    HISTORY_S,
    WINDOW_S,
    aggregate,
    choose_energy_weight,
    selection_days,
    selection_specs,
    selection_windows,
    summarize,
    write_window_csv,
)
from ipa_energy.predict.split import EVALUATION_WINDOWS
from ipa_energy.runs import execute
from ipa_energy.workloads import load_workload
from ipa_energy.workloads.twitter import SECONDS_PER_DAY, TwitterTrace


def _trace(days: int = 22, seed: int = 0) -> TwitterTrace:
    rng = np.random.default_rng(seed)
    n = days * SECONDS_PER_DAY
    rates = rng.poisson(6.0, n).astype(float) + 1.0
    for k in range(0, n - 3600, 7200):  # bursts and a high plateau now and then, so every shape has a match
        rates[k + 600:k + 900] += 20.0
    (a, b), _ = EVALUATION_WINDOWS["steady_high"]
    for lo in (a, int(17.5 * SECONDS_PER_DAY)):  # the evaluation plateau, and one like it on day 17
        rates[lo - 200:lo + 2000] += 23.0
    gaps = np.zeros(n, dtype=bool)
    gaps[int(16.2 * SECONDS_PER_DAY):int(16.3 * SECONDS_PER_DAY)] = True
    return TwitterTrace(rates, gaps, "synthetic", 8)


def test_windows_avoid_fitted_days_evaluation_days_gaps_and_each_other() -> None:
    trace = _trace()
    days = selection_days(trace)
    assert days == [14, 16, 17, 18, 19, 21]  # not the training days, not days 15 and 20 (evaluation)
    windows = selection_windows(trace)
    assert len(windows) == 2 * len(EVALUATION_WINDOWS)
    used = [(a, b) for wins in EVALUATION_WINDOWS.values() for a, b in wins]
    for w in windows:
        lo, hi = w.start_s - HISTORY_S, w.start_s + WINDOW_S
        assert int(w.start_s // SECONDS_PER_DAY) in days and int((hi - 1) // SECONDS_PER_DAY) in days
        assert not trace.gaps[lo:hi].any()
        assert all(hi <= a or lo >= b for a, b in used)
        others = [o for o in windows if o is not w]
        assert all(abs(o.start_s - w.start_s) >= WINDOW_S + HISTORY_S for o in others)
    high = [w for w in windows if w.like == "steady_high"]
    low = [w for w in windows if w.like == "steady_low"]
    assert min(w.mean_rps for w in high) > max(w.mean_rps for w in low) + 10  # matched on shape


def test_window_csv_loads_with_its_history_and_runs(tmp_path: Path) -> None:
    trace = _trace()
    w = selection_windows(trace)[0]
    path = write_window_csv(trace, w, tmp_path / "w.csv")
    wl = load_workload(str(path))
    assert wl.duration_s == WINDOW_S and wl.history_rps.size == HISTORY_S
    assert np.array_equal(wl.rates_rps, trace.rates_rps[w.start_s:w.start_s + WINDOW_S])
    assert np.array_equal(wl.history_rps, trace.rates_rps[w.start_s - HISTORY_S:w.start_s])
    spec = selection_specs({"w": path}, weights=[0.001], seeds=[10])[0]
    assert (spec.system, spec.seed, dict(spec.weights)) == ("ipa-energy", 10, {"energy": 0.001})
    r = execute(dataclasses.replace(spec, duration_s=30.0))
    assert r.metrics["sent"] > 0


def _rows(table: dict[tuple[str, float], list[Any]]) -> list[dict[str, Any]]:
    return [{"window": w, "energy_weight": ew, "seed": s, "energy_j": e, "pas": p, "sla_violation_pct": v,
             "cost_cores": 1.0, "mean_power_w": 1.0}
            for (w, ew), runs in table.items() for s, (e, p, v) in enumerate(runs)]


def test_rule_uses_seed_means_and_bounds_on_every_window() -> None:
    table = {
        ("a", 0.0): [(100, 1.0, 0.0), (100, 1.0, 0.0)], ("b", 0.0): [(100, 1.0, 1.0), (100, 1.0, 1.0)],
        # 0.01: one seed loses 1.6 % PAS on a, but the mean loses 0.8 %: admissible
        ("a", 0.01): [(90, 0.984, 0.0), (90, 1.0, 0.0)], ("b", 0.01): [(95, 1.0, 1.2), (95, 1.0, 1.4)],
        # 0.1: lower energy, but b's violations rise by 0.6 pp on the mean
        ("a", 0.1): [(50, 1.0, 0.0), (50, 1.0, 0.0)], ("b", 0.1): [(50, 1.0, 1.6), (50, 1.0, 1.6)],
    }
    agg = aggregate(_rows(table))
    assert {(r["window"], r["energy_weight"]): r["seeds"] for r in agg}[("a", 0.01)] == 2
    w, why = choose_energy_weight(agg)
    assert w == 0.01 and "PAS stays within 1%" in why
    s = {x.energy_weight: x for x in summarize(agg) or []}
    assert not s[0.1].admissible and s[0.1].worst_violation_change_pp == pytest.approx(0.6)
    assert choose_energy_weight(aggregate(_rows({("a", 0.1): [(1, 1, 0)]})))[0] is None


def test_a_tie_on_energy_gives_the_middle_weight() -> None:
    base = {("a", 0.0): [(100, 1.0, 0.0)]}
    tied = {("a", w): [(90, 1.0, 0.0)] for w in (0.0001, 0.001, 0.01)}
    worse = {("a", 0.1): [(80, 0.5, 0.0)]}
    assert choose_energy_weight(aggregate(_rows({**base, **tied, **worse})))[0] == 0.001
