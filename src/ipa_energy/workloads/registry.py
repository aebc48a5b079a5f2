"""The workload registry: name -> a loader taking ``load_scale`` (``WORKLOADS.create(name, load_scale=k)``).

The four bundled IPA workloads are registered here; a user trace is a CSV path (no registration needed,
:func:`ipa_energy.workloads.load_workload` reads it). Adding a workload family (e.g. a window of the
full Twitter trace by name) is one loader function and one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from ipa_energy.registry import Registry
from ipa_energy.workloads.trace import Workload, load_bundled

#: name -> loader(load_scale=...) -> Workload
WORKLOADS: Registry[Callable[..., Workload]] = Registry(
    "workload",
    {
        "steady_low": "ipa_energy.workloads.registry:steady_low",
        "steady_high": "ipa_energy.workloads.registry:steady_high",
        "fluctuating": "ipa_energy.workloads.registry:fluctuating",
        "bursty": "ipa_energy.workloads.registry:bursty",
    },
)

steady_low = partial(load_bundled, "steady_low")
steady_high = partial(load_bundled, "steady_high")
fluctuating = partial(load_bundled, "fluctuating")
bursty = partial(load_bundled, "bursty")

__all__ = ["WORKLOADS"]
