"""Validation written once: strict config models, file loading, the rules for every number a user can type,
output locations checked before any work, and names turned into file names.

Every entry path uses these: CLI flags (``cli/params.py`` wraps them as click types, so a bad flag is
refused while the command line is parsed, before any work), YAML and JSON (pydantic models derived from
:class:`StrictModel`: strict types, no NaN/inf), and run specs (``RunSpec.__post_init__``). Errors are
:class:`ConfigError`: one line naming the field; the CLI exits 2.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ipa_energy.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base for config models: unknown keys are errors, instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(root)"


def parse_model(model: type[M], data: Any, source: str | None = None) -> M:
    """Validate ``data`` into ``model``; the first error becomes a ConfigError naming file and field."""
    try:
        return model.model_validate(data)
    except RecursionError:
        raise ConfigError(f"nested deeper than {MAX_DEPTH} levels", source=source) from None
    except ValidationError as e:
        err = e.errors()[0]
        field = _loc(tuple(err["loc"]))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif "input" in err and err["type"] not in ("missing",):
            msg = f"{msg} (got {err['input']!r})"
        more = f" (+{e.error_count() - 1} more errors)" if e.error_count() > 1 else ""
        raise ConfigError(msg + more, field=field, source=source) from None


def load_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON file that must hold a mapping; errors name the file."""
    p = Path(path)
    text = read_text(p)
    if len(text) > MAX_CONFIG_CHARS:
        raise ConfigError(f"larger than {MAX_CONFIG_CHARS:,} characters; not a config file", source=str(p))
    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except RecursionError:
        raise ConfigError(f"nested deeper than {MAX_DEPTH} levels", source=str(p)) from None
    except json.JSONDecodeError as e:
        msg = f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}"
        raise ConfigError(msg, source=str(p)) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"invalid YAML{where}: {getattr(e, 'problem', e)}", source=str(p)) from None
    if not isinstance(data, dict):
        raise ConfigError(f"expected a mapping at the top level, got {type(data).__name__}", source=str(p))
    if _depth(data) > MAX_DEPTH:
        raise ConfigError(f"nested deeper than {MAX_DEPTH} levels", source=str(p))
    return data


#: the deepest nesting a config file may have (the shipped ones need 6); deeper input is refused
MAX_DEPTH = 32
#: a config file larger than this is not a config file (the largest shipped problem is ~60 kB)
MAX_CONFIG_CHARS = 20_000_000


def _depth(data: Any, limit: int = MAX_DEPTH + 1) -> int:
    """Nesting depth of loaded YAML/JSON, counted up to ``limit`` (iterative: no recursion)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if d >= limit:
            return d
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
    return deepest


def read_text(path: str | Path, *, field: str | None = None) -> str:
    """A text file's content; missing, unreadable or binary (not UTF-8) files are ConfigErrors."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError("file not found", field=field, source=str(p)) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, expected a file", field=field, source=str(p)) from None
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", field=field, source=str(p)) from None
    if b"\x00" in raw:
        raise ConfigError("binary file (holds NUL bytes), expected text", field=field, source=str(p))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"not UTF-8 text (byte {e.start})", field=field, source=str(p)) from None


# ---- numbers ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """The allowed range of one kind of value. Bounds are inclusive unless named ``gt``/``lt``."""

    kind: type = float
    gt: float | None = None
    ge: float | None = None
    le: float | None = None
    what: str = ""

    def describe(self) -> str:
        def num(x: float) -> str:
            return str(int(x)) if self.kind is int else f"{x:g}"

        parts = []
        if self.gt is not None:
            parts.append(f"> {num(self.gt)}")
        if self.ge is not None:
            parts.append(f">= {num(self.ge)}")
        if self.le is not None:
            parts.append(f"<= {num(self.le)}")
        noun = "an integer" if self.kind is int else "a finite number"
        return f"{noun} {' and '.join(parts)}".strip() + (f" {self.what}" if self.what else "")


#: every number a user can type, by the name it has in run specs and configs. A CLI flag names its rule
#: (``cli/params.py``); RunSpec and the YAML models apply the same ones. Upper bounds keep a value inside
#: what the run can represent (arrays sized by it, seconds in a float, seeds numpy accepts).
RULES: dict[str, Rule] = {
    "seed": Rule(int, ge=0, le=2**32 - 1),
    "workers": Rule(int, ge=1, le=1024),
    "load_scale": Rule(float, gt=0, le=1e6, what="(times the trace)"),
    "time_scale": Rule(float, gt=0, le=1e6, what="(times faster than the trace)"),
    "interval_s": Rule(float, gt=0, le=1e7, what="seconds"),
    "duration_s": Rule(float, gt=0, le=1e9, what="seconds"),
    "wait_s": Rule(float, ge=0, le=1e6, what="seconds"),
    "rate_rps": Rule(float, gt=0, le=1e12, what="requests/s"),
    "weight": Rule(float, ge=0, le=1e12),
    "power_w": Rule(float, ge=0, le=1e9, what="W"),
    "batch": Rule(int, ge=1, le=4096),
    "count": Rule(int, ge=1, le=1_000_000),
    "count0": Rule(int, ge=0, le=1_000_000),
    "cores": Rule(int, ge=1, le=4096),
    "image_px": Rule(int, ge=8, le=4096),
    "day": Rule(float, ge=0, le=1e5, what="(days)"),
    "port": Rule(int, ge=0, le=65535, what="(0: any free port)"),
}


def check_number(value: Any, rule: str | Rule, field: str) -> Any:
    """``value`` if it satisfies the rule (NaN and inf never do; booleans are not numbers), else a
    ConfigError naming ``field``. Returns an ``int`` for integer rules and a ``float`` otherwise."""
    r = RULES[rule] if isinstance(rule, str) else rule
    bad = ConfigError(f"must be {r.describe()} (got {value!r})", field=field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad
    if r.kind is int:
        if isinstance(value, float):
            if not (math.isfinite(value) and value.is_integer()):
                raise bad
            value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise bad
    if (r.gt is not None and not value > r.gt) or (r.ge is not None and not value >= r.ge) or (
        r.le is not None and not value <= r.le
    ):
        raise bad
    return value


def parse_number(text: str, rule: str | Rule, field: str) -> Any:
    """A number typed as text (a CLI flag), checked against its rule."""
    r = RULES[rule] if isinstance(rule, str) else rule
    try:
        value: Any = int(text, 10) if r.kind is int else float(text)
    except (TypeError, ValueError):
        raise ConfigError(f"must be {r.describe()} (got {text!r})", field=field) from None
    return check_number(value, r, field)


def check_unique(values: Iterable[Any], field: str) -> None:
    """Refuse a list that names the same value twice (two runs writing one file, a batch measured twice)."""
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            raise ConfigError(f"{v!r} is listed twice", field=field)
        seen.add(v)


# ---- output locations ------------------------------------------------------------------------------
def _writable_parent(path: Path, field: str) -> None:
    """The nearest existing ancestor of ``path`` must be a folder we may create entries in."""
    parent = path.parent
    while not parent.exists():
        if parent == parent.parent:
            break
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise ConfigError(f"cannot create {str(path)!r}: {str(parent)!r} is a file", field=field)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot create {str(path)!r}: {str(parent)!r} is not writable", field=field)


def check_output_dir(path: str | Path, field: str) -> Path:
    """A folder the command will write into: it is a folder (or can be created), and writable. Checked
    before any work, so a bad location never costs a run; nothing is created here."""
    p = Path(path)
    if p.exists():
        if not p.is_dir():
            raise ConfigError(f"{str(p)!r} is a file, expected a folder", field=field)
        if not os.access(p, os.W_OK | os.X_OK):
            raise ConfigError(f"{str(p)!r} is not writable", field=field)
        return p
    _writable_parent(p, field)
    return p


def check_output_file(path: str | Path, field: str) -> Path:
    """A file the command will write: not a folder, its folder exists or can be created, writable."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{str(p)!r} is a folder, expected a file name", field=field)
    if p.exists():
        if not os.access(p, os.W_OK):
            raise ConfigError(f"{str(p)!r} is not writable", field=field)
        return p
    _writable_parent(p, field)
    return p


def existing_outputs(folder: Path, names: Iterable[str]) -> list[str]:
    """Which of ``names`` (files or folders, glob patterns allowed) already exist in ``folder``."""
    if not folder.is_dir():
        return []
    return sorted({q.name for n in names for q in folder.glob(n)})


def claim_outputs(folder: str | Path, names: Iterable[str], field: str, *, overwrite: bool) -> list[str]:
    """The rule for re-running into a folder, checked before any work: if ``folder`` holds an earlier
    run's outputs (``names``: file or folder names, glob patterns allowed), refuse unless ``overwrite``;
    with ``overwrite`` those outputs (and only those) are removed, so old and new files never mix.
    Returns the names removed."""
    import shutil

    p = Path(folder)
    found = existing_outputs(p, names)
    if found and not overwrite:
        shown = ", ".join(found[:4]) + (f" (+{len(found) - 4} more)" if len(found) > 4 else "")
        raise ConfigError(
            f"{str(p)!r} holds an earlier run's files ({shown}); pass --overwrite to replace them or "
            "choose another folder", field=field,
        )
    for name in found:
        q = p / name
        if q.is_dir() and not q.is_symlink():
            shutil.rmtree(q)
        else:
            q.unlink()
    return found


# ---- names -> file names ---------------------------------------------------------------------------
_UNSAFE = re.compile(r"[^A-Za-z0-9_.=-]+")


def safe_filename(name: str, *, max_len: int = 120) -> str:
    """A file name for ``name``: ASCII letters, digits and ``_.=-``; any other run of characters becomes
    ``-`` and, when anything was replaced or cut, a short hash of the whole name is appended, so two
    names that differ only in replaced characters (``traces/a.csv`` vs ``traces-a.csv``, ``café`` vs
    ``cafè``) never share a file. Never empty, never a path, never starts with a dot."""
    cleaned = _UNSAFE.sub("-", name).lstrip(".") or "x"
    if cleaned == name and len(name) <= max_len:
        return name
    digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned[: max_len - 9]}~{digest}"
