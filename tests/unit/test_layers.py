"""The layer order (docs/architecture.md) holds: checked by import-linter with the repository's contract,
and shown to fail on a planted upward import (a lazy one, inside a function)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")



def _lint(src: Path, config: Path) -> subprocess.CompletedProcess[str]:
    assert LINT.exists(), "import-linter is a dev dependency: bash dev.sh setup installs it"
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT), "--config", str(config), "--no-cache"], capture_output=True, text=True,
                          env=env, cwd=src.parent, timeout=300)


def test_the_package_keeps_its_layers() -> None:
    p = _lint(ROOT / "src", ROOT / ".importlinter")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "1 kept, 0 broken" in p.stdout


def test_a_planted_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "ipa_energy", src / "ipa_energy",
                    ignore=shutil.ignore_patterns("__pycache__", "*.csv", "*.npz", "*.pt"))
    rules = src / "ipa_energy" / "rules" / "scoring.py"
    planted = "\n\ndef _planted() -> None:\n    from ipa_energy.runs import execute  # noqa\n"
    rules.write_text(rules.read_text() + planted)
    p = _lint(src, ROOT / ".importlinter")
    assert p.returncode != 0
    assert "ipa_energy.rules is not allowed to import ipa_energy.runs" in p.stdout
