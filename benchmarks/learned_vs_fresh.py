"""A serve run doubles as a profiling session: its learned profile against a fresh ``ipa-energy profile``.

Runs, one after the other on this machine (issue 15's check on the local executor)::

    ipa-energy serve --pipeline video-tv --backend local --workload steady_low --duration 60 --out DIR/serve
    ipa-energy profile --pipeline video-tv --variants <the learned ones> --batches <theirs> --out DIR/fresh.csv

then compares every learned row of the run's ``*_learned_profile.csv`` (``source`` starting
``learned[``) with the fresh profile's row of the same (stage, variant, batch, cores): the planning
latency (``latency_s``), the median latency and the energy per batch, each as learned / fresh - 1, and
says whether all are within 15 %. The offline (shipped) profile's value is printed beside them. The same
meter is used by both commands (``--meter``; ``auto`` here means the labelled CPU-time model).

    .venv/bin/python benchmarks/learned_vs_fresh.py [--pipeline video-tv] [--duration 60] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

TOLERANCE = 0.15
COLUMNS = ("latency_s", "latency_p50_s", "energy_j")


def _rows(path: Path) -> dict[tuple[str, str, str, str], dict[str, str]]:
    with path.open(newline="") as f:
        return {(r["stage"], r["variant"], r["batch"], r["cores"]): r for r in csv.DictReader(f)}


def _cli(*args: str) -> str:
    exe = Path(sys.executable).with_name("ipa-energy")
    done = subprocess.run([str(exe), *args], check=True, capture_output=True, text=True)
    return done.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pipeline", default="video-tv")
    ap.add_argument("--workload", default="steady_low")
    ap.add_argument("--duration", default="60")
    ap.add_argument("--meter", default="auto")
    ap.add_argument("--repeats", default="20")
    ap.add_argument("--out", default=None, help="folder for both outputs (default: a temporary one)")
    args = ap.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="learned_vs_fresh_"))
    serve_dir = out / "serve"
    summary = json.loads(_cli("serve", "--pipeline", args.pipeline, "--backend", "local", "--workload",
                              args.workload, "--duration-s", args.duration, "--meter", args.meter, "--json",
                              "--overwrite", "--out", str(serve_dir)))
    learned_path = next(serve_dir.glob("*_learned_profile.csv"))
    learned = {k: r for k, r in _rows(learned_path).items() if r["source"].startswith("learned[")}
    if not learned:
        sys.exit("the run learned nothing (no learned rows in its profile)")
    variants = sorted({k[1] for k in learned})
    batches = sorted({int(k[2]) for k in learned})
    fresh_path = out / "fresh.csv"
    _cli("profile", "--pipeline", args.pipeline, "--variants", ",".join(variants),
         "--batches", ",".join(map(str, batches)), "--repeats", args.repeats, "--meter", args.meter,
         "--out", str(fresh_path))
    fresh = _rows(fresh_path)
    from ipa_energy.errors import ConfigError
    from ipa_energy.pipelines import load_pipeline

    offline = load_pipeline(args.pipeline).profile

    print(f"serve: sent {summary['sent']}, completed {summary['completed']}, dropped {summary['dropped']}, "
          f"failed {summary['failed']}; learned_observations {summary['learned_observations']}, "
          f"decisions changed by learning {summary['learned_decision_changes']}, energy {summary['energy_source']}")
    print(f"{'stage':9} {'variant':38} {'b':>2} {'n':>4} {'column':14} {'offline':>9} {'learned':>9} "
          f"{'fresh':>9} {'learned/fresh-1':>15}")
    worst = 0.0
    for key, r in sorted(learned.items()):
        f = fresh.get(key)
        n = r["source"].split(" n=", 1)[1].split()[0] if " n=" in r["source"] else "?"
        try:
            off = offline.lookup(key[0], key[1], int(key[2]), int(key[3]))
        except ConfigError:  # an option the shipped profile lacks
            off = None
        for col in COLUMNS:
            lv = float(r[col])
            fv = float(f[col]) if f is not None and f.get(col) not in (None, "") else float("nan")
            ov = getattr(off, col, None) if off is not None else None
            ov = float("nan") if ov is None else float(ov)
            rel = lv / fv - 1 if fv == fv and fv > 0 else float("nan")
            worst = max(worst, abs(rel)) if rel == rel else float("inf")
            print(f"{key[0]:9} {key[1]:38} {key[2]:>2} {n:>4} {col:14} {ov:9.4f} {lv:9.4f} {fv:9.4f} "
                  f"{100 * rel:14.1f}%")
    verdict = "met" if worst <= TOLERANCE else "NOT met"
    print(f"largest |learned/fresh - 1|: {100 * worst:.1f} % (goal <= {100 * TOLERANCE:.0f} %: {verdict})")
    print(f"outputs: {serve_dir}, {fresh_path}")


if __name__ == "__main__":
    main()
