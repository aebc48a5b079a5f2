"""The timed problem factory: what the adaptation policy asks every interval for.

``problem_for(rate_rps, t_s) -> Problem`` is the canonical problem for the predicted rate at run time
``t_s``. A plain ``base(rate_rps) -> Problem`` (a system preset bound to a pipeline) is one that ignores
the time; the wrappers of :mod:`~ipa_energy.carbon.aware` and :mod:`~ipa_energy.carbon.capped` take
either and return a timed one, so they compose: ``power_capped(carbon_aware(base, source), schedule)``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable

from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import Problem


class TimedProblemFactory(ABC):
    """``problem_for(rate_rps, t_s) -> Problem``."""

    @abstractmethod
    def __call__(self, rate_rps: float, t_s: float) -> Problem: ...


BaseFactory = Callable[[float], Problem] | TimedProblemFactory


class AtAnyTime(TimedProblemFactory):
    """A plain ``base(rate_rps)`` factory seen as a timed one (the time is ignored)."""

    def __init__(self, base: Callable[[float], Problem]) -> None:
        self.base = base

    def __call__(self, rate_rps: float, t_s: float) -> Problem:
        return self.base(rate_rps)


def timed(base: BaseFactory) -> TimedProblemFactory:
    """``base`` itself if it is timed, else ``base`` with the time ignored."""
    return base if isinstance(base, TimedProblemFactory) else AtAnyTime(base)


def positive(value: float, field: str, *, allow_zero: bool = False) -> float:
    """A finite number > 0 (or >= 0), or a ConfigError naming the field."""
    ok = isinstance(value, int | float) and math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        need = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"must be a finite number {need} (got {value!r})", field=field)
    return float(value)


__all__ = ["AtAnyTime", "BaseFactory", "TimedProblemFactory", "positive", "timed"]
