"""Solvers behind one interface and one registry (names used by the CLI and YAML alike)."""

from __future__ import annotations

from ipa_energy.optimize.solvers.base import Solver
from ipa_energy.registry import Registry

SOLVERS: Registry[type[Solver]] = Registry(
    "solver",
    {
        "dp": "ipa_energy.optimize.solvers.dp:ParetoDPSolver",
        "milp": "ipa_energy.optimize.solvers.milp:CompactMILPSolver",
        "ipa-milp": "ipa_energy.optimize.solvers.ipa_milp:IPAMILPSolver",
        "brute": "ipa_energy.optimize.solvers.brute:BruteForceSolver",
        "q-learning": "ipa_energy.optimize.solvers.q_learning:QLearningSolver",
    },
)

DEFAULT_SOLVER = "dp"


def get_solver(name: str = DEFAULT_SOLVER) -> Solver:
    """Instantiate the solver registered as ``name`` (unknown names list the valid ones)."""
    return SOLVERS.get(name, field="solver")()


__all__ = ["DEFAULT_SOLVER", "SOLVERS", "Solver", "get_solver"]
