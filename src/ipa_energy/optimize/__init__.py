"""The decision engine: the canonical problem, its evaluation, baselines as constraints, and solvers."""
