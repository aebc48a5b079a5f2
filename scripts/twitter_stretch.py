"""Write a longer stretch of the Twitter per-second trace as a workload CSV (``rate`` per second).

IPA's damping (rps = int(count / 8)) as in the bundled 1200 s workloads. A count of zero is a gap in the
recording; it is written as zero (no arrivals that second) and the number of gap seconds is printed.

    python scripts/twitter_stretch.py --start-day 15 --hours 24 --out results/carbon/twitter_day15_24h.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ipa_energy.workloads.twitter import SECONDS_PER_DAY, load_twitter_trace


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", help="twitter_trace_per_second.txt (default: the usual search)")
    ap.add_argument("--start-day", type=float, default=15.0, help="first day (the LSTM trained on days 0-13)")
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    trace = load_twitter_trace(args.trace)
    span = trace.day_range(args.start_day, args.start_day + args.hours * 3600 / SECONDS_PER_DAY)
    rates, gaps = trace.rates_rps[span], trace.gaps[span]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("rate\n" + "\n".join(str(int(r)) for r in rates) + "\n")
    print(f"{out}: {len(rates)} s from day {args.start_day:g}, mean {rates.mean():.2f} rps, "
          f"max {rates.max():.0f}, {int(gaps.sum())} gap seconds written as 0, {int(rates.sum())} requests")


if __name__ == "__main__":
    main()
