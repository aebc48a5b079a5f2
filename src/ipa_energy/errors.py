"""The library's exception tree. Third-party errors are mapped into it where they are caught.

    IpaEnergyError
     ├── ConfigError          bad user input (file, field, value); the CLI prints one line, exit 2
     │    └── UnknownNameError   a registry name that does not exist; lists the valid names
     ├── MeterUnavailable      an energy source that is not present or not readable here
     ├── SolverError           a solver ended in a state it cannot turn into an exact answer
     │    └── SolverTimeLimit    a MILP solver hit its time limit before proving optimality
     └── BackendError          a serving backend failed
"""

from __future__ import annotations

from collections.abc import Iterable


class IpaEnergyError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(IpaEnergyError, ValueError):
    """Invalid user input. ``str(err)`` is one line naming the file and field when known."""

    def __init__(self, message: str, *, field: str | None = None, source: str | None = None) -> None:
        self.field = field
        self.source = source
        where = ""
        if source:
            where += f"{source}: "
        if field:
            where += f"{field}: "
        super().__init__(f"{where}{message}")


class UnknownNameError(ConfigError, KeyError):
    """A name looked up in a registry that holds no such entry."""

    def __init__(self, kind: str, name: str, valid: Iterable[str], *, field: str | None = None) -> None:
        self.kind = kind
        self.name = name
        self.valid = tuple(sorted(valid))
        super().__init__(
            f"unknown {kind} {name!r}; valid: {', '.join(self.valid)}", field=field
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class MeterUnavailable(IpaEnergyError):
    """An energy meter cannot be used on this machine; the message says why (and how to fix it)."""


class SolverError(IpaEnergyError):
    """A MILP solver ended in a state it cannot turn into an exact answer."""


class SolverTimeLimit(SolverError):
    """A MILP solver hit its ``time_limit_s`` before proving optimality (no answer is returned)."""

    def __init__(self, solver: str, time_limit_s: float) -> None:
        self.solver = solver
        self.time_limit_s = time_limit_s
        super().__init__(f"{solver}: HiGHS hit the time limit of {time_limit_s} s before proving optimality")


class BackendError(IpaEnergyError):
    """A serving backend could not do what was asked."""
