"""Adaptive batching: when a batch leaves a stage's central queue, and how big it is.

A stage with a free replica takes ``batch`` requests as soon as that many are queued. With fewer queued,
it takes all of them once the oldest has waited ``max_wait_s`` at this stage (counted from when it
entered the stage's queue: its arrival for the first stage, the end of its previous stage's batch
otherwise); before that it waits. A wait of 0 serves whatever is queued at once (used to drain).
"""

from __future__ import annotations


def batch_to_take(queued: int, batch: int, now_s: float, oldest_ready_s: float, max_wait_s: float) -> int:
    """How many requests a free replica takes now (0: wait for the batch to fill or the wait to end)."""
    if queued >= batch:
        return batch
    if queued > 0 and now_s >= oldest_ready_s + max_wait_s:
        return queued
    return 0


def batch_wake_s(oldest_ready_s: float, max_wait_s: float, fill_s: float | None = None) -> float:
    """When a waiting stage must look again: the oldest request's wait ends, or (when known) the time
    ``fill_s`` at which the batch fills, whichever is first."""
    w = oldest_ready_s + max_wait_s
    return w if fill_s is None or fill_s >= w else fill_s


__all__ = ["batch_to_take", "batch_wake_s"]
