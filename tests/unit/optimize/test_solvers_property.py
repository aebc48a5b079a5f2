"""Every exact solver (dp, milp, ipa-milp) returns brute's optimum, and its Decision is self-consistent.

Seeded random problems (``random_problem``) and hypothesis-built ones cover: feasible and infeasible,
sum and product PAS (accuracies above 1 included), max_cores / max_power_w budgets, fixed_* stages,
SLA equality (the optimum sits exactly at sla_s) and exact replica counts (100 rps x 0.07 s).
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipa_energy.optimize.problem import (
    TICKS_PER_S,
    Decision,
    Problem,
    ProfilePoint,
    Stage,
    Variant,
    Weights,
    evaluate,
    min_replicas,
    same_optimum,
    stage_options,
    to_ticks,
)
from ipa_energy.optimize.random_problems import random_problem
from ipa_energy.optimize.solvers import get_solver

EXACT = ("dp", "milp", "ipa-milp")


def assert_consistent(problem: Problem, d: Decision) -> None:
    """A feasible Decision equals evaluate() of its own configuration and honours every constraint."""
    if not d.feasible:
        assert d.reason and d.stages == () and d.objective is None
        return
    choice = [(s.variant, s.batch, s.replicas) for s in d.stages]
    ev = evaluate(problem, choice)
    assert ev.feasible, (d, ev.reason)
    assert d.objective is not None and ev.objective is not None
    assert math.isclose(d.objective, ev.objective, rel_tol=1e-12, abs_tol=1e-12)
    assert d.pas == pytest.approx(ev.pas, rel=1e-12)
    assert d.cost_cores == ev.cost_cores
    assert d.power_w == pytest.approx(ev.power_w, rel=1e-12, abs=1e-12)
    assert d.latency_s == pytest.approx(ev.latency_s, rel=1e-12)
    assert sum(to_ticks(s.latency_s) for s in d.stages) <= problem.sla_ticks
    if problem.max_cores is not None:
        assert d.cost_cores is not None and d.cost_cores <= problem.max_cores
    for stage, sc in zip(problem.stages, d.stages, strict=True):
        assert sc.name == stage.name
        if stage.fixed_variant is not None:
            assert sc.variant == stage.fixed_variant
        if stage.fixed_batch is not None:
            assert sc.batch == stage.fixed_batch
        if stage.fixed_replicas is not None:
            assert sc.replicas == stage.fixed_replicas
        else:  # the smallest replica count that sustains the rate
            lat = next(p.latency_s for v in stage.variants if v.name == sc.variant for p in v.profile
                       if p.batch == sc.batch)
            assert sc.replicas == min_replicas(problem.arrival_rate, sc.batch, lat) <= problem.max_replicas


def check_all(problem: Problem, solvers: tuple[str, ...] = EXACT) -> Decision:
    ref = get_solver("brute").solve(problem)
    assert_consistent(problem, ref)
    for name in solvers:
        d = get_solver(name).solve(problem)
        assert d.solver == name
        assert same_optimum(d, ref), (name, problem, d, ref)
        assert_consistent(problem, d)
        if not d.feasible:
            assert d.reason == ref.reason
    return ref


# -- seeded random problems: 8 families x (60 for dp/milp, 20 for ipa-milp) = 640 problems ----------------
FAMILIES = [(m, b, f) for m in ("sum", "product") for b in (False, True) for f in (False, True)]


@pytest.mark.parametrize(("mode", "budgets", "fixed"), FAMILIES)
def test_seeded_random_problems(mode: str, budgets: bool, fixed: bool) -> None:
    outcomes = set()
    for seed in range(60):
        p = random_problem(seed, accuracy_method=mode, budgets=budgets, fixed=fixed)
        ref = check_all(p, EXACT if seed < 20 else ("dp", "milp"))
        outcomes.add(ref.feasible)
    assert outcomes == {True, False}  # each family covers both outcomes


# -- hypothesis: small problems with arbitrary structure ---------------------------------------------------
@st.composite
def problems(draw: st.DrawFn) -> Problem:
    lam = draw(st.sampled_from([0.5, 1.0, 2.5, 7.0, 10.0, 14.5, 100.0]))
    stages = []
    for s in range(draw(st.integers(1, 3))):
        variants = []
        for v in range(draw(st.integers(1, 3))):
            batches = sorted(draw(st.lists(st.sampled_from([1, 2, 4, 8]), min_size=1, max_size=3, unique=True)))
            profile = tuple(
                ProfilePoint(b, draw(st.integers(1, 400)) / 1000, draw(st.integers(0, 60)) / 10) for b in batches
            )
            acc = draw(st.sampled_from([0.3, 0.5, 0.7, 0.75, 0.9, 1.0, 1.25]))
            variants.append(Variant(f"v{v}", acc, draw(st.sampled_from([1, 2, 4])), profile))
        fixed = draw(st.sampled_from([None, None, "variant", "batch", "replicas"]))
        stage = Stage(f"st{s}", tuple(variants))
        if fixed == "variant":
            stage = dataclasses.replace(stage, fixed_variant=draw(st.sampled_from(variants)).name)
        elif fixed == "batch":
            stage = dataclasses.replace(stage, fixed_batch=draw(st.sampled_from([1, 2, 4, 8])))
        elif fixed == "replicas":
            stage = dataclasses.replace(stage, fixed_replicas=draw(st.integers(1, 5)))
        stages.append(stage)
    weights = Weights(
        accuracy=draw(st.sampled_from([0.0, 1.0, 5.0, 20.0])),
        cost=draw(st.sampled_from([0.0, 0.01, 1.0])),
        batch=draw(st.sampled_from([0.0, 0.01])),
        energy=draw(st.sampled_from([0.0, 0.1])),
    )
    p = Problem(
        arrival_rate=lam,
        sla_s=1.0,
        stages=tuple(stages),
        max_replicas=draw(st.sampled_from([1, 3, 10])),
        accuracy_method=draw(st.sampled_from(["sum", "product"])),
        idle_power_w_per_core=draw(st.sampled_from([0.0, 2.5])),
        weights=weights,
        max_cores=draw(st.one_of(st.none(), st.integers(1, 30))),
        max_power_w=draw(st.one_of(st.none(), st.integers(1, 400).map(float))),
    )
    # SLA relative to the fastest choice; factor 1.0 puts the only SLA-feasible latency exactly at sla_s
    opts = [stage_options(p, i) for i in range(len(p.stages))]
    fastest = sum(min((o.latency_ticks for o in os_), default=0) for os_ in opts)
    factor = draw(st.sampled_from([0.9, 1.0, 1.0, 1.3, 2.0, 5.0]))
    sla_s = max(1, round(fastest * factor)) / TICKS_PER_S
    return dataclasses.replace(p, sla_s=sla_s)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_hypothesis_problems(problem: Problem) -> None:
    check_all(problem)


# -- SLA equality: the unconstrained optimum with sla_s set to exactly its latency ----------------------
@pytest.mark.parametrize("mode", ["sum", "product"])
def test_sla_equality_is_feasible(mode: str) -> None:
    checked = 0
    for seed in range(40):
        loose = random_problem(seed, accuracy_method=mode, fixed=seed % 2 == 1)
        loose = dataclasses.replace(loose, sla_s=1e6)
        best = get_solver("brute").solve(loose)
        if not best.feasible:
            continue
        ticks = sum(to_ticks(s.latency_s) for s in best.stages)
        tight = dataclasses.replace(loose, sla_s=ticks / TICKS_PER_S)
        assert tight.sla_ticks == ticks
        for name in ("brute", *EXACT):
            d = get_solver(name).solve(tight)
            assert same_optimum(d, best), (name, seed, d, best)  # equality feasible: nothing is lost
            assert_consistent(tight, d)
        # one tick less: every solver still agrees with brute on the (now different) constrained optimum
        check_all(dataclasses.replace(tight, sla_s=(ticks - 1) / TICKS_PER_S))
        checked += 1
    assert checked >= 20


def _one_stage(latency_s: float, batch: int = 1, **problem_kw: object) -> Problem:
    v = Variant("m", 0.8, 1, (ProfilePoint(batch, latency_s, 1.0),))
    stage_kw = {k: problem_kw.pop(k) for k in ("fixed_replicas",) if k in problem_kw}
    base: dict[str, object] = {"arrival_rate": 100.0, "sla_s": 10.0, "stages": (Stage("s", (v,), **stage_kw),)}
    base.update(problem_kw)
    return Problem(**base)  # type: ignore[arg-type]


# -- exact replicas: 100 rps x 0.07 s / batch 1 needs exactly 7 replicas (7.000000000000001 in floats) ------
@pytest.mark.parametrize("name", ["brute", *EXACT])
def test_exact_integer_replicas(name: str) -> None:
    assert 100 * 0.07 > 7  # the float trap this guards against
    d = get_solver(name).solve(_one_stage(0.07, max_replicas=7))
    assert d.feasible and d.stages[0].replicas == 7
    d = get_solver(name).solve(_one_stage(0.07, max_replicas=6))
    assert not d.feasible and d.reason is not None and "max_replicas=6" in d.reason
    d = get_solver(name).solve(_one_stage(0.07, fixed_replicas=7))
    assert d.feasible and d.stages[0].replicas == 7
    d = get_solver(name).solve(_one_stage(0.07, fixed_replicas=6))
    assert not d.feasible and d.reason is not None and "fixed_replicas=6" in d.reason
    # batch 4 at 0.28 s: 100 * 0.28 / 4 = 7 exactly (7.000000000000001 in floats)
    d = get_solver(name).solve(_one_stage(0.28, batch=4, max_replicas=7))
    assert d.feasible and d.stages[0].replicas == 7


# -- each reason diagnose_infeasible gives, through every solver ---------------------------------------
def _two_stage(**kw: object) -> Problem:
    fast = Variant("fast", 0.5, 1, (ProfilePoint(1, 0.010, 0.1), ProfilePoint(4, 0.020, 0.2)))
    slow = Variant("slow", 0.9, 4, (ProfilePoint(1, 0.050, 1.0), ProfilePoint(4, 0.100, 2.0)))
    stages = (Stage("a", (fast, slow)), Stage("b", (fast, slow)))
    base: dict[str, object] = {"arrival_rate": 10.0, "sla_s": 1.0, "stages": stages, "max_replicas": 10}
    base.update(kw)
    return Problem(**base)  # type: ignore[arg-type]


INFEASIBLE = {
    "fixed_replicas": (
        lambda: _two_stage(arrival_rate=1000.0, max_replicas=100,
                           stages=(dataclasses.replace(_two_stage().stages[0], fixed_replicas=2),
                                   _two_stage().stages[1])),
        "cannot reach the rate 1000.0 rps with fixed_replicas=2",
    ),
    "max_replicas": (lambda: _two_stage(arrival_rate=1000.0, max_replicas=2), "within max_replicas=2"),
    "sla": (lambda: _two_stage(sla_s=0.019), "fastest option per stage still exceeds the SLA"),
    "max_cores": (lambda: _two_stage(max_cores=1), "fewest cores per stage still exceed max_cores"),
    "max_power_w": (lambda: _two_stage(max_power_w=0.5), "lowest power per stage still exceeds max_power_w"),
    # the fastest pair (fast b1) fits the SLA, the least-power pair (fast b4) fits the budget, not both
    "combination": (
        lambda: _two_stage(sla_s=0.035, max_power_w=1.6),
        "no combination meets the SLA and the budgets together",
    ),
}


@pytest.mark.parametrize("case", sorted(INFEASIBLE))
def test_infeasible_reason_names_binding_constraint(case: str) -> None:
    make, phrase = INFEASIBLE[case]
    problem = make()
    for name in ("brute", *EXACT):
        d = get_solver(name).solve(problem)
        assert not d.feasible, (case, name, d)
        assert d.reason is not None and phrase in d.reason, (case, name, d.reason)
        assert d.to_json()["reason"] == d.reason


def test_relaxing_the_binding_constraint_restores_feasibility() -> None:
    """The reasons are not just strings: lifting the named constraint makes each case feasible."""
    relaxed = {
        "max_replicas": _two_stage(arrival_rate=1000.0, max_replicas=100),
        "sla": _two_stage(sla_s=0.02),
        "max_cores": _two_stage(max_cores=2),
        "max_power_w": _two_stage(max_power_w=2.0),
        "combination": _two_stage(sla_s=0.035, max_power_w=5.0),
    }
    for case, problem in relaxed.items():
        for name in ("brute", *EXACT):
            assert get_solver(name).solve(problem).feasible, (case, name)
