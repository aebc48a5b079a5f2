"""Build ``src/ipa_energy/workloads/data/history.csv``: the load a real system had observed before each
bundled workload starts (the 120 s of the Twitter trace just before its window, same transform
``rps = int(count / 8)``), so a run's first decision uses real history instead of the future.

Usage: python scripts/build_workload_history.py [PATH/TO/twitter_trace_per_second.txt]
(default: ../shared/data/ipa/workloads/twitter_trace_per_second.txt). The script first checks that the
transform reproduces every bundled workload CSV from its window, then writes the history table.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "ipa_energy" / "workloads" / "data"
#: workload -> (trace windows it was cut from, in order); the history is the 120 s before the first
WINDOWS = {
    "bursty": [(1301160, 1302360)],
    "steady_low": [(1299600, 1300800)],
    "steady_high": [(1768800, 1769400), (1768800, 1769400)],
    "fluctuating": [(1301400, 1302000), (1308600, 1309200)],
}
HISTORY_S = 120


def main() -> None:
    default = ROOT.parent / "shared" / "data" / "ipa" / "workloads" / "twitter_trace_per_second.txt"
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    counts = np.loadtxt(path, dtype=np.int64)
    rows = []
    for name, windows in WINDOWS.items():
        rates = np.concatenate([counts[a:b] // 8 for a, b in windows])
        with open(DATA / f"{name}.csv") as f:
            bundled = np.array([int(r["rps"]) for r in csv.DictReader(f)])
        if not np.array_equal(rates, bundled):
            raise SystemExit(f"{name}: the transform does not reproduce the bundled CSV")
        start = windows[0][0]
        for i, c in enumerate(counts[start - HISTORY_S : start] // 8):
            rows.append((name, i - HISTORY_S, int(c)))
    with open(DATA / "history.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["workload", "t_s", "rps"])
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {DATA / 'history.csv'}")


if __name__ == "__main__":
    main()
