"""Build ``src/ipa_energy/pipelines/data/segment.profile.csv`` from measured profiles.

    ipa-energy profile --pipeline segment --variants unet-s,unet-m,unet-l --batches 1,2,4 --out unet.csv
    ipa-energy profile --pipeline segment --variants sam-vit-b --batches 1 --repeats 1 --warmup 0 --out samb.csv
    python scripts/build_segment_profile.py unet.csv samb.csv [--out PATH]

sam-vit-l and sam-vit-h are not profiled here (minutes per image on 2 shared cores): their rows are
sam-vit-b's latency and energy times the ViT-L/ViT-B and ViT-H/ViT-B encoder-time ratios measured on a
2-core CPU at 1024 x 1024 (docs of the reference: 11.5 s, 28 s, 45 s), labelled ``scaled:`` in the source
column. Run the second command with ``--variants sam-vit-l`` / ``sam-vit-h`` to replace them by measurements.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

#: encoder seconds at 1024 x 1024 on a 2-core CPU, batch 1 (../shared/docs/ipa-reference.md section 9)
REFERENCE_ENCODER_S = {"sam-vit-b": 11.5, "sam-vit-l": 28.0, "sam-vit-h": 45.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("profiles", nargs="+", help="profile CSVs written by `ipa-energy profile --out`")
    ap.add_argument("--out", default="src/ipa_energy/pipelines/data/segment.profile.csv")
    args = ap.parse_args()
    rows: list[dict[str, str]] = []
    for p in args.profiles:
        with open(p) as f:
            rows += list(csv.DictReader(f))
    if not rows:
        raise SystemExit("no rows in the given profiles")
    columns = list(rows[0])
    have = {r["variant"] for r in rows}
    base = [r for r in rows if r["variant"] == "sam-vit-b"]
    for name in ("sam-vit-l", "sam-vit-h"):
        if name in have or not base:
            continue
        k = REFERENCE_ENCODER_S[name] / REFERENCE_ENCODER_S["sam-vit-b"]
        for r in base:
            s = dict(r, variant=name)
            for col in ("latency_s", "energy_j", "latency_p50_s", "latency_p99_s"):
                s[col] = repr(float(r[col]) * k)
            ratio = f"{REFERENCE_ENCODER_S[name]:g} s / {REFERENCE_ENCODER_S['sam-vit-b']:g} s"
            s["source"] = f"scaled:sam-vit-b x{k:.3f} (2-core CPU encoder time ratio {ratio}; energy scaled alike)"
            rows.append(s)
    with open(Path(args.out), "w", newline="") as f:
        w = csv.DictWriter(f, columns, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {args.out}: {len(rows)} rows")


if __name__ == "__main__":
    main()
