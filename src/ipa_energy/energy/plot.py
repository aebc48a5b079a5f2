"""The energy figure, done right: for each run, the raw per-second power (faint), the per-minute
energy-weighted average (steps) and a smoothed line, runs overlaid; gaps stay gaps (breaks in the line).
Mean power over the covered time is in the legend. matplotlib with the Agg backend (no display).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ipa_energy.energy.analysis import binned, smoother
from ipa_energy.energy.formats import ParsedLog
from ipa_energy.errors import ConfigError

#: what ``domain="auto"`` shows, first present wins (RAPL package, the model meter's cpu, a run's total)
AUTO_DOMAINS = ("pkg", "cpu", "total")


def pick_domain(log: ParsedLog, domain: str) -> str:
    """``domain`` when the log has it; for ``auto`` the first of :data:`AUTO_DOMAINS` it has (or its only
    domain). ConfigError naming the file otherwise."""
    if domain == "auto":
        found = next((d for d in AUTO_DOMAINS if d in log.domains), None)
        if found is None and len(log.domains) == 1:
            found = next(iter(log.domains))
        if found is not None:
            return found
    elif domain in log.domains:
        return domain
    raise ConfigError(f"no {domain!r} readings (it has {sorted(log.domains)})", source=log.path)


def plot_logs(
    logs: Sequence[ParsedLog],
    out: str | Path,
    *,
    domain: str = "auto",
    per: str = "minute",
    smooth: str = "savgol:61",
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if per not in ("minute", "second"):
        raise ConfigError(f"must be 'minute' or 'second' (got {per!r})", field="--per")
    smooth_label, smooth_fn = smoother(smooth)
    fig, ax = plt.subplots(figsize=(10, 5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    shown: list[str] = []
    for i, log in enumerate(logs):
        d = pick_domain(log, domain)
        shown.append(d)
        s = log.domains[d]
        name = labels[i] if labels else Path(log.path).stem
        c = colors[i % len(colors)]
        t_min = s.t_s / 60.0
        p = s.power_w
        ax.plot(t_min, p, color=c, alpha=0.2, linewidth=0.6)
        mean = s.mean_power_w
        mean_txt = f"{mean:.1f} W" if mean is not None else "n/a"
        if per == "minute":
            b = binned(s, 60.0)
            edges = np.r_[b.start_s, b.start_s[-1] + 60.0] / 60.0 if len(b.start_s) else np.array([])
            if len(edges):
                ax.stairs(b.mean_power_w, edges, baseline=None, color=c, linewidth=1.2,
                          label=f"{name}: per-minute (mean {mean_txt})")
        if smooth_label != "raw":
            ax.plot(t_min, smooth_fn(p), color=c, linewidth=2.0, label=f"{name}: {smooth_label}")
        elif per != "minute":
            ax.plot([], [], color=c, label=f"{name} (mean {mean_txt})")
    ax.set_xlabel("time (min)")
    domain = "/".join(dict.fromkeys(shown))
    ax.set_ylabel(f"{domain} power (W)")
    ax.set_title(title or f"{domain} power: raw per-second (faint), per-{per} average, {smooth_label}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out = Path(out)
    fig.tight_layout()
    try:
        fig.savefig(out, dpi=120)
    except OSError as e:
        raise ConfigError(f"cannot write the figure: {e.strerror}", source=str(out)) from None
    finally:
        plt.close(fig)
    return out
