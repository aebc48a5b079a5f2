"""carbon_aware and power_capped problem factories, solved with the exact solver."""

from __future__ import annotations

from functools import cache, partial
from pathlib import Path

import numpy as np
import pytest

from ipa_energy.carbon import carbon_source
from ipa_energy.carbon.aware import carbon_aware
from ipa_energy.carbon.capped import power_capped
from ipa_energy.carbon.factory import timed
from ipa_energy.carbon.power_cap import PowerCapSchedule
from ipa_energy.errors import ConfigError
from ipa_energy.optimize.presets import build_problem
from ipa_energy.optimize.problem import Decision, Problem, evaluate
from ipa_energy.optimize.solvers import get_solver
from ipa_energy.pipelines import load_pipeline

video = cache(partial(load_pipeline, "video"))


def base(system: str = "ipa-carbon") -> partial[Problem]:
    return partial(build_problem, video(), system)


def solve(problem: Problem) -> Decision:
    return get_solver("dp").solve(problem)


def square(clean: float = 100.0, dirty: float = 500.0, period_s: float = 600.0) -> object:
    mean, amp = (clean + dirty) / 2, (dirty - clean) / 2
    return carbon_source(f"diurnal:mean_g_per_kwh={mean},amplitude_g_per_kwh={amp},period_s={period_s},shape=square")


def test_weight_mode_scales_the_energy_weight_by_intensity() -> None:
    f = carbon_aware(base(), square(), energy_weight=0.06, reference_g_per_kwh=300.0)  # type: ignore[arg-type]
    assert f(5.0, 0.0).weights.energy == pytest.approx(0.06 * 100 / 300)
    assert f(5.0, 300.0).weights.energy == pytest.approx(0.06 * 500 / 300)
    plain = build_problem(video(), "ipa-carbon", 5.0)
    assert f(5.0, 0.0).weights.accuracy == plain.weights.accuracy and f(5.0, 0).weights.cost == plain.weights.cost


def test_reference_defaults_to_the_mean_over_the_horizon() -> None:
    f = carbon_aware(base(), square(), horizon_s=1200)  # type: ignore[arg-type]
    assert f.reference_g_per_kwh == pytest.approx(300.0)


def test_clean_grid_keeps_accuracy_dirty_grid_cuts_power() -> None:
    f = carbon_aware(base(), square(), energy_weight=0.06, reference_g_per_kwh=300.0)  # type: ignore[arg-type]
    clean, dirty = solve(f(5.0, 10.0)), solve(f(5.0, 310.0))
    assert clean.feasible and dirty.feasible
    assert clean.pas is not None and dirty.pas is not None and clean.power_w is not None and dirty.power_w is not None
    assert dirty.power_w < clean.power_w and dirty.pas < clean.pas


def test_threshold_keeps_the_intensity_until_it_moves_enough(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("t_s,g_co2_per_kwh\n0,300\n10,310\n20,314\n30,400\n40,395\n")
    f = carbon_aware(base(), carbon_source(f"csv:{p}"), threshold=0.05, reference_g_per_kwh=300.0)
    used = []
    for t in (0, 10, 20, 30, 40):
        f(5.0, t)
        used.append(f.state.intensity_used_g_per_kwh)
    # 310 and 314 are within 5 % of 300; 400 is not; 395 is within 5 % of 400
    assert used == [300, 300, 300, 400, 400]
    assert f.state.updates == 2 and f.state.updated_at_t_s == 30 and f.state.last_seen_g_per_kwh == 395
    f.reset()
    assert f.state.intensity_used_g_per_kwh is None
    g = carbon_aware(base(), carbon_source(f"csv:{p}"), threshold=0.0, reference_g_per_kwh=300.0)
    for t in (0, 10, 20):
        g(5.0, t)
    assert g.state.updates == 3


def test_lookahead_uses_the_mean_of_the_coming_interval() -> None:
    f = carbon_aware(base(), square(), lookahead_s=10, threshold=0.0, reference_g_per_kwh=300.0)  # type: ignore[arg-type]
    f(5.0, 295.0)  # 5 s clean, 5 s dirty
    assert f.state.intensity_used_g_per_kwh == pytest.approx(300.0)


def test_lambda_mode_trades_accuracy_for_carbon() -> None:
    pas, power = [], []
    for lam in (0.0, 0.2, 0.5, 0.8, 1.0):
        f = carbon_aware(base(), square(), mode="lambda", lam=lam, reference_g_per_kwh=300.0)  # type: ignore[arg-type]
        d = solve(f(5.0, 300.0))
        assert d.feasible and d.pas is not None and d.power_w is not None
        pas.append(d.pas)
        power.append(d.power_w)
    assert all(a >= b - 1e-12 for a, b in zip(pas, pas[1:], strict=False))
    assert all(a >= b - 1e-9 for a, b in zip(power, power[1:], strict=False))
    assert pas[0] > pas[-1] and power[0] > power[-1]
    # lam = 0: accuracy alone, the best reachable PAS (no other option is more accurate)
    top = solve(build_problem(video(), "ipa", 5.0, weights=type(f(5.0, 0).weights)(accuracy=1.0)))
    assert pas[0] == pytest.approx(top.pas)


@pytest.mark.parametrize(
    "kw", [{"mode": "carbon"}, {"threshold": -0.1}, {"lam": 1.5}, {"energy_weight": -1.0}, {"lookahead_s": -1},
           {"reference_g_per_kwh": 0.0}],
)
def test_bad_options(kw: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        carbon_aware(base(), square(), **kw)  # type: ignore[arg-type]


def test_power_cap_that_binds_for_part_of_a_run_is_never_planned_above(tmp_path: Path) -> None:
    # free for 300 s, then a demand-response event at 9 W for 300 s, then 12 W
    p = tmp_path / "dr.csv"
    p.write_text("t_s,max_power_w\n0,1000\n300,9\n600,12\n")
    schedule = PowerCapSchedule.from_csv(p)
    capped = power_capped(base("ipa"), schedule, interval_s=10.0)
    uncapped = timed(base("ipa"))
    rng = np.random.default_rng(1)
    bound = 0
    for t in range(0, 900, 10):
        rate = float(rng.uniform(3.0, 12.0))
        problem = capped(rate, float(t))
        d = solve(problem)
        cap = schedule.min_over(t, t + 10)
        assert d.feasible
        if problem.max_power_w is None:  # no plan meets the SLA under this cap: lowest power instead
            continue
        assert problem.max_power_w == cap
        assert d.power_w is not None and d.power_w <= cap * (1 + 1e-9)
        # the decision's power re-evaluated from scratch respects the cap too
        again = evaluate(problem, [(s.variant, s.batch, s.replicas) for s in d.stages])
        assert again.feasible and again.power_w == pytest.approx(d.power_w)
        free = solve(uncapped(rate, float(t)))
        assert free.power_w is not None
        bound += free.power_w > cap
    assert bound > 0, "the cap must bind somewhere for the test to mean anything"
    assert capped.state.intervals == 90 and capped.state.over_cap_intervals < 90


def test_carbon_aware_and_power_capped_compose() -> None:
    cap = PowerCapSchedule.constant(9.0)
    f = power_capped(carbon_aware(base(), square(), reference_g_per_kwh=300.0), cap)  # type: ignore[arg-type]
    problem = f(5.0, 10.0)
    assert problem.max_power_w == 9.0 and problem.weights.energy == pytest.approx(0.05 * 100 / 300)
    tighter = power_capped(lambda r: build_problem(video(), "ipa", r, max_power_w=8.0), cap)
    assert tighter(5.0, 0.0).max_power_w == 8.0


def test_a_cap_nothing_fits_under_plans_the_lowest_power_that_meets_the_sla() -> None:
    factory = power_capped(base("ipa"), PowerCapSchedule.constant(1.0))
    problem = factory(10.0, 0.0)
    assert problem.max_power_w is None and factory.state.over_cap_intervals == 1
    d = solve(problem)
    assert d.feasible and d.power_w is not None and d.latency_s is not None
    assert d.latency_s <= video().sla_s
    # nothing that meets the SLA draws less: tighten a cap to just below it and nothing is feasible
    below = build_problem(video(), "ipa", 10.0, max_power_w=d.power_w * (1 - 1e-6))
    assert not solve(below).feasible
    assert factory.state.intervals == 1 and factory.state.last_over_cap_t_s == 0.0


def test_over_cap_policy_leaves_the_fallback_to_the_policy() -> None:
    from ipa_energy.adapt.fallback import fallback_config

    problem = power_capped(base("ipa"), PowerCapSchedule.constant(1.0), over_cap="policy")(10.0, 0.0)
    d = solve(problem)
    assert not d.feasible and "max_power_w" in (d.reason or "")
    # the policy's fallback: lowest-latency options that sustain the rate, not bounded by the cap
    config = fallback_config(problem)
    planned = evaluate(
        build_problem(video(), "ipa", 10.0), [(s.variant, s.batch, s.replicas) for s in config.stages]
    )
    assert planned.feasible and planned.power_w is not None and planned.power_w > 1.0
    with pytest.raises(ConfigError, match="over_cap"):
        power_capped(base("ipa"), PowerCapSchedule.constant(1.0), over_cap="ignore")  # type: ignore[arg-type]
