"""Choose ``ipa-energy``'s energy weight on held-out load (``ipa_energy.bench.energy_weight``).

Usage: python scripts/choose_energy_weight.py [--trace PATH] [--out DIR] [--workers N]

Reads the full Twitter trace (default: ``$IPA_ENERGY_TWITTER_TRACE`` or ``../shared/data/ipa/workloads/``,
build time only; nothing of it is shipped), cuts the selection windows, runs ``ipa-energy`` at every weight
on every window and seed through the one run path, and writes into DIR (default
``results/energy_weight``): ``windows/*.csv`` (the traces run, with their history), ``windows.csv``
(provenance: trace seconds, day, the evaluation workload each resembles), ``runs.csv`` (one row per run),
``selection.csv`` (per window and weight: mean and sd over seeds) and ``selection.md`` (the windows, the
per-weight table, the rule and the weight it picks). It then says whether the pick equals
``DEFAULT_ENERGY_WEIGHT``; exit status 1 when it does not.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from ipa_energy.bench.energy_weight import (
    RULE,
    SELECTION_SEEDS,
    aggregate,
    choose_energy_weight,
    selection_days,
    selection_specs,
    selection_windows,
    summarize,
    summary_table,
    windows_table,
    write_window_csv,
)
from ipa_energy.bench.runner import RunFailure, run_all
from ipa_energy.bench.tables import write_csv
from ipa_energy.optimize.presets import DEFAULT_ENERGY_WEIGHT
from ipa_energy.workloads import load_twitter_trace


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", default=None, help="twitter_trace_per_second.txt (default: found as documented)")
    ap.add_argument("--out", default="results/energy_weight", help="output folder")
    ap.add_argument("--workers", type=int, default=None, help="parallel runs (default: the available cores)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    t0 = time.perf_counter()
    trace = load_twitter_trace(args.trace)
    windows = selection_windows(trace)
    paths = {w.name: write_window_csv(trace, w, out / "windows" / f"{w.name}.csv") for w in windows}
    write_csv(out / "windows.csv", [dict(dataclasses.asdict(w), day=round(w.day, 3)) for w in windows])
    specs = selection_specs(paths)
    print(f"{len(windows)} windows on days {selection_days(trace)} x {len(SELECTION_SEEDS)} seeds: "
          f"{len(specs)} runs", file=sys.stderr)
    outcomes = run_all(specs, workers=args.workers, show_progress=sys.stderr.isatty())
    failures = [o for o in outcomes if isinstance(o, RunFailure)]
    if failures:
        for f in failures:
            print(f"failed: {f.spec.workload} {f.spec.label} seed {f.spec.seed}: {f.error.splitlines()[0]}",
                  file=sys.stderr)
        return 2
    name_of = {str(p): n for n, p in paths.items()}
    rows = [
        {"window": name_of[o.spec.workload], "energy_weight": dict(o.spec.weights)["energy"], "seed": o.spec.seed,
         **{k: v for k, v in o.metrics.items() if k != "stages"}}
        for o in outcomes if not isinstance(o, RunFailure)
    ]
    write_csv(out / "runs.csv", rows, ["window", "energy_weight", "seed", "energy_j", "pas", "sla_violation_pct",
                                       "cost_cores", "mean_power_w", "drop_pct", "sent"])
    agg = aggregate(rows)
    write_csv(out / "selection.csv", agg)
    chosen, why = choose_energy_weight(agg)
    summary = summarize(agg) or []
    text = "\n".join([
        "# ipa-energy's energy weight, chosen on held-out load",
        "",
        f"Command: `python scripts/choose_energy_weight.py` ({len(specs)} runs, {time.perf_counter() - t0:.0f} s "
        f"wall). Seeds {', '.join(map(str, SELECTION_SEEDS))}; trace `{Path(trace.source).name}`.",
        "",
        windows_table(windows),
        "",
        summary_table(summary, chosen),
        "",
        f"Rule: {why}. Chosen: **{chosen}**; shipped `DEFAULT_ENERGY_WEIGHT` = {DEFAULT_ENERGY_WEIGHT:g}.",
        "",
    ])
    (out / "selection.md").write_text(text)
    print(text)
    if chosen != DEFAULT_ENERGY_WEIGHT:
        print(f"the pick {chosen} differs from DEFAULT_ENERGY_WEIGHT {DEFAULT_ENERGY_WEIGHT:g} "
              "(src/ipa_energy/optimize/presets.py)", file=sys.stderr)
        return 1
    assert why == RULE
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
