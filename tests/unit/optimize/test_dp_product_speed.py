"""The dp solver's fast non-dominated filter keeps exactly the rows a pairwise check keeps (ties included)."""

from __future__ import annotations

import numpy as np
import pytest

from ipa_energy.optimize.solvers.dp import _nondominated


def _reference(c: np.ndarray) -> np.ndarray:
    """Pairwise: rows in lexicographic order, each kept unless an earlier one is <= in every criterion."""
    order = np.lexsort(c.T[::-1])
    cs = c[order]
    kept = [i for i in range(len(cs)) if not any(np.all(cs[j] <= cs[i]) for j in range(i))]
    return order[np.asarray(kept, dtype=np.intp)]


@pytest.mark.parametrize("k", [2, 3, 4])
def test_nondominated_matches_pairwise(k: int) -> None:
    rng = np.random.default_rng(k)
    for trial in range(200):
        n = int(rng.integers(0, 60))
        # small integer grids make exact ties and duplicate rows common
        c = rng.integers(0, 2 + trial % 8, size=(n, k)).astype(np.float64)
        if trial % 3 == 0:
            c += rng.normal(size=(n, k))
        assert np.array_equal(_nondominated(c), _reference(c)), (k, trial, c)
