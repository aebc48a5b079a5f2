"""Build a local executor for a pipeline: map each variant to a runnable model and prepare it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ipa_energy.backends.base import BackendContext
from ipa_energy.backends.local.backend import LocalBackend
from ipa_energy.backends.local.stage import LocalVariant
from ipa_energy.energy.base import EnergyMeter
from ipa_energy.errors import ConfigError


def local_stages(
    stages: Sequence[Any],
    *,
    cache_dir: str | None = None,
    image_size: int | None = None,
    prepare: bool = True,
) -> list[tuple[str, dict[str, LocalVariant]]]:
    """``stages``: pipeline stages (``.name`` and ``.variants`` with ``.name``, ``.cores``, ``.accuracy``).

    With ``prepare`` every model is made loadable now (digits variants are trained once and cached), so
    workers only load. A variant with no local model raises a ConfigError naming it.
    """
    from ipa_energy.models import prepare as prepare_model
    from ipa_energy.models import spec_for

    out: list[tuple[str, dict[str, LocalVariant]]] = []
    for st in stages:
        variants: dict[str, LocalVariant] = {}
        for v in st.variants:
            spec = spec_for(v.name, cache_dir=cache_dir, image_size=image_size)
            if prepare:
                prepare_model(spec)
            variants[v.name] = LocalVariant(v.name, spec, int(v.cores), float(v.accuracy))
        out.append((st.name, variants))
    return out


def build_local(ctx: BackendContext) -> LocalBackend:
    """The local executor for a run (the ``local`` entry of :data:`ipa_energy.backends.BACKENDS`).

    ``ctx.options``: ``cache_dir``, ``image_size`` (model loading). The meter is ``ctx.meter`` (``auto``
    and ``model`` cover this process and its children, i.e. the router and every replica worker).
    """
    from ipa_energy.backends.local.clock import WallClock
    from ipa_energy.loadgen import inputs_for

    opts = dict(ctx.options)
    unknown = set(opts) - {"cache_dir", "image_size"}
    if unknown:
        raise ConfigError(f"the local backend takes no option {sorted(unknown)[0]!r}", field="backend")
    pipeline = ctx.pipeline
    stages = local_stages(pipeline.stages, cache_dir=opts.get("cache_dir"), image_size=opts.get("image_size"))
    first_family = next(iter(stages[0][1].values())).spec.family
    return LocalBackend(
        stages, ctx.arrival_times_s, inputs_for(first_family, ctx.seed, opts.get("image_size")),
        clock=WallClock(), meter=_meter(ctx.meter), sla_s=pipeline.sla_s, drop_limit_s=pipeline.drop_limit_s,
        accuracy_method=pipeline.accuracy_method,
        max_batch_wait_s=1.0 if ctx.max_batch_wait_s is None else ctx.max_batch_wait_s,
    )


def _meter(name: str) -> EnergyMeter | None:
    if name == "none":
        return None
    from ipa_energy.energy import get_meter

    if name in ("auto", "model"):
        return get_meter(name, pids=[os.getpid()])
    return get_meter(name)
