"""Figures: energy per minute across systems (the energy extension's plot, done right), PAS and cost
over time (the paper's), and the energy-weight sweep. Matplotlib with the Agg backend, imported lazily."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ipa_energy.runs import RunResult


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _smooth(x: np.ndarray, window: int) -> np.ndarray:
    if len(x) < window or window <= 1:
        return x
    kernel = np.ones(window) / window
    padded = np.pad(x, (window // 2, window - 1 - window // 2), mode="edge")
    return np.convolve(padded, kernel, mode="valid")


def energy_per_minute(results: Sequence[RunResult], path: Path, title: str) -> None:
    """Raw per-second power faint, per-minute average as steps, and a smoothed line, one colour per run."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 4.8))
    for i, r in enumerate(results):
        color = f"C{i % 10}"
        p = np.array([row["power_w"] for row in r.timeline], dtype=float)
        t = np.arange(len(p))
        ax.plot(t / 60.0, p, color=color, alpha=0.12, linewidth=0.6)
        n_min = len(p) // 60
        if n_min:
            per_min = p[: n_min * 60].reshape(n_min, 60).mean(axis=1)
            ax.step(np.arange(n_min + 1), np.append(per_min, per_min[-1]), where="post", color=color,
                    alpha=0.55, linewidth=1.0)
        ax.plot(t / 60.0, _smooth(p, 120), color=color, linewidth=2.0, label=r.spec.label)
    ax.set_xlabel("time (min)")
    ax.set_ylabel("power (W) = energy per second (J/s)")
    ax.set_title(f"{title}\nfaint: per second; steps: per-minute mean; bold: 2-min rolling mean (model estimate)")
    ax.legend(fontsize=8, ncol=3)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


_STYLES = ("-", "--", "-.", ":")


def pas_cost_over_time(results: Sequence[RunResult], path: Path, title: str) -> None:
    plt = _plt()
    fig, axes = plt.subplots(3, 1, figsize=(10, 7.5), sharex=True)
    for i, r in enumerate(results):
        color = f"C{i % 10}"
        t = np.array([row["t_s"] for row in r.timeline], dtype=float) / 60.0
        axes[0].plot(t, [row["arrivals"] for row in r.timeline], color=color, alpha=0.6 if i == 0 else 0.0)
        style = _STYLES[i % len(_STYLES)]  # overlapping systems stay visible
        axes[1].plot(t, [row["pas"] for row in r.timeline], color=color, linestyle=style, label=r.spec.label)
        axes[2].plot(t, [row["cost_cores"] for row in r.timeline], color=color, linestyle=style,
                     label=r.spec.label)
    axes[0].set_ylabel("arrivals (rps)")
    axes[1].set_ylabel("PAS")
    axes[2].set_ylabel("cost (cores)")
    axes[2].set_xlabel("time (min)")
    axes[1].legend(fontsize=8, ncol=3)
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def energy_sweep(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """Energy and PAS against the energy weight, one line per workload."""
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    workloads = sorted({r["workload"] for r in rows})
    for i, wl in enumerate(workloads):
        sel = sorted((r for r in rows if r["workload"] == wl), key=lambda r: r["energy_weight"])
        w = [max(r["energy_weight"], 1e-4) for r in sel]
        a1.plot(w, [r["mean_power_w"] for r in sel], marker="o", color=f"C{i}", label=wl)
        a2.plot(w, [r["pas"] for r in sel], marker="o", color=f"C{i}", label=wl)
    for ax, lab in ((a1, "mean power (W)"), (a2, "PAS (time-averaged)")):
        ax.set_xscale("log")
        ax.set_xlabel("energy weight (0 drawn at 1e-4)")
        ax.set_ylabel(lab)
        ax.grid(alpha=0.3)
    a1.legend(fontsize=8)
    fig.suptitle("ipa-energy: choosing the energy weight")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def decisions_over_time(results: Sequence[RunResult], path: Path, title: str) -> None:
    """Per adaptation interval: decision time of every system, and the objective gap of heuristic ones."""
    plt = _plt()
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True)
    for i, r in enumerate(results):
        color = f"C{i % 10}"
        t = [row["t_s"] / 60.0 for row in r.steps]
        a1.plot(t, [row["decision_time_s"] * 1e3 for row in r.steps], color=color, label=r.spec.label,
                marker=".", linewidth=0.8)
        gaps = [gap_pct(row) for row in r.steps]
        if any(g is not None for g in gaps):
            a2.plot(t, [g if g is not None else np.nan for g in gaps], color=color, label=r.spec.label,
                    marker=".", linewidth=0.8)
    a1.set_yscale("log")
    a1.set_ylabel("decision time (ms)")
    a2.set_ylabel("objective gap to exact (%)")
    a2.set_xlabel("time (min)")
    a1.legend(fontsize=8, ncol=3)
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
    a1.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def gap_pct(step_row: dict[str, Any]) -> float | None:
    """(exact optimum - objective) / |exact optimum| in %, for intervals decided by a heuristic."""
    ref, obj = step_row.get("reference_objective"), step_row.get("objective")
    if ref is None:
        return None
    if obj is None:  # the heuristic found nothing feasible where the exact solver did
        return float("inf")
    return 100.0 * (ref - obj) / max(abs(ref), 1e-12)
