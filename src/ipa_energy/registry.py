"""Registries by name for every pluggable family (solvers, predictors, backends, meters, workloads).

Entries are ``"module:attribute"`` strings imported on first use, so listing names costs nothing and a
heavy dependency (HiGHS, PyTorch) is only imported when its entry is used. A registry is an immutable
value built once by the family's package; there is no global mutable state.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

from ipa_energy.errors import ConfigError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> lazily imported object (usually a class or a factory function)."""

    def __init__(self, kind: str, entries: Mapping[str, str]) -> None:
        self.kind = kind
        self._entries = dict(entries)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def get(self, name: str, *, field: str | None = None) -> T:
        """Import and return the entry ``name``; unknown names raise an error listing valid ones."""
        try:
            target = self._entries[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self._entries, field=field) from None
        module_name, _, attr = target.partition(":")
        module = importlib.import_module(module_name)
        obj: T = getattr(module, attr)
        return obj

    def create(self, name: str, /, *, field: str | None = None, **config: Any) -> Any:
        """Construct the entry ``name`` with ``config`` (keyword options of its class or factory).

        Unknown names list the valid ones; options the entry does not take raise :class:`ConfigError`
        naming the option, so a typo in a YAML or a flag is one clear line.
        """
        factory: Any = self.get(name, field=field)
        try:
            inspect.signature(factory).bind(**config)
        except TypeError as e:
            raise ConfigError(f"bad option for {self.kind} {name!r}: {e}", field=field or self.kind) from None
        except ValueError:  # no signature (a builtin): let the call decide
            pass
        return factory(**config)
