"""The public API: exactly what __all__ lists, every name importable, and importing is cheap."""

from __future__ import annotations

import subprocess
import sys

import ipa_energy


def test_every_public_name_resolves() -> None:
    for name in ipa_energy.__all__:
        assert getattr(ipa_energy, name) is not None, name


def test_public_api_is_guarded() -> None:
    assert set(ipa_energy.__all__) >= {"Problem", "get_solver", "load_pipeline", "run_adaptation", "get_meter"}
    try:
        ipa_energy.not_a_thing  # noqa: B018
    except AttributeError:
        pass
    else:
        raise AssertionError("unknown attribute must raise")


def test_import_does_no_heavy_work() -> None:
    code = (
        "import sys, ipa_energy, ipa_energy.cli.main; "
        "print(any(m in sys.modules for m in ('torch', 'highspy', 'matplotlib')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
