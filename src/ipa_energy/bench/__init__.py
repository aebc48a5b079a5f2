"""The benchmark runner: experiment sweeps, one simulated run, tidy tables, plots and the report."""
