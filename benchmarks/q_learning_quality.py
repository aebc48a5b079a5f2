"""Q-learning solver quality against the exact optimum (Pareto DP), measured side by side in one run.

    .venv/bin/python benchmarks/q_learning_quality.py                        # everything (a few minutes)
    .venv/bin/python benchmarks/q_learning_quality.py --problems 40 --budgets 50,300 --sections budget
    .venv/bin/python benchmarks/q_learning_quality.py --bench-dir results/ql_vs_ipa   # summarise a bench run

"Within 2 %" is |objective - optimum| <= 0.02 * |optimum| on problems whose optimum is feasible; an
answer counts only when feasible. "answer" is what ``solve()`` returns (the better of the greedy policy's
state and the best state seen while learning), "policy" the greedy arg-max rollout alone. Times are
medians of ``Decision.solve_time_s`` (wall clock, this machine, this run); dp is timed on the same
problems. Sections:

* ``budget``: cold solves on seeded random problems (``random_problem``: 3 stages x 3 variants x 4
  batches, sum/product PAS alternating, budgets on a third, fixed_* on a quarter of the seeds), and on
  video-shaped ones (2 stages x 5 variants x 7 batches), for each episode budget; the first row, "1 x 1",
  is the energy extension's setting (one episode of one step: the start state or one random move);
* ``warm``: trained at a rate, then a solve at 1.15 x that rate with a small budget: a kept Q-table
  (warm), the previous answer as start state with an empty table (prev-only), and a fresh solver (cold);
* ``init``: initial Q-values "best" (the default) vs "zero" at the default budget;
* ``steps``: steps per episode at the default episode budget;
* ``video``: the shipped video pipeline, ``ipa`` preset, one solver instance through the bursty
  workload's 10 s peaks (120 decisions, as in the adaptation loop).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from collections.abc import Callable, Iterable

from ipa_energy.optimize.problem import Decision, Problem
from ipa_energy.optimize.random_problems import BATCHES, random_problem
from ipa_energy.optimize.solvers import get_solver
from ipa_energy.optimize.solvers.q_learning import QLearningSolver


def within(d: Decision, opt: Decision, objective: float | None = None) -> bool:
    obj = d.objective if objective is None else objective
    if not d.feasible or obj is None or opt.objective is None:
        return False
    return abs(obj - opt.objective) <= 0.02 * abs(opt.objective)


def pct(k: int, n: int) -> str:
    return f"{100 * k / n:.0f} %" if n else "-"


def ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1e3:.1f}" if xs else "-"


def mixed(seed: int, video_shaped: bool) -> Problem:
    kw: dict[str, object] = {}
    if video_shaped:
        kw = {"n_stages": 2, "n_variants": 5, "batches": BATCHES}
    return random_problem(
        seed, accuracy_method="product" if seed % 2 else "sum", budgets=seed % 3 == 0,
        fixed=seed % 4 == 0, **kw,  # type: ignore[arg-type]
    )


def track(items: Iterable[int], total: int, what: str) -> Iterable[int]:
    from rich.console import Console
    from rich.progress import track as rich_track

    return rich_track(items, total=total, description=what, transient=True, console=Console(stderr=True))


def section_budget(n: int, budgets: list[int]) -> None:
    dp = get_solver("dp")
    for shape in ("3x3x4 mixed", "video-shaped 2x5x7"):
        probs = [mixed(seed, shape.startswith("video")) for seed in range(n)]
        opts = [dp.solve(p) for p in probs]
        feas = [i for i, o in enumerate(opts) if o.feasible]
        print(f"\n{shape}: {n} problems, {len(feas)} with a feasible optimum; "
              f"dp median {ms([o.solve_time_s for o in opts])} ms")
        print(f"{'episodes':>8} {'answer within 2 %':>18} {'policy within 2 %':>18} {'feasible found':>15} "
              f"{'false feasible':>15} {'median ms':>10} {'p95 ms':>8} {'median steps':>13}")
        for budget, steps_per_episode in [(1, 1), *((b, QLearningSolver().steps_per_episode) for b in budgets)]:
            hits = pol = found = false_feasible = 0
            times: list[float] = []
            steps: list[int] = []
            for i in track(range(n), n, f"{shape} {budget} episodes"):
                ql = QLearningSolver(episodes=budget, steps_per_episode=steps_per_episode, seed=i)
                d = ql.solve(probs[i])
                rep = ql.last_report
                assert rep is not None
                times.append(d.solve_time_s)
                steps.append(rep.steps)
                if not opts[i].feasible:
                    false_feasible += d.feasible
                    continue
                found += d.feasible
                hits += within(d, opts[i])
                pol += rep.policy_objective is not None and within(d, opts[i], rep.policy_objective)
            p95 = sorted(times)[int(0.95 * (len(times) - 1))] * 1e3
            name = "1 x 1" if steps_per_episode == 1 else str(budget)
            print(f"{name:>8} {pct(hits, len(feas)):>18} {pct(pol, len(feas)):>18} "
                  f"{pct(found, len(feas)):>15} {false_feasible:>15} {ms(times):>10} {p95:>8.1f} "
                  f"{statistics.median(steps):>13.0f}")


def section_warm(n: int, budgets: list[int]) -> None:
    dp = get_solver("dp")
    pairs = []
    for seed in range(n):
        p1 = random_problem(seed)
        p2 = dataclasses.replace(p1, arrival_rate=p1.arrival_rate * 1.15)
        o2 = dp.solve(p2)
        if o2.feasible and dp.solve(p1).feasible:
            pairs.append((seed, p1, p2, o2))
    print(f"\nwarm start: trained at rate r (default budget), then solved at 1.15 r with a small budget; "
          f"{len(pairs)} random problems (3x3x4)")
    print(f"{'episodes':>8} {'cold':>16} {'prev-only':>16} {'warm':>16}   (answer / policy within 2 %, median ms)")
    for budget in budgets:
        res: dict[str, list[int]] = {"cold": [0, 0], "prev-only": [0, 0], "warm": [0, 0]}
        times: dict[str, list[float]] = {k: [] for k in res}
        for k in track(range(len(pairs)), len(pairs), f"warm {budget} episodes"):
            seed, p1, p2, opt = pairs[k]
            warm = QLearningSolver(seed=seed, warm_episodes=budget)
            warm.solve(p1)
            prev = QLearningSolver(seed=seed)
            prev.solve(p1)
            prev._q.clear()  # keep the previous answer (start state), drop what was learned
            prev.episodes = budget  # an empty table makes the next call a cold one
            cold = QLearningSolver(seed=seed, episodes=budget)
            for name, sol in (("cold", cold), ("prev-only", prev), ("warm", warm)):
                d = sol.solve(p2)
                rep = sol.last_report
                assert rep is not None
                res[name][0] += within(d, opt)
                res[name][1] += rep.policy_objective is not None and within(d, opt, rep.policy_objective)
                times[name].append(d.solve_time_s)
        cells = [f"{pct(a, len(pairs))} / {pct(b, len(pairs))} {ms(times[k])}" for k, (a, b) in res.items()]
        print(f"{budget:>8} " + " ".join(f"{c:>16}" for c in cells))


def section_init(n: int) -> None:
    dp = get_solver("dp")
    probs = [mixed(seed, False) for seed in range(n)]
    opts = [dp.solve(p) for p in probs]
    feas = sum(o.feasible for o in opts)
    print(f"\ninitial Q-values at the default budget ({QLearningSolver().episodes} episodes), "
          f"{feas} feasible problems (3x3x4 mixed)")
    print(f"{'initial_q':>10} {'answer within 2 %':>18} {'policy within 2 %':>18} {'median ms':>10}")
    for init in ("best", "zero"):
        hits = pol = 0
        times: list[float] = []
        for i in track(range(n), n, f"initial_q={init}"):
            ql = QLearningSolver(seed=i, initial_q=init)  # type: ignore[arg-type]
            d = ql.solve(probs[i])
            rep = ql.last_report
            assert rep is not None
            times.append(d.solve_time_s)
            if opts[i].feasible:
                hits += within(d, opts[i])
                pol += rep.policy_objective is not None and within(d, opts[i], rep.policy_objective)
        print(f"{init:>10} {pct(hits, feas):>18} {pct(pol, feas):>18} {ms(times):>10}")


def section_steps(n: int, steps_list: list[int]) -> None:
    dp = get_solver("dp")
    print(f"\nsteps per episode at the default episode budget ({QLearningSolver().episodes})")
    print(f"{'shape':>18} {'steps':>6} {'answer within 2 %':>18} {'policy within 2 %':>18} {'median ms':>10} "
          f"{'median steps':>13}")
    for shape in ("3x3x4 mixed", "video-shaped 2x5x7"):
        probs = [mixed(seed, shape.startswith("video")) for seed in range(n)]
        opts = [dp.solve(p) for p in probs]
        feas = sum(o.feasible for o in opts)
        for steps in steps_list:
            hits = pol = 0
            times: list[float] = []
            taken: list[int] = []
            for i in track(range(n), n, f"{shape} steps_per_episode={steps}"):
                ql = QLearningSolver(seed=i, steps_per_episode=steps)
                d = ql.solve(probs[i])
                rep = ql.last_report
                assert rep is not None
                times.append(d.solve_time_s)
                taken.append(rep.steps)
                if opts[i].feasible:
                    hits += within(d, opts[i])
                    pol += rep.policy_objective is not None and within(d, opts[i], rep.policy_objective)
            print(f"{shape:>18} {steps:>6} {pct(hits, feas):>18} {pct(pol, feas):>18} {ms(times):>10} "
                  f"{statistics.median(taken):>13.0f}")


def section_video(workload: str) -> None:
    from ipa_energy.optimize.presets import build_problem
    from ipa_energy.pipelines import load_pipeline
    from ipa_energy.workloads.trace import load_workload

    pipeline = load_pipeline("video")
    rates = load_workload(workload).rates_rps
    peaks = [float(max(1.0, rates[k : k + 10].max())) for k in range(0, len(rates), 10)]
    dp = get_solver("dp")

    def run(make: Callable[[], QLearningSolver], fresh: bool) -> tuple[list[float], list[bool], list[float]]:
        times: list[float] = []
        hits: list[bool] = []
        gaps: list[float] = []
        ql = make()
        for k in track(range(len(peaks)), len(peaks), "video " + ("cold" if fresh else "warm")):
            p = build_problem(pipeline, "ipa", peaks[k])
            if fresh:
                ql = make()
            d, opt = ql.solve(p), dp.solve(p)
            times.append(d.solve_time_s)
            if opt.feasible and opt.objective is not None:
                hits.append(within(d, opt))
                if d.objective is not None:
                    gaps.append(abs(d.objective - opt.objective) / abs(opt.objective))
        return times, hits, gaps

    print(f"\nvideo pipeline (shipped profiles, ipa preset), {workload}: {len(peaks)} decisions at the "
          f"10 s peaks ({min(peaks):.0f}-{max(peaks):.0f} rps)")
    print(f"{'solver':>26} {'within 2 %':>11} {'median gap':>11} {'max gap':>8} {'median ms':>10} {'max ms':>7}")
    for label, make, fresh in (
        ("q-learning, one instance", QLearningSolver, False),
        ("q-learning, fresh each", QLearningSolver, True),
    ):
        times, hits, gaps = run(make, fresh)
        print(f"{label:>26} {pct(sum(hits), len(hits)):>11} {100 * statistics.median(gaps):>10.2f}% "
              f"{100 * max(gaps):>7.1f}% {ms(times):>10} {max(times) * 1e3:>7.0f}")
    dp_times = [dp.solve(build_problem(pipeline, "ipa", r)).solve_time_s for r in peaks]
    print(f"{'dp (exact)':>26} {'100 %':>11} {'0.00%':>11} {'0.0%':>8} {ms(dp_times):>10} "
          f"{max(dp_times) * 1e3:>7.0f}")


def summarise_bench(out_dir: str) -> None:
    """Per workload and system of an ``ipa-energy bench`` output: energy, PAS, cost, SLA violations,
    decision time per interval and (for heuristic solvers) the objective gap per interval."""
    import csv
    from pathlib import Path

    import yaml

    from ipa_energy.bench.tables import run_slug
    from ipa_energy.runs import RunSpec

    out = Path(out_dir)
    runs = yaml.safe_load((out / "config.resolved.yaml").read_text())["runs"]
    with (out / "summary.csv").open() as f:
        summary = list(csv.DictReader(f))
    groups: dict[tuple[str, str], dict[str, list[float]]] = {}
    minutes: dict[tuple[str, int], dict[str, list[float]]] = {}  # (workload, seed) -> label -> J per minute
    configs: dict[tuple[str, int], dict[str, list[str]]] = {}  # (workload, seed) -> label -> config per interval
    for d in runs:
        spec = RunSpec(**{**d, "weights": tuple(d["weights"].items()), "sim": tuple(d["sim"].items()),
                          "sim_label": tuple(d.get("sim_label", {}).items())})
        row = next(
            r for r in summary
            if (r["workload"], r["label"], r["seed"], r["group"])
            == (spec.workload, spec.label, str(spec.seed), spec.group)
        )
        g = groups.setdefault((spec.workload, spec.label), {k: [] for k in (
            "j_per_min", "pas", "cost", "sla", "dt", "gap", "within", "fallback", "gap>0")})
        g["j_per_min"].append(60 * float(row["mean_power_w"]))
        g["pas"].append(float(row["pas"]))
        g["cost"].append(float(row["cost_cores"]))
        g["sla"].append(float(row["sla_violation_pct"]))
        with (out / "timelines" / f"{run_slug(spec)}.csv").open() as f:
            energy = [float(r["energy_j"]) for r in csv.DictReader(f)]
        per_minute = [sum(energy[k : k + 60]) for k in range(0, len(energy) - 59, 60)]
        minutes.setdefault((spec.workload, spec.seed), {})[spec.label] = per_minute
        with (out / "decisions" / f"{run_slug(spec)}.csv").open() as f:
            rows = list(csv.DictReader(f))
        configs.setdefault((spec.workload, spec.seed), {})[spec.label] = [st["config"] for st in rows]
        for st in rows:
            g["dt"].append(float(st["decision_time_s"]))
            g["fallback"].append(float(st["source"] == "fallback"))
            if st["source"] == "solver" and st["reference_objective"] not in ("", "None"):
                ref, obj = float(st["reference_objective"]), float(st["objective"])
                gap = (ref - obj) / abs(ref)
                g["gap"].append(gap)
                g["within"].append(float(gap <= 0.02))
                g["gap>0"].append(float(gap > 1e-9))

    def q(xs: list[float], p: float) -> float:
        return sorted(xs)[int(p * (len(xs) - 1))]

    print(f"\nbench output {out}: mean over seeds; per-interval figures pooled over seeds")
    print(f"{'workload':<12} {'system':<8} {'J/min':>7} {'PAS':>7} {'cores':>6} {'SLA viol %':>10} "
          f"{'decision ms p50/p95/max':>24} {'gap p50/p95/max %':>19} {'within 2 %':>10} {'gap > 0':>8} "
          f"{'fallback':>8}")
    for (wl, label), g in sorted(groups.items()):
        gap = (f"{100 * statistics.median(g['gap']):.2f}/{100 * q(g['gap'], 0.95):.2f}/"
               f"{100 * max(g['gap']):.2f}") if g["gap"] else "-"
        within_pct = f"{100 * statistics.mean(g['within']):.1f} %" if g["within"] else "-"
        positive = str(int(sum(g["gap>0"]))) if g["gap"] else "-"
        dts = g["dt"]
        print(f"{wl:<12} {label:<8} {statistics.mean(g['j_per_min']):>7.0f} {statistics.mean(g['pas']):>7.4f} "
              f"{statistics.mean(g['cost']):>6.2f} {statistics.mean(g['sla']):>10.2f} "
              f"{1e3 * statistics.median(dts):>8.1f}/{1e3 * q(dts, 0.95):.1f}/{1e3 * max(dts):.0f}"
              f"{'':>4} {gap:>19} {within_pct:>10} {positive:>8} {int(sum(g['fallback'])):>8}")
    labels = sorted({label for _, label in groups})
    if "ipa" in labels:
        print("\nenergy per minute, each system against ipa on the same workload and seed (J per minute):")
        for other in (x for x in labels if x != "ipa"):
            for wl in sorted({w for w, _ in minutes}):
                diffs = [
                    b - a
                    for (w, _), by in minutes.items() if w == wl and "ipa" in by and other in by
                    for a, b in zip(by["ipa"], by[other], strict=False)
                ]
                differ = [
                    a != b
                    for (w, _), by in configs.items() if w == wl and "ipa" in by and other in by
                    for a, b in zip(by["ipa"], by[other], strict=False)
                ]
                if diffs:
                    print(f"  {wl:<12} {other} - ipa: mean {statistics.mean(diffs):+.1f}, "
                          f"max |diff| {max(abs(x) for x in diffs):.1f} over {len(diffs)} minutes; "
                          f"configuration differs in {sum(differ)} of {len(differ)} intervals")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=200, help="seeded random problems per section")
    ap.add_argument("--budgets", default="10,25,50,100,200,300,600,1000", help="episode budgets (cold)")
    ap.add_argument("--warm-budgets", default="10,25,50,100", help="episode budgets (warm section)")
    ap.add_argument("--steps", default="10,20,40,80", help="steps per episode (steps section)")
    ap.add_argument("--workload", default="bursty", help="bundled workload for the video section")
    ap.add_argument("--bench-dir", help="only summarise this `ipa-energy bench` output (e.g. of "
                    "experiments/ql_vs_ipa.yaml)")
    ap.add_argument("--sections", default="budget,warm,init,steps,video", help="comma-separated subset")
    args = ap.parse_args()
    if args.bench_dir:
        summarise_bench(args.bench_dir)
        return
    sections = set(args.sections.split(","))
    ql = QLearningSolver()
    print(f"q-learning defaults: episodes {ql.episodes}, steps/episode {ql.steps_per_episode}, "
          f"lr {ql.learning_rate}, discount {ql.discount}, epsilon {ql.epsilon_start}->{ql.epsilon_min} "
          f"(x exp(-{ql.epsilon_decay} k) after episode k), initial_q {ql.initial_q!r}")
    if "budget" in sections:
        section_budget(args.problems, [int(b) for b in args.budgets.split(",")])
    if "warm" in sections:
        section_warm(args.problems, [int(b) for b in args.warm_budgets.split(",")])
    if "init" in sections:
        section_init(args.problems)
    if "steps" in sections:
        section_steps(args.problems, [int(b) for b in args.steps.split(",")])
    if "video" in sections:
        section_video(args.workload)


if __name__ == "__main__":
    main()
