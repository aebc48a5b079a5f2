"""The pipeline accuracy score (PAS) and a stage's power: one formula each, for optimizer and backends.

* PAS of a configuration = the sum of its stages' variant accuracies (``"sum"``, IPA's first version) or
  their product (``"product"``, IPA's revision); a stage serving no variant contributes 0.
* A stage's power at arrival rate ``rate_rps`` = every allocated core's idle power
  (``replicas x cores x idle_power_w_per_core``) + the dynamic power of serving the rate
  (``rate_rps x energy_j_per_batch / batch``: batches per second x energy of one batch).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray


def pas(accuracies: Iterable[float], method: str) -> float:
    """PAS by ``method`` ("sum" or "product")."""
    if method == "product":
        return math.prod(accuracies)
    if method == "sum":
        return math.fsum(accuracies)
    raise ValueError(f"accuracy method must be 'sum' or 'product' (got {method!r})")


@overload
def stage_power_w(
    cores: float, idle_power_w_per_core: float, rate_rps: float, energy_j_per_batch: float, batch: int
) -> float: ...
@overload
def stage_power_w(
    cores: NDArray[Any], idle_power_w_per_core: float, rate_rps: float, energy_j_per_batch: NDArray[Any],
    batch: NDArray[Any],
) -> NDArray[np.float64]: ...
def stage_power_w(
    cores: Any, idle_power_w_per_core: float, rate_rps: float, energy_j_per_batch: Any, batch: Any
) -> Any:
    """Idle power of ``cores`` allocated cores plus the dynamic power of serving ``rate_rps`` in batches.

    Element-wise on numpy arrays (the solvers' option tables), the same formula on scalars.
    """
    power = cores * idle_power_w_per_core + rate_rps * energy_j_per_batch / batch
    return np.asarray(power, dtype=np.float64) if isinstance(power, np.ndarray) else float(power)


__all__ = ["pas", "stage_power_w"]
