"""Request arrival times from per-second rates (vectorised numpy; seeded)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import ConfigError
from ipa_energy.registry import Registry
from ipa_energy.workloads.trace import Workload

#: arrival process name -> function(workload, seed) -> sorted arrival times (s)
ARRIVAL_PROCESSES: Registry[Callable[..., NDArray[np.float64]]] = Registry(
    "arrival process",
    {
        "poisson": "ipa_energy.workloads.arrivals:poisson_arrivals",
        "uniform": "ipa_energy.workloads.arrivals:uniform_arrivals",
    },
)


#: the most requests one run generates (each arrival is 8 bytes, plus the simulator's per-request state)
MAX_ARRIVALS = 2e8


def arrival_times(workload: Workload, seed: int, *, process: str = "poisson") -> NDArray[np.float64]:
    """Sorted arrival times in seconds from the start of the run, by the registered ``process``.

    Every arrival of second ``k`` lies in ``[k, k+1)``.
    """
    expected = float(np.sum(workload.rates_rps))
    if not expected <= MAX_ARRIVALS:
        raise ConfigError(
            f"the trace asks for {expected:.3g} requests, more than the {MAX_ARRIVALS:.0e} one run can hold "
            "in memory; lower the load scale or the duration", field="load_scale",
        )
    times: NDArray[np.float64] = ARRIVAL_PROCESSES.create(process, field="process", workload=workload, seed=seed)
    return times


def poisson_arrivals(workload: Workload, seed: int) -> NDArray[np.float64]:
    """A Poisson process with rate ``rates_rps[k]`` inside second ``[k, k+1)``: the count is Poisson(rate)
    and the instants are uniform in the second. Seeded by ``seed`` (the default process)."""
    rates = workload.rates_rps
    seconds = np.arange(rates.size, dtype=np.float64)
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rates)
    base = np.repeat(seconds, counts)
    times = base + rng.random(base.size)
    # k + u can round up to k + 1 for u close to 1; keep every arrival inside its second
    np.minimum(times, np.nextafter(base + 1.0, base), out=times)
    times.sort()
    return times


def uniform_arrivals(workload: Workload, seed: int) -> NDArray[np.float64]:
    """What IPA's load tester did: ``rates_rps[k]`` requests evenly spaced in second ``k`` (at ``k + i/n``).

    Fractional rates (after a load scale) are carried over by rounding the cumulative sum, so the total
    equals the rounded sum of rates. ``seed`` is not used (the process is deterministic).
    """
    del seed
    rates = workload.rates_rps
    seconds = np.arange(rates.size, dtype=np.float64)
    cumulative = np.rint(np.cumsum(rates)).astype(np.int64)
    counts = np.diff(cumulative, prepend=0)
    base = np.repeat(seconds, counts)
    starts = np.repeat(cumulative - counts, counts)
    index_in_second = np.arange(base.size, dtype=np.float64) - starts
    result: NDArray[np.float64] = base + index_in_second / np.repeat(counts, counts)
    return result
