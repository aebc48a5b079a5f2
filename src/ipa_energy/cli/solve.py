"""``ipa-energy solve``: one decision, from a problem file or a shipped pipeline at a rate."""

from __future__ import annotations

import json

import click

from ipa_energy.cli.params import OUT_FILE, RATE_RPS
from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import Decision, Problem
from ipa_energy.optimize.solvers import DEFAULT_SOLVER, SOLVERS, get_solver


def _problem_from_pipeline(pipeline: str, rate: float | None, system: str) -> Problem:
    if rate is None:
        raise ConfigError("--rate is required with --pipeline", field="--rate")
    from ipa_energy.optimize.presets import build_problem
    from ipa_energy.pipelines import load_pipeline

    return build_problem(load_pipeline(pipeline), system, rate)


def _print_human(d: Decision) -> None:
    if not d.feasible:
        click.echo(f"infeasible ({d.solver}, {d.solve_time_s * 1e3:.2f} ms): {d.reason}")
        return
    click.echo(
        f"objective {d.objective:.6g}  PAS {d.pas:.4g}  cost {d.cost_cores} cores  "
        f"power {d.power_w:.4g} W  latency {d.latency_s:.4g} s  "
        f"({d.solver}, {d.solve_time_s * 1e3:.2f} ms)"
    )
    for s in d.stages:
        click.echo(
            f"  {s.name:<16} {s.variant:<40} batch {s.batch:<3} replicas {s.replicas:<3} "
            f"latency {s.latency_s:.4g} s  power {s.power_w:.4g} W"
        )


@click.command()
@click.argument("problem_file", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--solver", default=None,
    help=f"Solver by name: {', '.join(SOLVERS.names())} (default: {DEFAULT_SOLVER}, or the system's own).",
)
@click.option("--pipeline", help="A shipped pipeline name (instead of PROBLEM_FILE).")
@click.option("--rate", type=RATE_RPS, help="Arrival rate in requests/s (with --pipeline).")
@click.option("--system", default="ipa", show_default=True, help="System preset (with --pipeline).")
@click.option("--save-problem", type=OUT_FILE, help="Write the problem JSON here.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def solve(
    problem_file: str | None,
    solver: str | None,
    pipeline: str | None,
    rate: float | None,
    system: str,
    save_problem: str | None,
    as_json: bool,
) -> None:
    """Choose variant, batch and replicas per stage for one arrival rate.

    PROBLEM_FILE is the canonical problem JSON (see docs/solvers.md). An infeasible problem prints
    feasible=false with the binding constraint and exits 0; malformed input exits 2.
    """
    if (problem_file is None) == (pipeline is None):
        raise ConfigError("give either PROBLEM_FILE or --pipeline NAME", field="PROBLEM_FILE")
    if problem_file is not None:
        from ipa_energy.optimize.problem_io import load_problem

        problem = load_problem(problem_file)
    else:
        assert pipeline is not None
        problem = _problem_from_pipeline(pipeline, rate, system)
    if save_problem:
        from ipa_energy.optimize.problem_io import problem_to_dict

        with open(save_problem, "w") as f:
            json.dump(problem_to_dict(problem), f, indent=1)
    if solver is None:
        from ipa_energy.optimize.presets import system_solver

        solver = system_solver(system) if pipeline is not None else DEFAULT_SOLVER
    decision = get_solver(solver).solve(problem)
    if as_json:
        click.echo(json.dumps(decision.to_json()))
    else:
        _print_human(decision)
