"""Hostile-input helpers: run the CLI in-process and assert the contract of a refused input.

The contract (issue 14): exit status 2, one line on stderr naming the field, no traceback, and nothing
half-written where the command would have written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Runner = Callable[..., Result]


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """Run ``ipa-energy ARGS`` in-process; any exception other than SystemExit fails the test."""
    from ipa_energy.cli.main import main

    capsys.readouterr()
    code = 0
    try:
        main(list(args))
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    cap = capsys.readouterr()
    return Result(code, cap.out, cap.err)


def assert_refused(r: Result, field: str, *, code: int = 2) -> None:
    """Exit ``code``, exactly one non-empty stderr line that names ``field``, no traceback."""
    assert r.code == code, (r.code, r.out, r.err)
    assert "Traceback" not in r.err + r.out
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    assert len(lines) == 1, r.err
    assert field in lines[0], (field, lines[0])


def assert_nothing_written(path: Path) -> None:
    """The output location holds nothing: not created, or an empty folder."""
    assert not path.exists() or (path.is_dir() and not any(path.iterdir())), sorted(path.rglob("*"))
