"""Input checks of the simulator: stages, arrival times and configurations; errors name the field."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ipa_energy.backends.base import PipelineConfig
from ipa_energy.errors import ConfigError, UnknownNameError
from ipa_energy.optimize.problem import Stage


def check_stages(stages: Sequence[Stage]) -> None:
    for i, s in enumerate(stages):
        if not s.variants:
            raise ConfigError("has no variants", field=f"stages[{i}].variants")
        names = [v.name for v in s.variants]
        if len(set(names)) != len(names):
            raise ConfigError(f"variant names repeat: {names}", field=f"stages[{i}].variants")
        for j, v in enumerate(s.variants):
            if isinstance(v.cores, bool) or not isinstance(v.cores, int) or v.cores < 1:
                raise ConfigError(f"must be an integer >= 1 (got {v.cores!r})",
                                  field=f"stages[{i}].variants[{j}].cores")
            if not math.isfinite(v.accuracy):
                raise ConfigError(f"must be finite (got {v.accuracy!r})",
                                  field=f"stages[{i}].variants[{j}].accuracy")


def check_arrivals(arrival_times_s: NDArray[np.float64]) -> NDArray[np.float64]:
    arr = np.ascontiguousarray(arrival_times_s, dtype=np.float64)
    if arr.ndim != 1:
        raise ConfigError(f"must be one-dimensional (got shape {arr.shape})", field="arrival_times_s")
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
    if bad.size:
        i = int(bad[0])
        raise ConfigError(f"index {i}: must be a finite time >= 0 (got {arr[i]!r})", field="arrival_times_s")
    down = np.flatnonzero(np.diff(arr) < 0)
    if down.size:
        i = int(down[0]) + 1
        raise ConfigError(
            f"index {i}: not sorted ({arr[i]!r} after {arr[i - 1]!r})", field="arrival_times_s"
        )
    return arr


def check_config(config: PipelineConfig, stages: Sequence[tuple[str, tuple[str, ...]]]) -> None:
    """``stages``: (name, variant names) per stage. Raises ConfigError naming ``config.stages[i].field``."""
    if not isinstance(config, PipelineConfig):
        raise ConfigError(f"must be a PipelineConfig (got {type(config).__name__})", field="config")
    if len(config.stages) != len(stages):
        raise ConfigError(f"has {len(config.stages)} stages, the pipeline has {len(stages)}", field="config.stages")
    for i, ((name, variants), sc) in enumerate(zip(stages, config.stages, strict=True)):
        where = f"config.stages[{i}]"
        if sc.variant not in variants:
            raise UnknownNameError(f"variant of stage {name!r}", sc.variant, variants, field=f"{where}.variant")
        for field in ("batch", "replicas"):
            val = getattr(sc, field)
            if isinstance(val, bool) or not isinstance(val, int) or val < 1:
                raise ConfigError(f"must be an integer >= 1 (got {val!r})", field=f"{where}.{field}")


__all__ = ["check_arrivals", "check_config", "check_stages"]
