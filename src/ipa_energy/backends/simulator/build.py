"""Build the simulator for a run (the ``sim`` entry of :data:`ipa_energy.backends.BACKENDS`)."""

from __future__ import annotations

from dataclasses import replace

from ipa_energy.backends.base import BackendContext
from ipa_energy.backends.simulator.backend import SimParams, SimulatorBackend


def build_simulator(ctx: BackendContext) -> SimulatorBackend:
    """The simulated world serves the pipeline's profile as measured (no planning latency margin), or
    ``ctx.world_profile`` where given: what the simulated machines really do, apart from what the
    optimizer plans with. Every completed batch is recorded for :meth:`SimulatorBackend.observations`.

    ``ctx.options`` may override any :class:`SimParams` field by name (experiment ``sim:`` blocks).
    """
    from ipa_energy.optimize.presets import build_problem

    pipeline = ctx.pipeline
    if ctx.world_profile is not None:
        pipeline = replace(pipeline, profile=ctx.world_profile)
    # any positive rate: only the stages (variants, profiles, cores) and the power model are used
    world = build_problem(pipeline, ctx.system, 1.0, latency_factor=1.0)
    overrides = dict(ctx.options)
    if ctx.max_batch_wait_s is not None:
        overrides.setdefault("max_batch_wait_s", ctx.max_batch_wait_s)
    params = SimParams(**{
        "drop_limit_s": pipeline.drop_limit_s,
        "idle_power_w_per_core": world.idle_power_w_per_core,
        "seed": ctx.seed,
        **overrides,
    })
    return SimulatorBackend(world.stages, ctx.arrival_times_s, sla_s=pipeline.sla_s,
                            accuracy_method=world.accuracy_method, params=params, record_observations=True)


__all__ = ["build_simulator"]
