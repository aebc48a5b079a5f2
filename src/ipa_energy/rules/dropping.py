"""The drop rule: a request still queued when it is older than the drop limit is dropped, not served.

Age counts from the request's arrival in the pipeline (not in the stage). A request exactly at the limit
is still served. Backends apply the rule whenever a stage looks at its queue and when a second closes.
"""

from __future__ import annotations


def drop_before_s(now_s: float, drop_limit_s: float) -> float:
    """Requests that arrived strictly before this time are expired at ``now_s``."""
    return now_s - drop_limit_s


def is_expired(arrival_s: float, now_s: float, drop_limit_s: float) -> bool:
    """Whether a queued request that arrived at ``arrival_s`` is dropped at ``now_s``."""
    return arrival_s < drop_before_s(now_s, drop_limit_s)


__all__ = ["drop_before_s", "is_expired"]
