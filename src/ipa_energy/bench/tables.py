"""Tidy tables on disk: summary.csv, per-run timelines and decision logs, failures, resolved config."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ipa_energy.bench.experiment import ExperimentSpec
from ipa_energy.runs.metrics import CAP_COLUMNS, CARBON_COLUMNS, METRIC_COLUMNS
from ipa_energy.runs.records import fmt
from ipa_energy.runs.run import RunResult
from ipa_energy.runs.spec import RunSpec

if TYPE_CHECKING:
    from ipa_energy.bench.runner import RunFailure

SPEC_COLUMNS = ("group", "pipeline", "workload", "system", "label", "predictor", "seed", "load_scale")


def run_slug(spec: RunSpec) -> str:
    from ipa_energy.config.validation import safe_filename

    raw = f"{spec.group}_{spec.pipeline}_{spec.workload}_{spec.label}_{spec.predictor}_s{spec.seed}"
    return safe_filename(raw.replace(" ", "-"))  # the names bench wrote before safe_filename


def write_csv(path: Path, rows: Sequence[dict[str, Any]], columns: Iterable[str] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: fmt(r.get(k)) for k in cols})


def summary_rows(results: Sequence[RunResult]) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        s = r.spec
        stages = {f"{x['stage']}_{k}": x[k] for x in r.metrics.get("stages", [])
                  for k in ("energy_j", "carbon_g") if k in x}
        rows.append(
            {
                "group": s.group, "pipeline": s.pipeline, "workload": s.workload, "system": s.system,
                "label": s.label, "predictor": s.predictor, "seed": s.seed, "load_scale": s.load_scale,
                **{k: v for k, v in r.metrics.items() if k != "stages"}, **stages,
            }
        )
    return rows


def write_outputs(
    out: Path, spec: ExperimentSpec, results: Sequence[RunResult], failures: Sequence[RunFailure]
) -> list[dict[str, Any]]:
    out.mkdir(parents=True, exist_ok=True)
    rows = summary_rows(results)
    stage_cols = list(dict.fromkeys(k for r in rows for k in r if k.endswith("_energy_j") and k not in METRIC_COLUMNS))
    grid_cols = [k for k in CARBON_COLUMNS + CAP_COLUMNS if any(k in r for r in rows)]
    grid_cols += list(dict.fromkeys(k for r in rows for k in r if k.endswith("_carbon_g") and k not in grid_cols))
    write_csv(out / "summary.csv", rows, SPEC_COLUMNS + METRIC_COLUMNS + tuple(stage_cols) + tuple(grid_cols))
    # timelines/ and decisions/ were streamed by each run as it went (bench/runner.py)
    with (out / "config.resolved.yaml").open("w") as f:
        yaml.safe_dump(
            {"experiment": spec.model_dump(mode="json"), "runs": [r.spec.to_dict() for r in results]},
            f, sort_keys=False,
        )
    if failures:
        with (out / "failures.json").open("w") as f:
            json.dump([{"run": x.spec.to_dict(), "error": x.error} for x in failures], f, indent=1)
    return rows
