"""The closed loop of one run: backend observations -> online profile -> the pipeline each decision uses.

:class:`RunLearning` wraps :class:`ipa_energy.profiles.online.OnlineProfile` for the run path:

* ``feed(backend, t_s)`` after every served interval drains ``backend.observations()`` into the
  estimator and rebuilds the planning pipeline (the prior pipeline with the learned planning table);
* ``pipeline()`` is what the problem factory builds each decision from (a profile provider);
* ``compare(step, static_step_problem)`` counts decisions that differ from what the static (offline)
  profile would have given at the same predicted rate (``learned_decision_changes``);
* ``metrics()`` gives the run's ``learned_*`` fields; with an output folder, ``{prefix}_learned.csv`` (per
  interval and observed option: offline, learned and planned latency and energy, error against the
  world) is appended as the run goes, and ``{prefix}_learned_profile.csv`` (a profile CSV that
  ``--profile`` accepts, ``source`` saying which rows are learned and from which meter) is written at
  every interval, so a killed run keeps the last one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ipa_energy.adapt import AdaptationStep
from ipa_energy.adapt.fallback import fallback_config
from ipa_energy.backends import Backend, PipelineConfig, StageConfig
from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import Problem
from ipa_energy.optimize.solvers.base import Solver
from ipa_energy.profiles import ProfileTable, save_profile
from ipa_energy.profiles.online import LearnParams, OnlineProfile
from ipa_energy.runs.records import RowWriter


class RunLearning:
    """The online profile of one run and what it changed (see the module doc)."""

    def __init__(
        self,
        pipeline: Any,
        *,
        world: ProfileTable | None,
        label: str,
        params: LearnParams = LearnParams(),
        out_dir: Path | None = None,
        prefix: str = "",
    ) -> None:
        self.prior_pipeline = pipeline
        self.profile = OnlineProfile(pipeline.profile, params)
        self.world = world
        self.label = label
        self.decision_changes = 0
        self._pipeline = pipeline
        name = f"{prefix}_" if prefix else ""
        self._log = RowWriter(Path(out_dir) / f"{name}learned.csv") if out_dir is not None else None
        self.profile_path = Path(out_dir) / f"{name}learned_profile.csv" if out_dir is not None else None

    def pipeline(self) -> Any:
        """The pipeline the next decision plans with: the prior's, with the current planning table."""
        return self._pipeline

    def feed(self, backend: Backend, t_s: float) -> None:
        """Take the backend's new observations; rebuild the planning pipeline; log and write."""
        if not self.profile.observe_all(backend.observations()):
            return
        table = self.profile.planning_table(self.label)
        self._pipeline = dataclasses.replace(self.prior_pipeline, profile=table)
        if self._log is not None:
            for row in self._rows(t_s):
                self._log.write(row)
        if self.profile_path is not None:
            save_profile(table, self.profile_path)

    def compare(self, step: AdaptationStep, static_problem: Callable[[AdaptationStep], Problem],
                solver: Solver) -> None:
        """Count ``step`` as changed by learning when the static profile's decision differs."""
        if not self.profile.observed:
            return
        problem = static_problem(step)
        decision = solver.solve(problem)
        if decision.feasible:
            static = PipelineConfig(tuple(StageConfig(s.variant, s.batch, s.replicas) for s in decision.stages))
        else:
            static = fallback_config(problem)
        if static != step.config:
            self.decision_changes += 1

    def metrics(self) -> dict[str, Any]:
        err = self.profile.profile_error(self.world) if self.world is not None else None
        return {
            "learning": True,
            "learned_observations": self.profile.observed,
            "learned_unmatched_observations": self.profile.unmatched,
            "learned_options": len(self.profile.options_observed()),
            "learned_profile_error": None if err is None else err.mean,
            "learned_latency_error": None if err is None else err.latency,
            "learned_energy_error": None if err is None else err.energy,
            "learned_decision_changes": self.decision_changes,
        }

    def close(self) -> None:
        if self._log is not None:
            self._log.close()

    def files(self) -> tuple[str, ...]:
        out = []
        if self._log is not None and self._log.path.exists():
            out.append(str(self._log.path))
        if self.profile_path is not None and self.profile_path.exists():
            out.append(str(self.profile_path))
        return tuple(out)

    def _world_row(self, key: tuple[str, str, int, int | None]) -> Any:
        if self.world is None:
            return None
        try:
            return self.world.lookup(*key)
        except ConfigError:
            return None

    def _rows(self, t_s: float) -> list[dict[str, Any]]:
        ests = self.profile.estimates()
        rows = []
        for key in self.profile.options_observed():
            e = ests[key]
            w = self._world_row(key)
            rows.append({
                "t_s": t_s, "stage": key[0], "variant": key[1], "batch": key[2], "cores": key[3], "n": e.n,
                "offline_latency_s": e.prior.latency_s, "learned_latency_s": e.latency_s,
                "planned_latency_s": e.planned_latency_s, "latency_se_log": e.latency.se_log,
                "offline_energy_j": e.prior.energy_j, "learned_energy_j": e.energy_j,
                "planned_energy_j": e.planned_energy_j, "energy_se_log": e.energy.se_log,
                "world_latency_s": None if w is None else w.latency_s,
                "world_energy_j": None if w is None else w.energy_j,
                "latency_error": None if w is None else abs(e.latency_s - w.latency_s) / w.latency_s,
                "energy_error": None if w is None or not (w.energy_j > 0 and math.isfinite(e.energy_j))
                else abs(e.energy_j - w.energy_j) / w.energy_j,
                "energy_source": "+".join(e.energy_sources),
            })
        return rows


def no_learning_metrics() -> dict[str, Any]:
    """The learned fields of a run without learning (``--no-learn``)."""
    return {
        "learning": False, "learned_observations": 0, "learned_unmatched_observations": 0,
        "learned_options": 0, "learned_profile_error": None, "learned_latency_error": None,
        "learned_energy_error": None, "learned_decision_changes": 0,
    }


__all__ = ["RunLearning", "no_learning_metrics"]
