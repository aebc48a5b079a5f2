"""Click parameter types that apply ``config.validation``'s rules while the command line is parsed.

A flag is checked before the command's body runs, so a bad value never costs a run, a profile or a
training; the error is a :class:`ConfigError` naming the flag (one line, exit 2). Defaults pass through
the same checks (click converts them too), so a default output folder that cannot be written is found
before any work.
"""

from __future__ import annotations

from typing import Any

import click

from ipa_energy.config.validation import (
    check_output_dir,
    check_output_file,
    check_unique,
    parse_number,
)
from ipa_energy.errors import ConfigError


def _flag(param: click.Parameter | None) -> str:
    if param is None:
        return "value"
    opts = getattr(param, "opts", None) or [param.name or "value"]
    return str(max(opts, key=len)) if opts[0].startswith("-") else str(param.name).upper()


class Number(click.ParamType):
    """A number checked against ``config.validation.RULES[rule]`` (finite, in range, int or float)."""

    def __init__(self, rule: str) -> None:
        from ipa_energy.config.validation import RULES

        self.rule = rule
        self.name = "integer" if RULES[rule].kind is int else "float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = repr(value)
        return parse_number(str(value), self.rule, _flag(param))


class NumberList(click.ParamType):
    """Comma- or space-separated numbers, each checked against its rule, no value twice."""

    name = "list"

    def __init__(self, rule: str) -> None:
        self.rule = rule

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        field = _flag(param)
        items = str(value).replace(",", " ").split()
        if not items:
            raise ConfigError(f"expected at least one value (got {value!r})", field=field)
        values = tuple(parse_number(x, self.rule, field) for x in items)
        check_unique(values, field)
        return values


class CoreBudget(click.ParamType):
    """``--max-cores``: a number of cores (``config.validation``'s "cores" rule), ``auto`` (kept as the
    string: the command resolves it) or ``none`` (no budget: None)."""

    name = "cores|auto|none"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("auto", "none"):
            return None if text == "none" else "auto"
        return parse_number(text, "cores", _flag(param))


class OutputDir(click.ParamType):
    """A folder the command writes into: checked (a folder or creatable, writable), not created."""

    name = "directory"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return str(check_output_dir(str(value), _flag(param)))


class OutputFile(click.ParamType):
    """A file the command writes: checked (not a folder, its folder creatable, writable), not created."""

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return str(check_output_file(str(value), _flag(param)))


SEED = Number("seed")
INTERVAL_S = Number("interval_s")
DURATION_S = Number("duration_s")
LOAD_SCALE = Number("load_scale")
TIME_SCALE = Number("time_scale")
WAIT_S = Number("wait_s")
RATE_RPS = Number("rate_rps")
WEIGHT = Number("weight")
POWER_W = Number("power_w")
WORKERS = Number("workers")
PORT = Number("port")
MAX_CORES = CoreBudget()
OUT_DIR = OutputDir()
OUT_FILE = OutputFile()

__all__ = [
    "DURATION_S", "INTERVAL_S", "LOAD_SCALE", "OUT_DIR", "OUT_FILE", "PORT", "POWER_W", "RATE_RPS", "SEED",
    "TIME_SCALE", "WAIT_S", "WEIGHT", "WORKERS", "MAX_CORES", "CoreBudget", "Number", "NumberList", "OutputDir",
    "OutputFile",
]
