"""The closed-loop figure: per stage, what the online profile learned against the offline profile over
time, as the ratio learned / offline of latency and of energy (two panels, one line per stage, a line at 1).

Inputs are plain points (``stage -> [(t_s, latency_ratio, energy_ratio), ...]``), so any run path can call
it. Matplotlib with the Agg backend, imported lazily.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

#: the y range always shown around 1, so a flat line at 1 reads as "nothing learned", not as noise
MIN_HALF_RANGE = 0.1
_STYLES = ("-", "--", "-.", ":")


def learned_ratio_over_time(
    stages: Mapping[str, Sequence[tuple[float, float, float]]], path: Path, title: str, caption: str
) -> None:
    """Latency (top) and energy (bottom) learned / offline per stage against time (min), a dotted line at 1."""
    from ipa_energy.bench.plots import _plt

    plt = _plt()
    fig, axes = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    for i, (stage, points) in enumerate(stages.items()):
        pts = np.array(points, dtype=float).reshape(-1, 3)
        for ax, col in zip(axes, (1, 2), strict=True):
            y = pts[:, col]
            final = y[np.isfinite(y)][-1] if np.isfinite(y).any() else np.nan
            ax.plot(pts[:, 0] / 60.0, y, color=f"C{i % 10}", linestyle=_STYLES[i % len(_STYLES)],
                    linewidth=1.4, label=f"{stage} (final {final:.3g})")
    for ax, name in zip(axes, ("latency", "energy"), strict=True):
        ax.axhline(1.0, color="k", linewidth=0.8, linestyle=":", alpha=0.7)
        lo, hi = ax.get_ylim()
        half = 1.3 * max(MIN_HALF_RANGE, abs(1.0 - lo), abs(hi - 1.0))  # room for the legend
        ax.set_ylim(max(0.0, 1.0 - half), 1.0 + half)
        ax.set_ylabel(f"{name}: learned / offline")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, ncol=4)
    axes[1].set_xlabel("time (min)")
    axes[0].set_title("\n".join([title, *textwrap.wrap(caption, 130)]), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = ["MIN_HALF_RANGE", "learned_ratio_over_time"]
