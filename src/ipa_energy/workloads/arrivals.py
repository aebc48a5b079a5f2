"""Request arrival times from per-second rates (vectorised numpy; seeded)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import ConfigError, UnknownNameError
from ipa_energy.workloads.trace import Workload

ARRIVAL_PROCESSES = ("poisson", "uniform")


#: the most requests one run generates (each arrival is 8 bytes, plus the simulator's per-request state)
MAX_ARRIVALS = 2e8


def arrival_times(workload: Workload, seed: int, *, process: str = "poisson") -> NDArray[np.float64]:
    """Sorted arrival times in seconds from the start of the run.

    * ``poisson`` (default): a Poisson process with rate ``rates_rps[k]`` inside second ``[k, k+1)``: the
      count is Poisson(rate) and the instants are uniform in the second. Seeded by ``seed``.
    * ``uniform``: what IPA's load tester did: ``rates_rps[k]`` requests evenly spaced in second ``k``
      (at ``k + i/n``). Fractional rates (after a load scale) are carried over by rounding the
      cumulative sum, so the total equals the rounded sum of rates. ``seed`` is not used.

    Every arrival of second ``k`` lies in ``[k, k+1)``.
    """
    rates = workload.rates_rps
    n = rates.size
    expected = float(np.sum(rates))
    if not expected <= MAX_ARRIVALS:
        raise ConfigError(
            f"the trace asks for {expected:.3g} requests, more than the {MAX_ARRIVALS:.0e} one run can hold "
            "in memory; lower the load scale or the duration", field="load_scale",
        )
    seconds = np.arange(n, dtype=np.float64)
    if process == "poisson":
        rng = np.random.default_rng(seed)
        counts = rng.poisson(rates)
        base = np.repeat(seconds, counts)
        times = base + rng.random(base.size)
        # k + u can round up to k + 1 for u close to 1; keep every arrival inside its second
        np.minimum(times, np.nextafter(base + 1.0, base), out=times)
        times.sort()
        return times
    if process == "uniform":
        cumulative = np.rint(np.cumsum(rates)).astype(np.int64)
        counts = np.diff(cumulative, prepend=0)
        base = np.repeat(seconds, counts)
        starts = np.repeat(cumulative - counts, counts)
        index_in_second = np.arange(base.size, dtype=np.float64) - starts
        return base + index_in_second / np.repeat(counts, counts)
    raise UnknownNameError("arrival process", process, ARRIVAL_PROCESSES, field="process")
