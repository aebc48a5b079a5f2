"""The simulated clock: pipeline time in seconds since the run started, advanced only by the simulator."""

from __future__ import annotations


class SimClock:
    """A :class:`ipa_energy.backends.base.Clock` whose time only the owning simulator moves forward.

    The adapter reads it (``now_s()``); it never sleeps and never reads the wall clock.
    """

    __slots__ = ("_now_s",)

    def __init__(self, start_s: float = 0.0) -> None:
        self._now_s = float(start_s)

    def now_s(self) -> float:
        return self._now_s

    def _advance(self, t_s: float) -> None:
        """Move to ``t_s`` (never backwards). Called by the simulator only."""
        if t_s < self._now_s:
            raise ValueError(f"simulated time cannot go back from {self._now_s} to {t_s}")
        self._now_s = t_s


__all__ = ["SimClock"]
