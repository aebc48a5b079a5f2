"""The adaptation loop: monitored rates -> predictor -> solver -> apply the difference to the backend.

The decision is a pure function of a :class:`Snapshot` (plus the policy's explicit state, e.g. a learned
Q-table); the loop takes the backend and clock as arguments, so the simulator and real backends share it.
"""

from ipa_energy.adapt.loop import AdaptParams, run_adaptation
from ipa_energy.adapt.policy import AdaptationStep, Policy, Snapshot

__all__ = ["AdaptParams", "AdaptationStep", "Policy", "Snapshot", "run_adaptation"]
