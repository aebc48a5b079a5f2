"""Closed loop on the simulator: decisions from the online profile vs the static offline profile, against
a simulated world that differs from the plan in a known way.

    PYTHONPATH=src python benchmarks/closed_loop.py                 # both scenarios, seed 0
    PYTHONPATH=src python benchmarks/closed_loop.py --seeds 0,1,2 --scenario slow

Scenario ``slow``: video on bursty, the world's detection stage (``crop``) 1.6x slower than planned
(latency and energy x1.6: the same power for longer), system ``ipa``, with the run path's default
predictor (``lstm``) and with ``gbm-q90``; the world-equal-to-plan run is printed as the floor.
Issue 15 asks: with learning, SLA violations <= 2 %.

Scenario ``energy``: video on bursty, ``ipa-energy``, one variant at a time drawing 3x its planned
energy (every one of the ten, none picked; "unused" where the static plan never runs it), at the energy
weights of the bench's own sweep grid that are at or above the default (0.001, 0.01, 0.03; not tuned
here). A cell meets issue 15's ask when learning uses less energy, SLA violations are not higher
(0.1 pp tolerance) and PAS is within 1 %.
Every figure is simulated energy (an estimate from the profile's power model).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from statistics import mean
from typing import Any

from ipa_energy.pipelines import load_pipeline
from ipa_energy.profiles import save_profile, scale_profile
from ipa_energy.runs import RunSpec, execute

ENERGY_WEIGHTS = (0.001, 0.01, 0.03)


def _run(seeds: list[int], **kw: Any) -> dict[str, float]:
    ms = [execute(RunSpec(pipeline="video", workload="bursty", seed=s, **kw)).metrics for s in seeds]
    keys = ("sla_violation_pct", "energy_j", "pas", "cost_cores", "learned_decision_changes")
    out = {k: mean(float(m[k]) for m in ms) for k in keys}
    errs = [m["learned_profile_error"] for m in ms if m["learned_profile_error"] is not None]
    out["learned_profile_error"] = mean(errs) if errs else float("nan")
    return out


def slow(tmp: Path, seeds: list[int]) -> None:
    world = tmp / "crop_x1.6.csv"
    save_profile(scale_profile(load_pipeline("video").profile, stage="crop", latency=1.6, energy=1.6), world)
    print("scenario slow: video / bursty / ipa, world crop stage x1.6 (latency and energy), seeds", seeds)
    print(f"{'predictor':10} {'world=plan':>11} {'static':>9} {'learned':>9} {'changes':>8} {'error':>7}  <= 2 %?")
    for predictor in ("lstm", "gbm-q90"):
        floor = _run(seeds, system="ipa", predictor=predictor)
        static = _run(seeds, system="ipa", predictor=predictor, learn=False, world_profile=str(world))
        learned = _run(seeds, system="ipa", predictor=predictor, world_profile=str(world))
        ok = "yes" if learned["sla_violation_pct"] <= 2.0 else "no"
        print(f"{predictor:10} {floor['sla_violation_pct']:10.2f}% {static['sla_violation_pct']:8.2f}% "
              f"{learned['sla_violation_pct']:8.2f}% {learned['learned_decision_changes']:8.0f} "
              f"{learned['learned_profile_error']:7.1e}  {ok}")
    print("  (SLA violations: dropped + late, % of sent; changes: decisions that differ from the static "
          "profile's at the same predicted rate; error: learned vs world, options used)")


def energy(tmp: Path, seeds: list[int]) -> None:
    pipeline = load_pipeline("video")
    print("\nscenario energy: video / bursty / ipa-energy, one variant at 3x its planned energy, seeds", seeds)
    print(f"{'variant':10} {'weight':>6} {'E static J':>11} {'E learned J':>11} {'dE':>7} {'dSLA pp':>8} "
          f"{'dPAS':>7} {'changes':>8}  meets?")
    met = total = used = 0
    met_default = 0
    # energy of the world-equal-to-plan run per weight: a static run whose energy equals it never used
    # the scaled variant (its 3x cannot show), marked "unused"
    plan = {w: _run(seeds, system="ipa-energy", learn=False, weights=(("energy", w),))["energy_j"]
            for w in ENERGY_WEIGHTS}
    for stage in pipeline.stages:
        for v in stage.variants:
            world = tmp / f"{v.name}_e3.csv"
            save_profile(scale_profile(pipeline.profile, stage=stage.name, variant=v.name, energy=3.0), world)
            for w in ENERGY_WEIGHTS:
                kw: dict[str, Any] = {"system": "ipa-energy", "world_profile": str(world),
                                      "weights": (("energy", w),)}
                a = _run(seeds, learn=False, **kw)
                b = _run(seeds, **kw)
                d_e = b["energy_j"] / a["energy_j"] - 1
                d_sla = b["sla_violation_pct"] - a["sla_violation_pct"]
                d_pas = b["pas"] / a["pas"] - 1
                ok = d_e < 0 and d_sla <= 0.1 and abs(d_pas) <= 0.01
                unused = abs(a["energy_j"] - plan[w]) <= 1e-9 * plan[w]
                met += ok
                total += 1
                used += not unused
                met_default += ok and w == ENERGY_WEIGHTS[0]
                verdict = "unused" if unused else ("yes" if ok else "no")
                print(f"{v.name:10} {w:6g} {a['energy_j']:11.0f} {b['energy_j']:11.0f} {100 * d_e:6.2f}% "
                      f"{d_sla:8.2f} {100 * d_pas:6.2f}% {b['learned_decision_changes']:8.0f}  {verdict}")
    print(f"  cells meeting the ask: {met} of {used} where the static plan used the variant ({total} in all); "
          f"at the default weight {ENERGY_WEIGHTS[0]:g}: {met_default}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0", help="comma-separated arrival seeds (figures are means)")
    ap.add_argument("--scenario", choices=("slow", "energy", "both"), default="both")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory() as d:
        if args.scenario in ("slow", "both"):
            slow(Path(d), seeds)
        if args.scenario in ("energy", "both"):
            energy(Path(d), seeds)


if __name__ == "__main__":
    main()
