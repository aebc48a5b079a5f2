"""The carbon figures are written from plain timeline rows."""

from __future__ import annotations

from pathlib import Path

from ipa_energy.bench.carbon_plots import carbon_over_time, carbon_pareto


def test_figures_are_written(tmp_path: Path) -> None:
    rows = [{"t_s": t, "pas": 0.3 + 0.01 * (t // 60 % 2), "intensity_g_per_kwh": 100 + 400 * (t // 300 % 2),
             "carbon_g": 1e-4} for t in range(240)]
    carbon_over_time([("ipa", rows), ("ipa-carbon", rows)], tmp_path / "t.png", "video, bursty", "synthetic")
    carbon_pareto([{"label": "lam 0", "carbon_g": 2.0, "pas": 0.5}, {"label": "lam 1", "carbon_g": 1.0, "pas": 0.3},
                   {"label": "ipa", "carbon_g": 1.2, "pas": 0.29}], tmp_path / "p.png", "pareto")
    assert (tmp_path / "t.png").stat().st_size > 1000 and (tmp_path / "p.png").stat().st_size > 1000
