"""The policy never trusts a solver: a "feasible" answer that breaks the problem is rejected and replaced."""

from __future__ import annotations

import dataclasses

import numpy as np

from ipa_energy.adapt import Policy, Snapshot
from ipa_energy.optimize.presets import build_problem
from ipa_energy.optimize.problem import Decision, Problem
from ipa_energy.optimize.solvers import get_solver
from ipa_energy.optimize.solvers.base import Solver
from ipa_energy.pipelines import load_pipeline
from ipa_energy.predict import get_predictor


class LyingSolver(Solver):
    """Answers the exact optimum with the first stage's replicas made negative (the overflow bug)."""

    name = "liar"

    def solve(self, problem: Problem) -> Decision:
        d = get_solver("dp").solve(problem)
        bad = dataclasses.replace(d.stages[0], replicas=-3)
        return dataclasses.replace(d, stages=(bad, *d.stages[1:]))

    def _choose(self, problem: Problem):  # type: ignore[no-untyped-def]  # never called
        raise AssertionError


def _policy(solver: Solver) -> Policy:
    pipeline = load_pipeline("video")
    return Policy(lambda r, t: build_problem(pipeline, "ipa", r), solver, get_predictor("reactive"))


def test_a_lying_solver_is_rejected_and_the_fallback_applied() -> None:
    step = _policy(LyingSolver()).decide(Snapshot(t_s=0.0, history_rps=np.full(30, 20.0), current=None))
    assert step.source == "rejected"
    assert any("replicas" in r for r in step.rejected)
    assert all(s.replicas >= 1 for s in step.config.stages)


def test_an_honest_solver_is_applied() -> None:
    step = _policy(get_solver("dp")).decide(Snapshot(t_s=0.0, history_rps=np.full(30, 20.0), current=None))
    assert step.source == "solver" and step.rejected == ()
