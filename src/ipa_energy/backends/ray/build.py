"""Build the Ray Serve backend for a run (the ``ray`` entry of :data:`ipa_energy.backends.BACKENDS`)."""

from __future__ import annotations

import os

from ipa_energy.backends.base import BackendContext
from ipa_energy.backends.ray.backend import RayBackend
from ipa_energy.errors import ConfigError

#: ``ctx.options`` the Ray backend reads
OPTIONS = ("cache_dir", "image_size", "ray_address", "cpus_per_core", "num_cpus")


def build_ray(ctx: BackendContext) -> RayBackend:
    """``ctx.options``: ``cache_dir``, ``image_size`` (model loading, as the local executor);
    ``ray_address`` (join that cluster; default: start a local instance sized to this machine and shut it
    down afterwards); ``num_cpus`` (the local instance's CPUs, default ``os.cpu_count()``);
    ``cpus_per_core`` (logical Ray CPUs a replica reserves per core of its variant: default 0 on the local
    instance, which, like the local executor, lets replicas share the cores, so a make-before-break switch
    fits on a small machine; 1 on a joined cluster, so Serve places replicas by their cores).

    Models are prepared here (digits variants trained and cached) so replicas on this node only load; a
    replica on another node prepares its own (the cache must be reachable there, see docs/serving.md).
    """
    from ipa_energy.backends.local.build import local_stages
    from ipa_energy.backends.ray.cluster import RayRuntime
    from ipa_energy.backends.ray.serve_config import max_ongoing_requests
    from ipa_energy.loadgen import inputs_for

    opts = dict(ctx.options)
    unknown = set(opts) - set(OPTIONS)
    if unknown:
        raise ConfigError(f"the ray backend takes no option {sorted(unknown)[0]!r}; valid: {', '.join(OPTIONS)}",
                          field="backend")
    address = opts.get("ray_address") or None
    cpus_per_core = float(opts.get("cpus_per_core", 1.0 if address else 0.0))
    if not (cpus_per_core >= 0):
        raise ConfigError(f"must be >= 0 (got {cpus_per_core})", field="cpus_per_core")
    pipeline = ctx.pipeline
    stages = local_stages(pipeline.stages, cache_dir=opts.get("cache_dir"), image_size=opts.get("image_size"))
    batches = [b for st in pipeline.stages for v in st.variants for b in pipeline.profile.batches(st.name, v.name)]
    if pipeline.max_batch is not None:
        batches = [b for b in batches if b <= pipeline.max_batch] or [pipeline.max_batch]
    first_family = next(iter(stages[0][1].values())).spec.family
    return RayBackend(
        stages, ctx.arrival_times_s, inputs_for(first_family, ctx.seed, opts.get("image_size")),
        runtime=RayRuntime(address, num_cpus=opts.get("num_cpus")), meter=ctx.meter, sla_s=pipeline.sla_s,
        drop_limit_s=pipeline.drop_limit_s, accuracy_method=pipeline.accuracy_method,
        max_batch_wait_s=1.0 if ctx.max_batch_wait_s is None else ctx.max_batch_wait_s,
        max_ongoing=max_ongoing_requests(batches), cpus_per_core=cpus_per_core, prefix=f"ipa{os.getpid()}",
    )


__all__ = ["OPTIONS", "build_ray"]
