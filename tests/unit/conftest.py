"""A digits model cache shared by the tests of one session (the small variants train in seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

CHEAP = ("digits-loc-s", "digits-cls-s")


@pytest.fixture(scope="session")
def digits_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ipa_energy.models import ModelSpec, prepare

    path = tmp_path_factory.getbasetemp() / "digits-cache"
    for name in CHEAP:
        prepare(ModelSpec("digits", name, str(path)))
    return path
