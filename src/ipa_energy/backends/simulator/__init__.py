"""backends/simulator."""
