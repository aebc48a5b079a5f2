"""What to run when no configuration meets the SLA at the predicted rate.

Serving must go on: per stage, among the options that respect the stage's fixed_* constraints, take the
one that sustains the rate with the lowest stage latency; when none sustains it within max_replicas (or
fixed_replicas), take the highest-throughput option at the replica cap. Under a core budget
(``max_cores``) that this exceeds, serve the most the budget holds instead: per stage the option with
the most requests/s per core, and the replicas the budget allows shared so as to raise the lowest
stage capacity (a stage at its fixed count or the replica cap takes none). One replica per stage is
kept even when that alone exceeds the budget. The step is marked "fallback".
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
    return PipelineConfig(tuple(_within_cores(problem, out)))


def _within_cores(problem: Problem, configs: list[StageConfig]) -> list[StageConfig]:
    """``configs`` if they fit ``max_cores``; else the most throughput the budget holds: per stage the
    option with the most requests/s per core, one replica each (or the fixed count), then each spare
    replica to the stage whose capacity is lowest, while it fits."""
    if problem.max_cores is None:
        return configs
    stages = problem.stages
    cores_of = [{v.name: v.cores for v in st.variants} for st in stages]
    if sum(c.replicas * cores_of[i][c.variant] for i, c in enumerate(configs)) <= problem.max_cores:
        return configs
    picks = []
    for st in stages:
        _, name, batch, k, rps = max(
            (p.batch / p.latency_s / v.cores, v.name, p.batch, v.cores, p.batch / p.latency_s)
            for v in st.variants if st.fixed_variant in (None, v.name)
            for p in v.profile if st.fixed_batch in (None, p.batch)
        )
        picks.append((name, batch, k, rps))
    replicas = [st.fixed_replicas or 1 for st in stages]
    used = sum(n * k for n, (_, _, k, _) in zip(replicas, picks, strict=True))
    while True:
        free = [i for i, st in enumerate(stages) if st.fixed_replicas is None
                and replicas[i] < problem.max_replicas and used + picks[i][2] <= problem.max_cores]
        if not free:
            break
        i = min(free, key=lambda j: (replicas[j] * picks[j][3], j))
        replicas[i] += 1
        used += picks[i][2]
    return [StageConfig(name, batch, n) for (name, batch, _, _), n in zip(picks, replicas, strict=True)]


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
