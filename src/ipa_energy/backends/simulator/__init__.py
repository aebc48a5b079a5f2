"""The discrete-event simulator backend (registry name ``sim``); semantics in ``docs/simulator.md``."""

from ipa_energy.backends.simulator.backend import SimulatorBackend
from ipa_energy.backends.simulator.clock import SimClock
from ipa_energy.backends.simulator.params import SimParams

__all__ = ["SimClock", "SimParams", "SimulatorBackend"]
