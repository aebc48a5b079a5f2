"""The local executor: real PyTorch models in worker processes on this machine (see ``backend.py``)."""

from ipa_energy.backends.local.clock import WallClock
from ipa_energy.backends.local.stage import LocalVariant

__all__ = ["LocalVariant", "WallClock"]
