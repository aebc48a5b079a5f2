from __future__ import annotations

import pytest


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, t_s: float = 100.0) -> None:
        self.t_s = t_s

    def now_s(self) -> float:
        return self.t_s

    def advance(self, dt_s: float) -> None:
        self.t_s += dt_s


class FakeCpu:
    """Cumulative busy core-seconds set by the test."""

    def __init__(self) -> None:
        self.busy_s = 0.0

    def busy_core_s(self) -> float:
        return self.busy_s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cpu() -> FakeCpu:
    return FakeCpu()
