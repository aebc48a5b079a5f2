"""The full Twitter per-second trace that IPA's workloads and LSTM come from (not package data: 1.9 M lines).

The file holds one integer per line: the number of stream events in that second. IPA turns counts into
request rates with ``int(count / damping)`` (damping 8); a raw count of zero is a gap in the recording,
not a quiet second, so it is flagged and excluded from training and evaluation windows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import ConfigError

#: environment variable naming the trace file (overrides the search below)
TWITTER_TRACE_ENV = "IPA_ENERGY_TWITTER_TRACE"
TWITTER_TRACE_FILE = "twitter_trace_per_second.txt"
#: where the trace is looked for, relative to the working directory and each of its parents
_SEARCH_DIRS = (Path("shared/data/ipa/workloads"), Path("data/ipa/workloads"))

IPA_DAMPING = 8
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, eq=False)
class TwitterTrace:
    """Damped per-second rates of the whole trace and its gap mask (read-only arrays)."""

    rates_rps: NDArray[np.float64]
    gaps: NDArray[np.bool_]
    source: str
    damping: int

    def __post_init__(self) -> None:
        for name in ("rates_rps", "gaps"):
            arr = np.array(getattr(self, name))
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if self.rates_rps.shape != self.gaps.shape:
            raise ValueError("rates_rps and gaps must have the same shape")

    @property
    def duration_s(self) -> int:
        return int(self.rates_rps.size)

    def day_range(self, first_day: float, last_day: float | None = None) -> slice:
        """The slice of seconds from ``first_day`` (inclusive) to ``last_day`` (exclusive; None = end)."""
        start = int(first_day * SECONDS_PER_DAY)
        stop = self.duration_s if last_day is None else min(self.duration_s, int(last_day * SECONDS_PER_DAY))
        return slice(start, stop)


def default_twitter_trace_path() -> Path | None:
    """``$IPA_ENERGY_TWITTER_TRACE`` if set, else the first ``shared/data/ipa/workloads/`` (or
    ``data/ipa/workloads/``) trace found in the working directory or one of its parents; None if none."""
    env = os.environ.get(TWITTER_TRACE_ENV)
    if env:
        return Path(env)
    cwd = Path.cwd().resolve()
    for d in (cwd, *cwd.parents):
        for sub in _SEARCH_DIRS:
            candidate = d / sub / TWITTER_TRACE_FILE
            if candidate.is_file():
                return candidate
    return None


def resolve_twitter_trace_path(path: str | Path | None) -> Path:
    """``path`` if given, else the default location; a clear error when there is none."""
    if path is not None:
        return Path(path)
    found = default_twitter_trace_path()
    if found is None:
        raise ConfigError(
            f"no Twitter trace found: pass --trace PATH or set {TWITTER_TRACE_ENV} "
            f"(the file is {TWITTER_TRACE_FILE}, one integer count per line)", field="trace",
        )
    return found


def load_twitter_trace(path: str | Path | None = None, *, damping: int = IPA_DAMPING) -> TwitterTrace:
    """Read the trace (one non-negative integer per line); rates are ``int(count / damping)``."""
    if damping < 1:
        raise ConfigError(f"must be >= 1, got {damping}", field="damping")
    p = resolve_twitter_trace_path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise ConfigError("trace file not found", source=str(p)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read trace: {e}", source=str(p)) from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    try:
        counts = np.array(lines, dtype=np.int64)
    except ValueError:
        counts = _counts_or_error(lines, str(p))
    bad = np.flatnonzero(counts < 0)
    if bad.size:
        raise ConfigError(f"negative count {counts[bad[0]]}", source=f"{p}:{bad[0] + 1}")
    if counts.size == 0:
        raise ConfigError("empty trace", source=str(p))
    rates = (counts // damping).astype(np.float64)  # == int(x / damping) for x >= 0
    return TwitterTrace(rates, counts == 0, str(p), damping)


def _counts_or_error(lines: list[str], source: str) -> NDArray[np.int64]:
    """Slow path after numpy refused the text: find the first bad line and name it."""
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            raise ConfigError("missing count (empty line)", source=f"{source}:{i + 1}")
        try:
            int(s)
        except ValueError:
            raise ConfigError(f"non-integer count {s!r}", source=f"{source}:{i + 1}") from None
    raise ConfigError("unreadable trace", source=source)  # pragma: no cover - numpy and int() agree
