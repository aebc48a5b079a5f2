"""Carbon figures: where the accuracy went (PAS over time against intensity over time, carbon per
minute), and carbon vs accuracy across a sweep (the Pareto plot across Clover's lambda).

Inputs are plain rows (a run's timeline as dicts with ``t_s``, ``pas``, ``intensity_g_per_kwh``,
``carbon_g``), so any run path can call them. Matplotlib with the Agg backend, imported lazily.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _col(rows: Sequence[Mapping[str, Any]], key: str) -> np.ndarray:
    return np.array([float(r[key]) for r in rows], dtype=float)


def carbon_over_time(
    runs: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], path: Path, title: str, source: str
) -> None:
    """Three panels sharing time: the intensity, each run's PAS, each run's carbon per minute."""
    plt = _plt()
    fig, (ax_i, ax_p, ax_c) = plt.subplots(3, 1, figsize=(10, 8), sharex=True)
    first = runs[0][1] if runs else []
    if first:
        t = _col(first, "t_s") / 60.0
        ax_i.step(t, _col(first, "intensity_g_per_kwh"), where="post", color="k")
    ax_i.set_ylabel("g CO2/kWh")
    ax_i.set_title(f"{title}\nintensity: {source}", fontsize=9)
    for i, (label, rows) in enumerate(runs):
        if not rows:
            continue
        color = f"C{i % 10}"
        t = _col(rows, "t_s") / 60.0
        ax_p.plot(t, _col(rows, "pas"), color=color, linewidth=1.0, label=label)
        c = _col(rows, "carbon_g")
        n_min = len(c) // 60
        if n_min:
            per_min = c[: n_min * 60].reshape(n_min, 60).sum(axis=1)
            ax_c.step(np.arange(n_min + 1), np.append(per_min, per_min[-1]), where="post", color=color,
                      label=f"{label}: {c.sum():.3g} g")
    ax_p.set_ylabel("PAS")
    ax_p.legend(fontsize=8, ncol=4)
    ax_c.set_ylabel("g CO2 per minute")
    ax_c.set_xlabel("time (min)")
    ax_c.legend(fontsize=8, ncol=2)
    for ax in (ax_i, ax_p, ax_c):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def carbon_pareto(points: Sequence[Mapping[str, Any]], path: Path, title: str) -> None:
    """Carbon (x) vs PAS (y), one point per run, labelled; the non-dominated ones joined."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 5))
    pts = sorted((float(p["carbon_g"]), float(p["pas"]), str(p["label"])) for p in points)
    for x, y, label in pts:
        ax.scatter([x], [y], s=25)
        ax.annotate(label, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    front, best = [], -np.inf
    for x, y, _ in pts:
        if y > best:
            front.append((x, y))
            best = y
    if front:
        ax.plot(*zip(*front, strict=True), color="k", alpha=0.5, linewidth=1.0, label="non-dominated")
        ax.legend(fontsize=8)
    xs = [x for x, _, _ in pts if x > 0]
    if xs and max(xs) > 10 * min(xs):
        ax.set_xscale("log")
    ax.set_xlabel("carbon (g CO2-eq)")
    ax.set_ylabel("mean PAS")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = ["carbon_over_time", "carbon_pareto"]
