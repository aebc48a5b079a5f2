"""What to run when no configuration meets the SLA at the predicted rate.

Serving must go on: per stage, among the options that respect the stage's fixed_* constraints, take the
one that sustains the rate with the lowest stage latency; when none sustains it within max_replicas (or
fixed_replicas), take the highest-throughput option at the replica cap. The step is marked "fallback".
"""

from __future__ import annotations

import math

from ipa_energy.backends.base import PipelineConfig, StageConfig
from ipa_energy.optimize.problem import Problem, stage_options
from ipa_energy.rules.scoring import stage_power_w


def fallback_config(problem: Problem) -> PipelineConfig:
    out = []
    for i, stage in enumerate(problem.stages):
        opts = stage_options(problem, i)
        if opts:
            best = min(opts, key=lambda o: (o.latency_ticks, o.cores))
            out.append(StageConfig(best.variant, best.batch, best.replicas))
            continue
        cap = stage.fixed_replicas if stage.fixed_replicas is not None else problem.max_replicas
        candidates = [
            (cap * p.batch / p.latency_s, -p.latency_s, v.name, p.batch)
            for v in stage.variants
            if stage.fixed_variant in (None, v.name)
            for p in v.profile
            if stage.fixed_batch in (None, p.batch)
        ]
        _, _, name, batch = max(candidates)
        out.append(StageConfig(name, batch, cap))
    return PipelineConfig(tuple(out))


def config_power_w(problem: Problem, config: PipelineConfig) -> float | None:
    """Planned power (W) of ``config`` at the problem's rate, as the solvers count it (idle W of the
    allocated cores + dynamic W of serving the rate), feasible or not; None if a choice is not profiled."""
    total: list[float] = []
    for stage, choice in zip(problem.stages, config.stages, strict=True):
        v = next((v for v in stage.variants if v.name == choice.variant), None)
        p = None if v is None else next((p for p in v.profile if p.batch == choice.batch), None)
        if v is None or p is None:
            return None
        total.append(stage_power_w(choice.replicas * v.cores, problem.idle_power_w_per_core,
                                   problem.arrival_rate, p.energy_j, choice.batch))
    return math.fsum(total)
