"""Solver benchmark: median ``solve_time_s`` per solver, side by side on the same problems in one run.

Grid: stages {2, 3, 5, 10} x variants {5, 10} x 7 batch sizes (1..64), seeded random problems
(``ipa_energy.optimize.random_problems``; infeasible draws are skipped and counted), plus the shipped
pipelines at a few rates when they load. Every solver solves every problem; answers are checked against
``dp`` (a disagreement is printed and makes the exit status 1). ``solve_time_s`` is the decision time the
solver reports (option enumeration and model building included; library import and the first HiGHS call
of the process are excluded by one untimed warm-up solve per solver).

``ipa-milp`` is capped by ``--ipa-time-limit-s``; a capped solve counts as the limit and is reported in
the "capped" column, so a median with caps is a lower bound (printed with ">=").

Run:  .venv/bin/python benchmarks/solver_bench.py [--quick] [--repeats N] [--seeds N] [--solvers a,b]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

from ipa_energy.optimize.problem import Decision, Problem, same_optimum
from ipa_energy.optimize.random_problems import BATCHES, random_problem
from ipa_energy.optimize.solvers import get_solver
from ipa_energy.optimize.solvers.base import Solver

STAGES = (2, 3, 5, 10)
VARIANTS = (5, 10)
HEADLINE = (10, 10)
PIPELINE_RATES_RPS = (5.0, 20.0, 34.0)


@dataclass
class Cell:
    """Timings of one solver on one problem family."""

    times_s: list[float] = field(default_factory=list)
    capped: int = 0
    mismatches: int = 0

    def median_s(self) -> float:
        return statistics.median(self.times_s) if self.times_s else float("nan")


def make_solver(name: str, ipa_time_limit_s: float) -> Solver:
    if name == "ipa-milp":
        from ipa_energy.optimize.solvers.ipa_milp import IPAMILPSolver

        return IPAMILPSolver(time_limit_s=ipa_time_limit_s)
    return get_solver(name)


def timed(solver: Solver, problem: Problem) -> tuple[Decision | None, float, bool]:
    """(decision or None when capped, seconds, capped?)."""
    from ipa_energy.optimize.solvers.milp import SolverTimeLimit

    try:
        d = solver.solve(problem)
    except SolverTimeLimit as e:
        return None, e.time_limit_s, True
    return d, d.solve_time_s, False


def random_family(n_stages: int, n_variants: int, mode: str, seeds: int) -> Iterator[tuple[str, Problem]]:
    dp = get_solver("dp")
    found = 0
    for seed in range(1000):
        p = random_problem(seed, n_stages, n_variants, BATCHES, accuracy_method=mode)
        if dp.solve(p).feasible:
            yield f"seed {seed}", p
            found += 1
            if found == seeds:
                return


def pipeline_problems(mode: str) -> tuple[list[tuple[str, Problem]], str | None]:
    """The shipped pipelines at a few rates, or the reason they could not be loaded."""
    try:
        from ipa_energy.optimize.presets import build_problem
        from ipa_energy.pipelines import load_pipeline, pipeline_names

        out = []
        for name in pipeline_names():
            pipe = load_pipeline(name)
            for rate in PIPELINE_RATES_RPS:
                out.append((f"{name} @ {rate:g} rps", build_problem(pipe, "ipa", rate, accuracy_method=mode)))  # type: ignore[arg-type]
        return out, None
    except Exception as e:  # reported, not hidden: the random grid still runs
        return [], f"{type(e).__name__}: {e}"


def fmt_ms(cell: Cell) -> str:
    if not cell.times_s:
        return "-"
    prefix = ">=" if cell.capped else ""
    ms = cell.median_s() * 1e3
    return f"{prefix}{ms:.3f}" if ms < 10 else f"{prefix}{ms:.1f}" if ms < 1000 else f"{prefix}{ms:.0f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--solvers", default="dp,milp,ipa-milp", help="comma-separated solver names")
    ap.add_argument("--repeats", type=int, default=3, help="timed solves per problem (default 3)")
    ap.add_argument("--seeds", type=int, default=5, help="feasible random problems per size (default 5)")
    ap.add_argument("--mode", choices=["sum", "product"], default="sum", help="PAS mode (default sum)")
    ap.add_argument("--ipa-time-limit-s", type=float, default=30.0, help="cap per ipa-milp solve (default 30)")
    ap.add_argument("--quick", action="store_true", help="2 seeds, 1 repeat (a smoke run)")
    ap.add_argument("--no-pipelines", action="store_true", help="skip the shipped-pipeline rows")
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.repeats = 2, 1
    names = [n.strip() for n in args.solvers.split(",") if n.strip()]
    solvers = {n: make_solver(n, args.ipa_time_limit_s) for n in names}
    dp = get_solver("dp")

    families: list[tuple[str, list[tuple[str, Problem]]]] = []
    for s in STAGES:
        for v in VARIANTS:
            families.append((f"{s}x{v}x{len(BATCHES)}", list(random_family(s, v, args.mode, args.seeds))))
    pipes, why_not = ([], "skipped (--no-pipelines)") if args.no_pipelines else pipeline_problems(args.mode)
    for label, p in pipes:
        families.append((label, [(label, p)]))

    warm = random_problem(0, 2, 2, BATCHES[:2])
    for solver in solvers.values():
        timed(solver, warm)

    from rich.progress import Progress

    results: dict[str, dict[str, Cell]] = {}
    ratios: list[float] = []  # per-problem ipa-milp / dp at the headline size
    failures = 0
    total = sum(len(probs) for _, probs in families) * len(names) * args.repeats
    with Progress(transient=True, console=None) as bar:
        task = bar.add_task("solving", total=total)
        for label, probs in families:
            cells = results.setdefault(label, {n: Cell() for n in names})
            for pname, p in probs:
                ref = dp.solve(p)
                per_problem: dict[str, list[float]] = {}
                for n, solver in solvers.items():
                    for _ in range(args.repeats):
                        d, t, capped = timed(solver, p)
                        cells[n].times_s.append(t)
                        per_problem.setdefault(n, []).append(t)
                        cells[n].capped += capped
                        if d is not None and not same_optimum(d, ref):
                            cells[n].mismatches += 1
                            failures += 1
                            print(f"MISMATCH {n} on {label} {pname}: {d.objective} vs dp {ref.objective}",
                                  file=sys.stderr)
                        bar.advance(task)
                if label == f"{HEADLINE[0]}x{HEADLINE[1]}x{len(BATCHES)}" and {"dp", "ipa-milp"} <= set(names):
                    ratios.append(statistics.median(per_problem["ipa-milp"]) / statistics.median(per_problem["dp"]))

    print(f"# solver_bench: median solve_time_s in ms ({args.mode} PAS; {args.seeds} feasible seeds x "
          f"{args.repeats} repeats per size; ipa-milp capped at {args.ipa_time_limit_s:g} s)")
    header = "| problem (stages x variants x batches) | n | " + " | ".join(f"{n} ms" for n in names)
    header += " | ipa-milp capped |" if "ipa-milp" in names else " |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for label, probs in families:
        cells = results[label]
        row = f"| {label} | {len(probs)} | " + " | ".join(fmt_ms(cells[n]) for n in names)
        row += f" | {cells['ipa-milp'].capped} |" if "ipa-milp" in names else " |"
        print(row)
    if why_not:
        print(f"\nshipped pipelines: not benchmarked ({why_not})")

    head = results.get(f"{HEADLINE[0]}x{HEADLINE[1]}x{len(BATCHES)}")
    if head and "dp" in names:
        dp_ms = head["dp"].median_s() * 1e3
        print(f"\nheadline 10x10x7: dp median {dp_ms:.3f} ms (goal <= 5 ms: {'met' if dp_ms <= 5 else 'NOT met'})")
        if "milp" in names:
            print(f"headline 10x10x7: milp median {head['milp'].median_s() * 1e3:.3f} ms")
        if "ipa-milp" in names:
            ipa_ms = head["ipa-milp"].median_s() * 1e3
            ge = ">=" if head["ipa-milp"].capped else ""
            ratio = ipa_ms / dp_ms
            print(f"headline 10x10x7: ipa-milp median {ge}{ipa_ms:.1f} ms "
                  f"({head['ipa-milp'].capped} of {len(head['ipa-milp'].times_s)} solves capped)")
            print(f"headline 10x10x7: ratio ipa-milp/dp of medians {ge}{ratio:.0f}x; median of per-problem "
                  f"ratios {statistics.median(ratios):.0f}x (goal >= 100x: {'met' if ratio >= 100 else 'NOT met'})")
    print(f"\nanswers checked against dp: {failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
