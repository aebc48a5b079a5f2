"""The simulator's replica object. How a new target changes a stage's replicas is a shared serving rule:
:func:`ipa_energy.rules.replicas.plan_change` (make-before-break), called by every backend.
"""

from __future__ import annotations

from ipa_energy.backends.simulator.batch_table import BatchTable


class Replica:
    """One replica of a stage. Mutable simulator state, owned by one :class:`SimulatorBackend`."""

    __slots__ = (
        "batch_energy_j", "batch_end_s", "batch_start_s", "busy", "cores", "draining", "gone", "ready",
        "ready_at_s", "rid", "table", "variant",
    )

    def __init__(self, rid: int, variant: int, cores: int, table: BatchTable, ready_at_s: float) -> None:
        self.rid = rid
        #: index of the variant in its stage
        self.variant = variant
        self.cores = cores
        self.table = table
        self.ready_at_s = ready_at_s
        self.ready = False
        self.busy = False
        self.draining = False
        self.gone = False
        # the batch in progress (for exact partial-second energy at a fractional summary time)
        self.batch_start_s = 0.0
        self.batch_end_s = 0.0
        self.batch_energy_j = 0.0

    def __repr__(self) -> str:
        state = (
            "gone" if self.gone else "draining" if self.draining else
            ("busy" if self.busy else "idle") if self.ready else f"starting until {self.ready_at_s:g}"
        )
        return f"Replica({self.rid}, variant={self.variant}, {state})"


__all__ = ["Replica"]
