"""The wall clock of real backends: seconds since the clock was started (``time.monotonic``)."""

from __future__ import annotations

import time


class WallClock:
    """Pipeline time for real serving: monotonic seconds since construction (or :meth:`restart`)."""

    def __init__(self) -> None:
        self._t0 = time.monotonic()

    def restart(self) -> None:
        self._t0 = time.monotonic()

    def now_s(self) -> float:
        return time.monotonic() - self._t0
