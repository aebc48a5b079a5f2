"""The adaptation a run gets: its system's :class:`~ipa_energy.optimize.presets.AdaptationSpec`
(predictor, start-up-aware horizon, reactive guard; headroom is in the system's problem), with the
run spec's explicit predictor override.

* ``RunSpec.predictor`` None (the default) = the system's predictor (``gbm-q90`` for ``ipa`` and the other
  presets, ``lstm`` for ``ipa-paper``); a name overrides it and changes nothing else.
* The horizon reads the backend's stated change delays (``Backend.change_delays_s``) at every decision.
* The guard, when the system has one, runs with :class:`~ipa_energy.adapt.guard.GuardParams` defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ipa_energy.adapt.guard import GuardParams
from ipa_energy.adapt.policy import Horizon, Policy
from ipa_energy.backends.base import Backend
from ipa_energy.runs.spec import RunSpec


@dataclass(frozen=True)
class RunAdaptation:
    """What the run path needs: the policy, the guard's parameters (None: no guard), the predictor name."""

    policy: Policy
    guard: GuardParams | None
    predictor: str


def run_predictor(spec: RunSpec, pipeline: Any) -> str:
    """The predictor ``spec`` runs with: its explicit one, else its system's."""
    from ipa_energy.optimize.presets import system_spec

    return spec.predictor if spec.predictor is not None else system_spec(pipeline, spec.system).adaptation.predictor


def build_adaptation(spec: RunSpec, pipeline: Any, backend: Backend, problem_for_rate: Any) -> RunAdaptation:
    """The policy (system's solver, predictor, horizon) and guard of ``spec`` on ``backend``."""
    from ipa_energy.optimize.presets import system_solver, system_spec
    from ipa_energy.optimize.solvers import get_solver
    from ipa_energy.predict import get_predictor

    adaptation = system_spec(pipeline, spec.system).adaptation
    predictor = run_predictor(spec, pipeline)
    solver_name = system_solver(spec.system)
    policy = Policy(
        problem_for_rate,
        get_solver(solver_name),
        get_predictor(predictor),
        initial_rate_rps=spec.initial_rate_rps,
        # a heuristic's objective gap per interval is measured against the exact optimum
        reference_solver=None if solver_name == "dp" else get_solver("dp"),
        horizon=Horizon(backend.change_delays_s, spec.interval_s) if adaptation.horizon else None,
    )
    return RunAdaptation(policy, GuardParams() if adaptation.guard else None, predictor)


__all__ = ["RunAdaptation", "build_adaptation", "run_predictor"]
