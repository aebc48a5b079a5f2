"""IPA's LSTM features and targets: 12 ten-second maxima of the last 120 s in, the max of the next 20 s out."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from ipa_energy.errors import ConfigError

BLOCK_S = 10  # seconds per input value
N_BLOCKS = 12  # input values
HISTORY_S = BLOCK_S * N_BLOCKS  # 120 s looked back
HORIZON_S = 20  # the target is the max load of the next 20 s
HORIZON_BLOCKS = HORIZON_S // BLOCK_S


def lstm_features(history_rps: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """The 12 inputs for one history (oldest first): the max of each 10 s block of the last 120 s.

    Blocks are aligned to the end of the history. A history shorter than 120 s gives fewer blocks (the
    oldest one possibly partial) and the missing older blocks repeat the oldest block's value, so a
    run's first seconds look like a steady past. Returns None for an empty history.
    """
    h = np.asarray(history_rps, dtype=np.float64)[-HISTORY_S:]
    if h.size == 0:
        return None
    out = np.empty(N_BLOCKS, dtype=np.float64)
    n_full, rest = divmod(h.size, BLOCK_S)
    if n_full:
        out[N_BLOCKS - n_full :] = h[rest:].reshape(n_full, BLOCK_S).max(axis=1)
    filled = n_full
    if rest:
        out[N_BLOCKS - n_full - 1] = h[:rest].max()
        filled += 1
    out[: N_BLOCKS - filled] = out[N_BLOCKS - filled]
    return out


def lstm_features_many(histories_rps: NDArray[np.float64]) -> NDArray[np.float64]:
    """Features of a ``(n, >= 120)`` array of full histories: shape ``(n, 12)``."""
    h = np.asarray(histories_rps, dtype=np.float64)
    if h.ndim != 2 or h.shape[1] < HISTORY_S:
        raise ConfigError(f"expected shape (n, >= {HISTORY_S}), got {h.shape}", field="histories_rps")
    return h[:, -HISTORY_S:].reshape(h.shape[0], N_BLOCKS, BLOCK_S).max(axis=2)


def supervised_windows(
    rates_rps: NDArray[np.float64],
    gaps: NDArray[np.bool_],
    span: slice,
    *,
    stride_s: int = BLOCK_S,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Training/evaluation pairs from the seconds in ``span`` of a trace.

    A window ends at second ``t`` (exclusive) every ``stride_s`` seconds (a multiple of 10): inputs are the
    block maxima of ``[t-120, t)``, the target is ``max(rates[t : t+20])``. Windows whose 140 s touch a
    gap are left out. Returns ``(X (n, 12), y (n,), t (n,))`` with ``t`` the index of the first predicted
    second in the trace.
    """
    if stride_s < BLOCK_S or stride_s % BLOCK_S:
        raise ConfigError(f"must be a positive multiple of {BLOCK_S}, got {stride_s}", field="stride_s")
    start, stop, _ = span.indices(rates_rps.size)
    n_blocks = (stop - start) // BLOCK_S
    need = N_BLOCKS + HORIZON_BLOCKS
    if n_blocks < need:
        empty = np.empty((0, N_BLOCKS))
        return empty, np.empty(0), np.empty(0, dtype=np.int64)
    end = start + n_blocks * BLOCK_S
    block_max = rates_rps[start:end].reshape(n_blocks, BLOCK_S).max(axis=1)
    block_gap = gaps[start:end].reshape(n_blocks, BLOCK_S).any(axis=1)
    step = stride_s // BLOCK_S
    win = sliding_window_view(block_max, need)[::step]
    bad = sliding_window_view(block_gap, need)[::step].any(axis=1)
    x = np.ascontiguousarray(win[~bad, :N_BLOCKS])
    y = win[~bad, N_BLOCKS:].max(axis=1)
    first_block = np.arange(win.shape[0], dtype=np.int64)[~bad] * step
    t = start + (first_block + N_BLOCKS) * BLOCK_S
    return x, y, t


def history_windows(rates_rps: NDArray[np.float64], t: NDArray[np.int64]) -> NDArray[np.float64]:
    """The raw 120 s histories ``rates[t-120 : t]`` for each index in ``t``: shape ``(n, 120)``."""
    view = sliding_window_view(rates_rps, HISTORY_S)
    return np.asarray(view[np.asarray(t) - HISTORY_S])
