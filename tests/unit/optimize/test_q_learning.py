"""The Q-learning solver: valid answers, quality against the exact optimum, warm start, CLI.

It is a heuristic, so the tests bound its answers by the exact optimum (dp) instead of asserting
equality, and check the quality property of issue 6 (within 2 % on at least 80 %) on a seeded sample.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import Decision, Problem, ProfilePoint, Stage, Variant, Weights, evaluate
from ipa_energy.optimize.problem_io import problem_to_dict
from ipa_energy.optimize.random_problems import random_problem
from ipa_energy.optimize.solvers import get_solver
from ipa_energy.optimize.solvers.q_learning import QLearningSolver, _Model


def mixed_problem(seed: int) -> Problem:
    """Sum and product PAS, budgets on a third, fixed_* stages on a quarter of the seeds."""
    return random_problem(
        seed, accuracy_method="product" if seed % 2 else "sum", budgets=seed % 3 == 0, fixed=seed % 4 == 0
    )


def within_2pct(d: Decision, opt: Decision) -> bool:
    assert opt.objective is not None
    return d.feasible and d.objective is not None and abs(d.objective - opt.objective) <= 0.02 * abs(
        opt.objective
    )


def test_registered_and_default_budget() -> None:
    solver = get_solver("q-learning")
    assert isinstance(solver, QLearningSolver)
    assert solver.name == "q-learning"


def test_answers_are_feasible_never_beat_the_optimum_and_respect_fixed() -> None:
    dp = get_solver("dp")
    n_infeasible = 0
    for seed in range(40):
        p = mixed_problem(seed)
        opt = dp.solve(p)
        d = QLearningSolver(episodes=60, seed=seed).solve(p)
        if not opt.feasible:
            n_infeasible += 1
            assert not d.feasible and d.reason  # it cannot find what does not exist
            continue
        if not d.feasible:
            continue  # a heuristic may miss feasibility (the quality test bounds how often)
        assert d.objective is not None and d.objective <= opt.objective + 1e-9 * max(1.0, abs(opt.objective))
        # an independent evaluation of the returned configuration agrees (rate, SLA ticks, budgets)
        again = evaluate(p, [(s.variant, s.batch, s.replicas) for s in d.stages])
        assert again.feasible and again.objective == pytest.approx(d.objective, rel=1e-9, abs=1e-12)
        for stage, choice in zip(p.stages, d.stages, strict=True):
            assert stage.fixed_variant in (None, choice.variant)
            assert stage.fixed_batch in (None, choice.batch)
            assert stage.fixed_replicas in (None, choice.replicas)
    assert 0 < n_infeasible < 40


def test_within_2pct_of_the_optimum_on_80pct_with_the_default_budget() -> None:
    dp = get_solver("dp")
    hits = feasible = 0
    for seed in range(50):
        p = mixed_problem(seed)
        opt = dp.solve(p)
        if not opt.feasible:
            continue
        feasible += 1
        hits += within_2pct(QLearningSolver(seed=seed).solve(p), opt)
    assert feasible >= 35
    assert hits >= 0.8 * feasible, f"{hits}/{feasible} within 2 %"


def test_more_episodes_do_not_hurt_on_average() -> None:
    dp = get_solver("dp")
    few = many = 0
    for seed in range(20):
        p = random_problem(seed)
        opt = dp.solve(p)
        if not opt.feasible:
            continue
        few += within_2pct(QLearningSolver(episodes=10, seed=seed).solve(p), opt)
        many += within_2pct(QLearningSolver(episodes=200, seed=seed).solve(p), opt)
    assert many > few


def test_same_seed_same_answer_and_report() -> None:
    p = random_problem(3)
    a, b = QLearningSolver(seed=7), QLearningSolver(seed=7)
    da, db = a.solve(p), b.solve(p)
    assert da.stages == db.stages and da.objective == db.objective
    assert a.last_report is not None and b.last_report is not None
    ra, rb = a.last_report, b.last_report
    assert (ra.steps, ra.states_visited, ra.returned) == (rb.steps, rb.states_visited, rb.returned)
    assert ra.episodes == 600 and 0 < ra.steps <= 600 * 40 and not ra.warm
    assert ra.returned in ("policy", "best-seen")
    assert ra.best_seen_objective == pytest.approx(da.objective)
    assert ra.policy_objective is None or ra.policy_objective <= da.objective + 1e-12


def _policy_within_2pct(solver: QLearningSolver, opt: Decision) -> bool:
    rep = solver.last_report
    assert rep is not None and opt.objective is not None
    return rep.policy_objective is not None and abs(rep.policy_objective - opt.objective) <= 0.02 * abs(
        opt.objective
    )


def test_q_table_persists_and_warm_start_needs_fewer_episodes() -> None:
    """Trained at one rate, then 10 episodes at a rate 15 % higher.

    The warm solver (kept Q-table, previous answer as start) answers as well with 10 episodes as a cold
    one cannot; the kept table is what makes the greedy policy itself good that fast (the previous answer
    alone, with an empty table, gives the same start but not the policy).
    """
    dp = get_solver("dp")
    cold_hits = warm_hits = warm_policy = prev_policy = n = 0
    for seed in range(30):
        p1 = random_problem(seed)
        p2 = dataclasses.replace(p1, arrival_rate=p1.arrival_rate * 1.15)
        opt = dp.solve(p2)
        if not opt.feasible or not dp.solve(p1).feasible:
            continue
        n += 1
        warm = QLearningSolver(seed=seed, warm_episodes=10)
        warm.solve(p1)
        size = warm.q_table_states
        assert size > 0
        warm_hits += within_2pct(warm.solve(p2), opt)
        warm_policy += _policy_within_2pct(warm, opt)
        assert warm.last_report is not None and warm.last_report.warm
        assert warm.last_report.episodes == 10
        assert warm.q_table_states >= size  # nothing learned at the first rate was dropped
        prev = QLearningSolver(seed=seed)
        prev.solve(p1)
        prev._q.clear()  # the previous answer as start state, but nothing learned
        prev.episodes = 10  # with an empty table the next call is a cold one
        prev.solve(p2)
        prev_policy += _policy_within_2pct(prev, opt)
        cold_hits += within_2pct(QLearningSolver(seed=seed, episodes=10).solve(p2), opt)
    assert n >= 20
    assert warm_hits >= 0.8 * n and cold_hits < 0.6 * n, (warm_hits, cold_hits, n)
    assert warm_policy > prev_policy + 0.2 * n, (warm_policy, prev_policy, n)


def test_table_is_reset_when_the_pipeline_changes() -> None:
    ql = QLearningSolver(episodes=20)
    ql.solve(random_problem(1))
    assert ql.q_table_states > 0
    ql.solve(random_problem(2))  # same stages, variant names and batches (only numbers differ): kept
    assert ql.last_report is not None and ql.last_report.warm
    ql.solve(random_problem(2, n_variants=4))  # another variant list: the keys would mean something else
    assert ql.last_report is not None and not ql.last_report.warm
    ql.reset()
    assert ql.q_table_states == 0


def _tiny(stage_variants: tuple[Variant, ...], **kw: object) -> Problem:
    return Problem(
        arrival_rate=10.0, sla_s=5.0, stages=(Stage("a", stage_variants), Stage("b", stage_variants)),
        max_replicas=10, **kw,  # type: ignore[arg-type]
    )


def test_extra_replicas_are_charged_and_under_provisioning_is_infeasible() -> None:
    v = (
        Variant("small", 0.5, 1, (ProfilePoint(1, 0.1, 0.5), ProfilePoint(4, 0.3, 1.2))),
        Variant("big", 0.9, 2, (ProfilePoint(1, 0.4, 2.0), ProfilePoint(4, 1.0, 5.0))),
    )
    p = _tiny(v, weights=Weights(accuracy=10, cost=0.1, batch=0.01, energy=0.05), idle_power_w_per_core=3.0)
    m = _Model(p, -1000.0)
    # small@1 needs 1 replica at 10 rps x 0.1 s; big@4 needs ceil(10 * 1.0 / 4) = 3
    for extra_a, extra_b in ((0, 0), (2, 1), (5, 0)):
        state = (0, 1, extra_a, 1, 4, extra_b)
        ref = evaluate(p, [("small", 1, 1 + extra_a), ("big", 4, 3 + extra_b)])
        assert ref.feasible
        assert m.objective(state) == pytest.approx(ref.objective, rel=1e-12)
    assert m.objective((0, 1, 0, 1, 4, -1)) is None  # 2 replicas of big@4 cannot sustain 10 rps
    assert m.reward((0, 1, 0, 1, 4, -1)) == -1000.0


def test_violation_reward_is_below_every_feasible_objective() -> None:
    """With a cost weight that puts feasible objectives under -1000, violations must still rank lower."""
    v = (
        Variant("small", 0.5, 1, (ProfilePoint(1, 0.1, 0.5),)),
        Variant("big", 0.9, 8, (ProfilePoint(1, 0.4, 2.0),)),
    )
    p = _tiny(v, weights=Weights(accuracy=1, cost=100.0))
    m = _Model(p, -1000.0)
    assert m.violation < m.objective_lower_bound() < -1000
    d = QLearningSolver(episodes=50).solve(p)
    opt = get_solver("dp").solve(p)
    assert d.feasible and d.objective == pytest.approx(opt.objective)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"episodes": 0}, "episodes"),
        ({"steps_per_episode": 0}, "steps_per_episode"),
        ({"warm_episodes": 0}, "warm_episodes"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"discount": 1.0}, "discount"),
        ({"epsilon_start": 1.5}, "epsilon_start"),
        ({"violation_reward": 5.0}, "violation_reward"),
        ({"initial_q": "optimistic"}, "initial_q"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as e:
        QLearningSolver(**kwargs)  # type: ignore[arg-type]
    assert e.value.field == field and field in str(e.value)


def test_cli_solve_with_q_learning(tmp_path: Path) -> None:
    from ipa_energy.cli.main import cli

    p = random_problem(1, budgets=True)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(problem_to_dict(p)))
    r = CliRunner().invoke(cli, ["solve", str(path), "--solver", "q-learning", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["solver"] == "q-learning" and out["feasible"] is True
    assert 0 < out["solve_time_s"] < 30
    opt = get_solver("dp").solve(p)
    assert opt.objective is not None
    assert out["objective"] <= opt.objective + 1e-9
    assert out["latency_s"] <= p.sla_s + 1e-9
    assert [s["name"] for s in out["stages"]] == [s.name for s in p.stages]
