"""Where trained or downloaded model files are cached: never inside the package.

Resolution order: an explicit directory argument, then ``$IPA_ENERGY_CACHE_DIR``, then
``$XDG_CACHE_HOME/ipa-energy``, then ``~/.cache/ipa-energy``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CACHE_ENV = "IPA_ENERGY_CACHE_DIR"


def cache_dir(explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The cache directory to use (not created here)."""
    if explicit is not None:
        return Path(explicit).expanduser()
    environ = os.environ if env is None else env
    if environ.get(CACHE_ENV):
        return Path(environ[CACHE_ENV]).expanduser()
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]).expanduser() / "ipa-energy"
    return Path.home() / ".cache" / "ipa-energy"
