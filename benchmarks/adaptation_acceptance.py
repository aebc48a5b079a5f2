"""Issue 12's acceptance figures: video, the new default (`ipa`) against IPA's original (`ipa-paper`).

Runs the simulator through the one run path (``runs.execute``, default options) on bursty at seeds 0, 1, 2
and on steady_low, steady_high, fluctuating at seed 0, and prints per run: SLA violations (late answers
counted), the paper's drop-only figure, mean cores, PAS, energy (modelled) and guard actions; then
checks the goals (violations <= 0.5 % everywhere, mean cores on bursty <= 3.6, PAS on bursty >= 0.33).
Nothing is tuned here; the goals are printed beside the figures, pass or fail.

    PYTHONPATH=src .venv/bin/python benchmarks/adaptation_acceptance.py [--pipeline video]
"""

from __future__ import annotations

import argparse

CASES = [("bursty", 0), ("bursty", 1), ("bursty", 2), ("steady_low", 0), ("steady_high", 0), ("fluctuating", 0)]
MAX_VIOLATION_PCT, MAX_BURSTY_CORES, MIN_BURSTY_PAS = 0.5, 3.6, 0.33


def main() -> None:
    from ipa_energy.runs import RunSpec, execute

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pipeline", default="video")
    args = ap.parse_args()
    print(f"{'workload':12} {'seed':>4} {'system':10} {'predictor':9} {'SLA viol %':>10} {'drop %':>7} "
          f"{'cores':>6} {'PAS':>6} {'energy kJ':>9} {'guard':>5}")
    fails = []
    for wl, seed in CASES:
        for system in ("ipa", "ipa-paper"):
            m = execute(RunSpec(args.pipeline, wl, system, seed=seed)).metrics
            print(f"{wl:12} {seed:>4} {system:10} {m['predictor']:9} {m['sla_violation_pct']:>10.3f} "
                  f"{m['drop_pct']:>7.3f} {m['cost_cores']:>6.3f} {m['pas']:>6.4f} {m['energy_j'] / 1e3:>9.2f} "
                  f"{m['guard_actions']:>5}")
            if system != "ipa":
                continue
            if m["sla_violation_pct"] > MAX_VIOLATION_PCT:
                fails.append(f"{wl} seed {seed}: violations {m['sla_violation_pct']:.3f} % > {MAX_VIOLATION_PCT}")
            if wl == "bursty" and m["cost_cores"] > MAX_BURSTY_CORES:
                fails.append(f"bursty seed {seed}: cores {m['cost_cores']:.3f} > {MAX_BURSTY_CORES}")
            if wl == "bursty" and m["pas"] < MIN_BURSTY_PAS:
                fails.append(f"bursty seed {seed}: PAS {m['pas']:.4f} < {MIN_BURSTY_PAS}")
    print(f"goals (ipa): violations <= {MAX_VIOLATION_PCT} % on every case, bursty cores <= {MAX_BURSTY_CORES}, "
          f"bursty PAS >= {MIN_BURSTY_PAS}: " + ("all met" if not fails else "NOT MET: " + "; ".join(fails)))


if __name__ == "__main__":
    main()
