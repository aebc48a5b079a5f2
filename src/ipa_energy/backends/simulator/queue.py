"""The FIFO queue in front of a stage after the first: request ids and the time each reached the stage.

Requests are numbered by their index in the run's sorted arrival times, so a request is one int64 and its
age is ``now - arrival_times[id]``. The first stage needs no buffer: its queue is a window
``[head, tail)`` of the arrival times themselves (see the backend).

Requests enter in the order their batch at the previous stage completed, so ``ready_s`` never decreases
along the queue and the oldest waiting request (the one whose batch-fill wait ends first) is at the head.
Their arrival times are not ordered, so the queue keeps a lower bound of the earliest arrival it holds:
expiry (drop limit) is checked only when that bound says some request may have expired.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


class StageQueue:
    """A growable ring-free buffer: live entries are ``ids[head:tail]``, ``ready_s[head:tail]``."""

    __slots__ = ("head", "ids", "min_arrival_lb_s", "ready_s", "tail")

    def __init__(self, capacity: int = 1024) -> None:
        self.ids: NDArray[np.int64] = np.empty(capacity, dtype=np.int64)
        self.ready_s: NDArray[np.float64] = np.empty(capacity, dtype=np.float64)
        self.head = 0
        self.tail = 0
        #: <= the earliest arrival time of any request in the queue (+inf when empty)
        self.min_arrival_lb_s = float("inf")

    def __len__(self) -> int:
        return self.tail - self.head

    def push(self, ids: NDArray[np.int64], k: int, t_s: float, min_arrival_lb_s: float) -> None:
        """Append ``k`` requests that reached the stage at ``t_s``."""
        tail = self.tail
        if tail + k > self.ids.size:
            self._make_room(k)
            tail = self.tail
        self.ids[tail : tail + k] = ids
        self.ready_s[tail : tail + k] = t_s
        self.tail = tail + k
        if min_arrival_lb_s < self.min_arrival_lb_s:
            self.min_arrival_lb_s = min_arrival_lb_s

    def take(self, k: int) -> NDArray[np.int64]:
        """Remove the first ``k`` requests and return their ids (a copy the caller owns)."""
        head = self.head
        out = self.ids[head : head + k].copy()
        head += k
        if head == self.tail:
            self.head = self.tail = 0
            self.min_arrival_lb_s = float("inf")
        else:
            self.head = head
        return out

    def expire(self, arrival_times_s: NDArray[np.float64], limit_s: float) -> int:
        """Remove every request that arrived before ``limit_s``; return how many (order kept)."""
        head, tail = self.head, self.tail
        ids = self.ids[head:tail]
        arr = arrival_times_s[ids]
        keep = arr >= limit_s
        kept = int(np.count_nonzero(keep))
        dropped = (tail - head) - kept
        if dropped:
            self.ids[head : head + kept] = ids[keep]
            self.ready_s[head : head + kept] = self.ready_s[head:tail][keep]
            self.tail = head + kept
        if kept == 0:
            self.head = self.tail = 0
            self.min_arrival_lb_s = float("inf")
        else:
            self.min_arrival_lb_s = float(arr[keep].min())
        return dropped

    def _make_room(self, k: int) -> None:
        n = self.tail - self.head
        cap = self.ids.size
        if n + k > cap // 2:
            cap = max(2 * cap, 2 * (n + k))
            ids = np.empty(cap, dtype=np.int64)
            ready = np.empty(cap, dtype=np.float64)
        else:  # compact in place: the live slice is copied first, so overlapping ranges are safe
            ids, ready = self.ids, self.ready_s
        ids[:n] = self.ids[self.head : self.tail].copy()
        ready[:n] = self.ready_s[self.head : self.tail].copy()
        self.ids, self.ready_s = ids, ready
        self.head, self.tail = 0, n


__all__ = ["StageQueue"]
