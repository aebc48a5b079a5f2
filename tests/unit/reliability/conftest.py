"""Fixtures of the hostile-input tests (helpers in ``rel_helpers``)."""

from __future__ import annotations

import pytest
from rel_helpers import Runner, run_main


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Runner:
    """``cli("solve", "p.json")`` -> Result(code, out, err)."""
    return lambda *args: run_main(capsys, *args)
