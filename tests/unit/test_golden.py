"""The figures README.md and docs/ quote from deterministic runs match the code (scripts/golden.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _golden() -> ModuleType:
    if "ipa_golden" in sys.modules:
        return sys.modules["ipa_golden"]
    spec = importlib.util.spec_from_file_location("ipa_golden", ROOT / "scripts" / "golden.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["ipa_golden"] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_every_cheap_golden_block_matches_the_code() -> None:
    """Runs the default bench's main runs, the solver agreement and the predictor scores (when the trace
    is here); on failure: ``python scripts/golden.py --write`` after checking the diff is intended."""
    lines: list[str] = []
    drift = _golden().run(write=False, include_slow=False, out=lines.append)
    assert drift == 0, "\n".join(lines)
    assert not [x for x in lines if "no doc quotes it" in x], lines


def test_a_drifted_block_is_caught_and_rewritten(tmp_path: Path) -> None:
    g = _golden()
    (tmp_path / "docs").mkdir()
    doc = tmp_path / "docs" / "x.md"
    doc.write_text("weight <!-- golden:energy-weight-default -->0.5<!-- /golden --> per W\n"
                   "<!-- golden:no-such-block -->1<!-- /golden -->\n")
    lines: list[str] = []
    assert g.run(write=False, include_slow=False, only={"energy-weight-default"}, root=tmp_path,
                 out=lines.append) == 2
    assert any("energy-weight-default: differs" in x for x in lines)
    assert any("no-such-block: unknown block" in x for x in lines)
    g.run(write=True, include_slow=False, only={"energy-weight-default"}, root=tmp_path, out=lines.append)
    from ipa_energy.optimize.presets import DEFAULT_ENERGY_WEIGHT

    assert f"<!-- golden:energy-weight-default -->{DEFAULT_ENERGY_WEIGHT:g}<!-- /golden --> per W" in doc.read_text()
