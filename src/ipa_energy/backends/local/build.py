"""Build a local executor for a pipeline: map each variant to a runnable model and prepare it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ipa_energy.backends.local.stage import LocalVariant


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
