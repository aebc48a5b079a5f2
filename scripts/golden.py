"""Golden figures: the numbers README.md and docs/*.md quote from deterministic runs, regenerated from the code.

A quoted figure sits in a marked block, ``<!-- golden:NAME -->...<!-- /golden -->`` (multi-line: a table or
code block between the markers; inline: a few words inside a sentence or table cell). Each NAME has one
generator below that recomputes the block's text from the code as it is now.

    python scripts/golden.py --check          # compare every cheap block; exit 1 and a diff on drift
    python scripts/golden.py --write          # rewrite the cheap blocks in place (after a change that moves them)
    python scripts/golden.py --check --all    # also the slow blocks (energy-weight selection, ipa vs ipa-ql: minutes)
    python scripts/golden.py --write --all --only energy-weight-selection

``tests/unit/test_golden.py`` runs ``--check`` on the cheap blocks (CI; about 10-40 s on 2 cores). Blocks that
need the full Twitter trace are skipped, and said so, where it is absent. Timings (wall seconds, ms per
solve) are never golden: they depend on the machine.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import importlib.util
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC_GLOBS = ("README.md", "docs/*.md")
BLOCK = re.compile(r"<!-- golden:(?P<name>[a-z0-9-]+) -->(?P<body>.*?)<!-- /golden -->", re.S)


class Skip(Exception):
    """A generator cannot run here (e.g. the Twitter trace is absent); the block is left unchecked."""


@dataclass(frozen=True)
class Generator:
    make: Callable[[], str]
    slow: bool = False


# ---------------------------------------------------------------------------------------------- inputs
@functools.cache
def default_bench_rows() -> tuple[dict[str, Any], ...]:
    """The main runs of the default ``ipa-energy bench`` (video x 4 workloads x 6 systems, seed 0)."""
    from ipa_energy.bench.experiment import EnergySweepSpec, ExperimentSpec, expand
    from ipa_energy.bench.runner import RunFailure, run_all
    from ipa_energy.bench.tables import summary_rows

    spec = ExperimentSpec(energy_sweep=EnergySweepSpec(enabled=False))
    outcomes = run_all(expand(spec), show_progress=False)
    failed = [o for o in outcomes if isinstance(o, RunFailure)]
    if failed:
        raise RuntimeError(f"{len(failed)} default bench runs failed: {failed[0].error.splitlines()[0]}")
    return tuple(summary_rows([o for o in outcomes if not isinstance(o, RunFailure)]))


@functools.cache
def twitter_trace() -> Any:
    from ipa_energy.workloads import default_twitter_trace_path, load_twitter_trace

    if default_twitter_trace_path() is None:
        raise Skip("the Twitter trace is not on this machine")
    return load_twitter_trace()


def _table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    from ipa_energy.bench.report import _table as table

    return table(rows, cols)


# ------------------------------------------------------------------------------------------ generators
def bench_main() -> str:
    cols = ["workload", "label", "sla_violation_pct", "drop_pct", "pas", "cost_cores", "energy_j",
            "mean_power_w", "fallback_intervals"]
    return "\n" + _table(list(default_bench_rows()), cols) + "\n"


def bench_claims() -> str:
    from ipa_energy.bench.verdicts import claims

    got = claims(list(default_bench_rows()))
    workloads = list(dict.fromkeys(c["workload"] for c in got))
    names = list(dict.fromkeys(c["claim"] for c in got))
    verdict = {(c["claim"], c["workload"]): c["verdict"] for c in got}
    rows = [{"claim": n, **{w: verdict.get((n, w), "not run") for w in workloads}} for n in names]
    return "\n" + _table(rows, ["claim", *workloads]) + "\n"


def bench_held_out() -> str:
    from ipa_energy.bench.energy_weight import MAX_EXTRA_VIOLATIONS_PP, MAX_PAS_LOSS
    from ipa_energy.bench.verdicts import energy_weight_held_out

    rows = energy_weight_held_out(list(default_bench_rows()), max_pas_loss=MAX_PAS_LOSS,
                                  max_extra_violations_pp=MAX_EXTRA_VIOLATIONS_PP)
    return "\n" + _table(rows, ["workload", "energy_change_pct", "pas_change_pct", "violations_change_pp",
                                "cost_change_cores", "within_selection_bounds"]) + "\n"


def _by_label(workload: str, label: str) -> dict[str, Any]:
    (row,) = [r for r in default_bench_rows() if r["workload"] == workload and r["label"] == label]  # one seed
    return row


def _range(values: list[float], fmt: str) -> str:
    lo, hi = format(min(values), fmt), format(max(values), fmt)
    return lo if lo == hi else f"{lo}-{hi}"


def bench_fa2high_power_ratio() -> str:
    workloads = list(dict.fromkeys(r["workload"] for r in default_bench_rows()))
    ratios = [_by_label(w, "fa2-high")["mean_power_w"] / _by_label(w, "ipa")["mean_power_w"] for w in workloads]
    return _range(ratios, ".1f") + "x"


def bench_ipa_energy_saving() -> str:
    workloads = list(dict.fromkeys(r["workload"] for r in default_bench_rows()))
    saving = [100 * (1 - _by_label(w, "ipa-energy")["energy_j"] / _by_label(w, "ipa")["energy_j"]) for w in workloads]
    return _range(saving, ".1f") + " %"


def energy_weight_default() -> str:
    from ipa_energy.optimize.presets import DEFAULT_ENERGY_WEIGHT

    return f"{DEFAULT_ENERGY_WEIGHT:g}"


def energy_weight_selection() -> str:
    """The selection table of scripts/choose_energy_weight.py (240 runs: minutes)."""
    from ipa_energy.bench.energy_weight import (
        aggregate,
        choose_energy_weight,
        selection_specs,
        selection_windows,
        summarize,
        summary_table,
        windows_table,
        write_window_csv,
    )
    from ipa_energy.bench.runner import RunFailure, run_all

    trace = twitter_trace()
    windows = selection_windows(trace)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {w.name: write_window_csv(trace, w, Path(tmp) / f"{w.name}.csv") for w in windows}
        outcomes = run_all(selection_specs(paths), show_progress=False)
    name_of = {str(p): n for n, p in paths.items()}
    rows = [{"window": name_of[o.spec.workload], "energy_weight": dict(o.spec.weights)["energy"],
             "seed": o.spec.seed, **o.metrics} for o in outcomes if not isinstance(o, RunFailure)]
    if len(rows) != len(outcomes):
        raise RuntimeError("a selection run failed: run scripts/choose_energy_weight.py to see it")
    agg = aggregate(rows)
    chosen, _ = choose_energy_weight(agg)
    return "\n" + windows_table(windows) + "\n\n" + summary_table(summarize(agg) or [], chosen) + "\n"


def ql_same_decisions() -> str:
    """experiments/ql_vs_ipa.yaml: intervals where ipa-ql's configuration equals ipa's (same workload, seed)."""
    from ipa_energy.bench.experiment import expand, load_experiment
    from ipa_energy.bench.runner import RunFailure, run_all

    outcomes = run_all(expand(load_experiment(ROOT / "experiments" / "ql_vs_ipa.yaml")), show_progress=False)
    if any(isinstance(o, RunFailure) for o in outcomes):
        raise RuntimeError("a ql_vs_ipa run failed: run ipa-energy bench --config experiments/ql_vs_ipa.yaml")
    configs = {(o.spec.pipeline, o.spec.workload, o.spec.predictor, o.spec.seed, o.spec.label):
               # interval decisions only: guard actions between them depend on each run's own queue
               [st["config"] for st in o.steps if not str(st["source"]).startswith("guard")]
               for o in outcomes if not isinstance(o, RunFailure)}
    same = total = 0
    for (pipe, wl, pred, seed, label), ql in configs.items():
        if label != "ipa-ql":
            continue
        ipa = configs[(pipe, wl, pred, seed, "ipa")]
        total += len(ipa)
        same += sum(a == b for a, b in zip(ipa, ql, strict=True))
    return f"{same} of {total}"


def closed_loop() -> str:
    """experiments/closed_loop.yaml (crop 1.6x slower in the world; learned vs static), beside the same
    systems in a world equal to the plan."""
    from ipa_energy.bench.experiment import expand, load_experiment
    from ipa_energy.bench.runner import RunFailure, run_all
    from ipa_energy.bench.tables import summary_rows
    from ipa_energy.bench.world import write_worlds

    spec = load_experiment(ROOT / "experiments" / "closed_loop.yaml")
    plan = spec.model_copy(update={"world": None, "learn": [True]})
    planned = expand(plan)
    with tempfile.TemporaryDirectory() as d:
        outcomes = run_all([*planned, *expand(spec, write_worlds(spec.world, spec.pipelines, Path(d)))],
                           show_progress=False)
    if any(isinstance(o, RunFailure) for o in outcomes):
        raise RuntimeError("a closed_loop run failed: run ipa-energy bench --config experiments/closed_loop.yaml")
    rows = [dict(r, world="plan" if i < len(planned) else "crop x1.6")
            for i, r in enumerate(summary_rows([o for o in outcomes if not isinstance(o, RunFailure)]))]
    return "\n" + _table(rows, ["world", "label", "predictor", "sla_violation_pct", "drop_pct", "cost_cores",
                                "energy_j", "learned_decision_changes"]) + "\n"


def _solver_bench() -> Any:
    spec = importlib.util.spec_from_file_location("solver_bench", ROOT / "benchmarks" / "solver_bench.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("solver_bench", mod)  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


#: seeded problems per size of solver_bench's grid (its default is 5; 2 keeps the CI check short)
SOLVER_SEEDS = 2


def solver_agreement() -> str:
    """dp against milp (and brute on 2-stage problems) on solver_bench's seeded problems and pipelines."""
    from ipa_energy.optimize.problem import same_optimum
    from ipa_energy.optimize.solvers import get_solver

    sb = _solver_bench()
    dp, milp, brute = get_solver("dp"), get_solver("milp"), get_solver("brute")
    rows = []
    for mode in ("sum", "product"):
        probs = [(s, p) for s in sb.STAGES for v in sb.VARIANTS
                 for _, p in sb.random_family(s, v, mode, SOLVER_SEEDS)]
        pipes, why = sb.pipeline_problems(mode)
        if why:
            raise RuntimeError(f"shipped pipelines: {why}")
        probs += [(len(p.stages), p) for _, p in pipes]
        same_milp = same_brute = n_brute = 0
        for stages, p in probs:
            ref = dp.solve(p)
            same_milp += same_optimum(milp.solve(p), ref)
            if stages <= 2:
                n_brute += 1
                same_brute += same_optimum(brute.solve(p), ref)
        rows.append({"PAS": mode, "problems": len(probs), "milp = dp": f"{same_milp} of {len(probs)}",
                     "brute = dp (2 stages)": f"{same_brute} of {n_brute}"})
    return "\n" + _table(rows, ["PAS", "problems", "milp = dp", "brute = dp (2 stages)"]) + "\n"


@functools.cache
def predictor_scores() -> tuple[Any, ...]:
    from ipa_energy.predict import PREDICTORS, get_predictor
    from ipa_energy.predict.evaluate import evaluate_predictors, split_windows

    held = split_windows(twitter_trace(), "test")
    return tuple(evaluate_predictors({n: get_predictor(n) for n in PREDICTORS.names()}, held))


def predictor_test() -> str:
    scores = predictor_scores()
    lines = [f"test days, {scores[0].windows:,} gap-free windows (one every 10 s)",
             f"  {'predictor':<14} {'SMAPE':>8} {'MAE rps':>8} {'under':>7}"]
    lines += [f"  {s.name:<14} {s.smape_pct:>7.2f}% {s.mae_rps:>8.3f} {s.under_pct:>6.1f}%" for s in scores]
    return "\n```\n" + "\n".join(lines) + "\n```\n"


def readme_predictor() -> str:
    s = {x.name: x for x in predictor_scores()}
    return f"SMAPE {s['lstm'].smape_pct:.2f} % (paper: 6.6 %; reactive {s['reactive'].smape_pct:.1f} %)"


GENERATORS: dict[str, Generator] = {
    "bench-main": Generator(bench_main),
    "bench-claims": Generator(bench_claims),
    "bench-held-out": Generator(bench_held_out),
    "bench-fa2high-power-ratio": Generator(bench_fa2high_power_ratio),
    "bench-ipa-energy-saving": Generator(bench_ipa_energy_saving),
    "energy-weight-default": Generator(energy_weight_default),
    "energy-weight-selection": Generator(energy_weight_selection, slow=True),
    "solver-agreement": Generator(solver_agreement),
    "bench-closed-loop": Generator(closed_loop),
    "ql-same-decisions": Generator(ql_same_decisions, slow=True),
    "predictor-test": Generator(predictor_test),
    "readme-predictor": Generator(readme_predictor),
}


# ------------------------------------------------------------------------------------------ the driver
def doc_files(root: Path = ROOT) -> list[Path]:
    return sorted({p for g in DOC_GLOBS for p in root.glob(g)})


def run(*, write: bool, include_slow: bool, only: set[str] | None = None, root: Path = ROOT,
        out: Callable[[str], None] = print) -> int:
    """Check (or rewrite) every golden block; returns the number of blocks that differ (0 after a write)."""
    drift, cache, seen = 0, {}, set()  # type: ignore[var-annotated]
    for path in doc_files(root):
        text = path.read_text()
        pieces, pos, changed = [], 0, False
        for m in BLOCK.finditer(text):
            name, body = m.group("name"), m.group("body")
            seen.add(name)
            pieces.append(text[pos:m.start("body")])
            pos = m.end("body")
            gen = GENERATORS.get(name)
            where = f"{path.relative_to(root)}: golden:{name}"
            if gen is None:
                out(f"{where}: unknown block (names: {', '.join(GENERATORS)})")
                drift += 1
                pieces.append(body)
                continue
            if (only is not None and name not in only) or (gen.slow and not include_slow):
                pieces.append(body)
                continue
            try:
                new = cache[name] if name in cache else cache.setdefault(name, gen.make())
            except Skip as e:
                out(f"{where}: skipped ({e})")
                pieces.append(body)
                continue
            if not body.startswith("\n"):
                new = new.strip("\n")  # an inline block stays inline
            if new != body:
                if write:
                    changed = True
                    out(f"{where}: rewritten")
                else:
                    drift += 1
                    out(f"{where}: differs from the code (python scripts/golden.py --write to refresh)")
                    out("".join(difflib.unified_diff(body.splitlines(True), new.splitlines(True),
                                                     "in the doc", "from the code")))
            pieces.append(new)
        pieces.append(text[pos:])
        if changed:
            path.write_text("".join(pieces))
    for name in sorted(set(GENERATORS) - seen):
        out(f"golden:{name}: no doc quotes it")
    return drift


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="compare; exit 1 when a block differs")
    mode.add_argument("--write", action="store_true", help="rewrite the blocks from the code")
    ap.add_argument("--all", action="store_true", help="include the slow blocks")
    ap.add_argument("--only", default=None, help="comma-separated block names")
    args = ap.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    drift = run(write=args.write, include_slow=args.all or bool(only), only=only)
    if args.check:
        print(f"golden figures: {'all match' if drift == 0 else f'{drift} block(s) differ'}")
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main())
