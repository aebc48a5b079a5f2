"""Parsing saved energy logs into per-domain series, with the format detected from the content.

Formats (``ParsedLog.format``):

* ``perf-interval``: ``perf stat -I MS -e power/energy-pkg/,...`` default output::

      # started on Fri Nov 29 03:10:31 2024
      #           time             counts   unit events
           1.000107406              74.55 Joules power/energy-pkg/
           2.000314567      <not counted> Joules power/energy-pkg/
           3.000563506           1,234.56 Joules power/energy-pkg/     (locale thousands separators)

* ``perf-csv`` / ``perf-tsv``: ``perf stat -I MS -x SEP`` (``time,value,unit,event,run,pct,...``); with a
  tab separator this is the tab-separated per-second form (header lines allowed).
* ``perf-blocks``: repeated one-shot ``perf stat`` runs (``Performance counter stats for ...``, a value
  line, ``N seconds time elapsed``), as the energy extension's SAM logs were written; the timestamps are
  rebuilt by adding the elapsed times, assuming the runs were back to back.
* ``shared-csv``: the converted CSVs of the shared data (``t_s[,interval_s],pkg_J[,ram_J]``).
* ``ipa-energy-log``: this package's own per-second log (see :mod:`ipa_energy.energy.log`).
* ``ipa-energy-run``: the per-second records of a run (``serve``'s ``*_energy.csv``, ``bench``'s
  ``timelines/*.csv``): ``t_s`` (the second), ``energy_j``, ``energy_source`` and optionally
  ``window_s``, ``idle_energy_j``, ``dynamic_energy_j``; domains ``total`` (and ``idle``, ``dynamic``).

Rules: a missing value (``<not counted>``, ``<not supported>``, an empty field) is a gap, never a zero;
intervals come from consecutive timestamps of the same domain (the first from 0), so a short last
interval is measured, not assumed. Corrupt readings are excluded and counted as gaps, each with a note
naming its line, never summed: a negative or non-finite energy, and a timestamp that does not advance
past the previous one of its domain (time going backwards, a repeated or non-monotonic timestamp).
A value with an empty unit field but an energy event (``power/energy-pkg/``, whose unit is Joules) is
still a reading: kept, and flagged (``DomainSeries.flagged``, with a note).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ipa_energy.energy.base import COUNTED_DOMAINS
from ipa_energy.errors import ConfigError

#: the note of a value whose unit field is empty (kept as Joules, flagged)
UNITLESS_NOTE = "value without a unit: kept as Joules"
_EVENT_RE = re.compile(r"power/energy-(?P<d>[a-z]+)/")
_MISSING = ("<not counted>", "<not supported>")
_DOMAIN_ALIASES = {"pkg": "pkg", "ram": "ram", "dram": "ram", "cores": "cores", "gpu": "gpu", "psys": "psys"}


def parse_number(text: str) -> float | None:
    """A perf count with locale grouping: '1,234.56', '1.234,56', "1'234.56", '74.55'; None if empty."""
    s = text.strip().replace("'", "").replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if not s or s in _MISSING:
        return None
    if "," in s and "." in s:
        dec = "," if s.rfind(",") > s.rfind(".") else "."
        grp = "." if dec == "," else ","
        s = s.replace(grp, "").replace(dec, ".")
    elif "," in s:
        head, _, tail = s.rpartition(",")
        # perf prints counts with 2 decimals: ',dd' is a decimal comma, ',ddd' a thousands separator
        s = head.replace(",", "") + "." + tail if len(tail) != 3 else s.replace(",", "")
    try:
        return float(s)
    except ValueError:
        return None


def domain_of_event(event: str) -> str | None:
    m = _EVENT_RE.search(event)
    return _DOMAIN_ALIASES.get(m["d"]) if m else None


@dataclass(frozen=True)
class DomainSeries:
    """Intervals of one domain: end time, length, energy (NaN for a gap)."""

    domain: str
    t_s: NDArray[np.float64]
    interval_s: NDArray[np.float64]
    energy_j: NDArray[np.float64]
    #: readings kept but flagged (e.g. a value whose unit field was empty)
    flagged: int = 0

    @property
    def valid(self) -> NDArray[np.bool_]:
        return ~np.isnan(self.energy_j)

    @property
    def samples(self) -> int:
        return int(self.valid.sum())

    @property
    def gaps(self) -> int:
        return int((~self.valid).sum())

    @property
    def total_energy_j(self) -> float:
        return float(np.nansum(self.energy_j))

    @property
    def covered_s(self) -> float:
        """Time covered by valid readings."""
        return float(self.interval_s[self.valid].sum())

    @property
    def span_s(self) -> float:
        return float(self.t_s[-1]) if len(self.t_s) else 0.0

    @property
    def mean_power_w(self) -> float | None:
        c = self.covered_s
        return self.total_energy_j / c if c > 0 else None

    @property
    def power_w(self) -> NDArray[np.float64]:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.energy_j / self.interval_s

    def summary(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "gaps": self.gaps,
            "flagged": self.flagged,
            "energy_j": self.total_energy_j,
            "duration_s": self.covered_s,
            "span_s": self.span_s,
            "mean_power_w": self.mean_power_w,
        }


@dataclass(frozen=True)
class ParsedLog:
    format: str
    path: str
    domains: Mapping[str, DomainSeries]
    #: lines skipped or read as gaps, with their line numbers
    notes: tuple[str, ...] = ()
    started: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "format": self.format,
            "started": self.started,
            "domains": {d: s.summary() for d, s in self.domains.items()},
            "notes": list(self.notes),
        }

    def aligned(self) -> tuple[list[float], dict[str, list[float | None]]]:
        """Intervals on the first domain's timestamps (for replay); other domains matched by index."""
        if not self.domains:
            raise ConfigError("log holds no readings", source=self.path)
        first = next(iter(self.domains.values()))
        n = len(first.t_s)
        out: dict[str, list[float | None]] = {}
        for d, s in self.domains.items():
            vals: list[float | None] = [None if math.isnan(v) else float(v) for v in s.energy_j[:n]]
            out[d] = vals + [None] * (n - len(vals))
        return [float(t) for t in first.t_s], out


class _Builder:
    """Collects (time, domain, energy or None, interval or None) rows and builds the series.

    Corrupt rows are turned into gaps here, once for every format: a negative or non-finite energy, and
    a time that does not advance past the previous one of the same domain (with interval 0, so the
    covered time stays right).
    """

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[float, float | None, float | None]]] = {}
        self.notes: list[str] = []
        self.flagged: dict[str, int] = {}
        self._last_t: dict[str, float] = {}

    def add(self, t_s: float, domain: str, energy_j: float | None, interval_s: float | None = None,
            lineno: int | None = None) -> None:
        where = f"line {lineno}: " if lineno is not None else ""
        if not math.isfinite(t_s):
            self.notes.append(f"{where}{domain}: time {t_s} is not a number: skipped")
            return
        last = self._last_t.get(domain)
        if last is not None and t_s <= last:
            self.notes.append(
                f"{where}{domain}: time {t_s:g} s does not advance past {last:g} s (time going backwards or "
                "repeated): excluded, counted as a gap"
            )
            self.rows.setdefault(domain, []).append((last, None, 0.0))
            return
        if energy_j is not None and not (math.isfinite(energy_j) and energy_j >= 0):
            self.notes.append(f"{where}{domain}: energy {energy_j:g} J is not a reading (negative or not "
                              "finite): excluded, counted as a gap")
            energy_j = None
        if interval_s is not None and not (math.isfinite(interval_s) and interval_s >= 0):
            self.notes.append(f"{where}{domain}: interval {interval_s:g} s is invalid: excluded, counted as a gap")
            energy_j, interval_s = None, None
        self._last_t[domain] = t_s
        self.rows.setdefault(domain, []).append((t_s, energy_j, interval_s))

    def flag(self, domain: str) -> None:
        self.flagged[domain] = self.flagged.get(domain, 0) + 1

    def note(self, lineno: int, msg: str) -> None:
        self.notes.append(f"line {lineno}: {msg}")

    def build(self, fmt: str, path: str, started: str | None = None, **extra: Any) -> ParsedLog:
        domains: dict[str, DomainSeries] = {}
        for d, rows in self.rows.items():
            t = np.array([r[0] for r in rows], dtype=float)
            e = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=float)
            prev = np.concatenate([[0.0], t[:-1]])
            iv = np.array([r[2] if r[2] is not None else t[i] - prev[i] for i, r in enumerate(rows)], dtype=float)
            domains[d] = DomainSeries(d, t, iv, e, self.flagged.get(d, 0))
        return ParsedLog(fmt, path, domains, tuple(self.notes), started, extra)


_TIME_RE = re.compile(r"^\s*(\d+\.\d+)")


def _is_header(line: str) -> bool:
    s = line.strip()
    return not s or s.startswith("#") or s.lower().startswith(("time", "timestamp"))


def _parse_perf_interval(lines: list[str], path: str) -> ParsedLog:
    b = _Builder()
    started = None
    value_re = re.compile(
        r"^\s*(?P<t>\d+\.\d+)\s+(?P<v><not counted>|<not supported>|-?[\d.,'\u202f\xa0]+(?=\s))?\s*"
        r"(?P<u>Joules|J|mJ)?\s*(?P<e>\S+)\s*(?P<rest>.*)$"
    )
    for i, line in enumerate(lines, 1):
        if line.startswith("# started on"):
            started = line.removeprefix("# started on").strip()
            continue
        if _is_header(line):
            continue
        m = value_re.match(line)
        if not m:
            b.note(i, f"not a perf interval line, skipped: {line.strip()[:60]!r}")
            continue
        domain = domain_of_event(m["e"])
        if domain is None:
            b.note(i, f"event {m['e']!r} is not an energy event, skipped")
            continue
        t = float(m["t"])
        raw = m["v"]
        if raw is None or raw in _MISSING:
            b.note(i, f"{raw or 'no value'}: gap")
            b.add(t, domain, None, lineno=i)
        else:
            v = parse_number(raw)
            scale = 1e-3 if m["u"] == "mJ" else 1.0
            if v is None:
                b.note(i, f"unreadable value {raw!r}: gap")
            elif m["u"] is None:
                b.note(i, f"value without a unit: kept as Joules (the event {m['e']} counts Joules), flagged")
                b.flag(domain)
            b.add(t, domain, None if v is None else v * scale, lineno=i)
    return b.build("perf-interval", path, started)


def parse_perf_sep_line(line: str, sep: str) -> tuple[float, str, float | None, str | None] | str | None:
    """One ``perf stat -x SEP`` line -> (time, domain, joules or None for a gap, note or None).

    Returns None for header/blank lines and a string (the reason) for a line that is skipped.
    """
    if _is_header(line):
        return None
    fields = [f.strip() for f in line.rstrip("\n").split(sep)]
    if len(fields) < 4 or not _TIME_RE.match(fields[0]):
        return f"not a perf {sep!r}-separated line, skipped: {line.strip()[:60]!r}"
    t, raw, unit, event = float(fields[0]), fields[1], fields[2], fields[3]
    domain = domain_of_event(event)
    if domain is None:
        return f"event {event!r} is not an energy event, skipped"
    if not raw or raw in _MISSING:
        return (t, domain, None, f"{raw or 'no value'}: gap")
    v = parse_number(raw)
    if v is None:
        return (t, domain, None, f"unreadable value {raw!r}: gap")
    if not unit:
        return (t, domain, v, f"{UNITLESS_NOTE} (the event {event} counts Joules), flagged")
    return (t, domain, v * (1e-3 if unit == "mJ" else 1.0), None)


def _parse_perf_sep(lines: list[str], path: str, sep: str) -> ParsedLog:
    b = _Builder()
    started = None
    for i, line in enumerate(lines, 1):
        if line.startswith("# started on"):
            started = line.removeprefix("# started on").strip()
            continue
        r = parse_perf_sep_line(line, sep)
        if r is None:
            continue
        if isinstance(r, str):
            b.note(i, r)
            continue
        t, domain, v, note = r
        if note:
            b.note(i, note)
            if note.startswith(UNITLESS_NOTE):
                b.flag(domain)
        b.add(t, domain, v, lineno=i)
    return b.build("perf-tsv" if sep == "\t" else "perf-csv", path, started, separator=sep)


def _parse_perf_blocks(lines: list[str], path: str) -> ParsedLog:
    b = _Builder()
    pending: list[tuple[int, str, float | None]] = []
    t = 0.0
    value_re = re.compile(r"^\s*(?P<v><not counted>|<not supported>|[\d.,']+)?\s*(?P<u>Joules|J)?\s*(?P<e>power/\S+)")
    elapsed_re = re.compile(r"^\s*(?P<s>[\d.,]+)\s+seconds time elapsed")
    for i, line in enumerate(lines, 1):
        if m := elapsed_re.match(line):
            dt = parse_number(m["s"]) or 0.0
            t += dt
            for ln, domain, v in pending:
                b.add(t, domain, v, dt, lineno=ln)
            pending = []
        elif m := value_re.match(line):
            dom = domain_of_event(m["e"])
            if dom is None:
                continue
            v = parse_number(m["v"]) if m["v"] and m["u"] else None
            if v is None:
                b.note(i, "missing value or unit: gap")
            pending.append((i, dom, v))
    for i, _, _ in pending:
        b.note(i, "block has no 'seconds time elapsed' line (run cut short?): dropped")
    return b.build("perf-blocks", path, extra_note="timestamps rebuilt assuming back-to-back runs")


def _parse_csv_rows(lines: list[str], path: str) -> ParsedLog:
    reader = csv.DictReader(lines)
    fields = reader.fieldnames or []
    b = _Builder()
    if "domain" in fields and "energy_j" in fields:  # our own log: sum the zones of a domain per time
        acc: dict[tuple[float, str], list[float | None]] = {}
        ivs: dict[tuple[float, str], float | None] = {}
        labels: dict[str, str] = {}
        lines_of: dict[tuple[float, str], int] = {}
        for i, row in enumerate(reader, 2):
            if None in row.values() or None in row:
                b.note(i, "truncated line (the run was killed mid-write?): skipped")
                continue
            try:
                key = (float(row["t_s"]), row["domain"])
                e = row.get("energy_j") or ""
                energy = float(e) if e else None
                iv = row.get("interval_s")
                interval = float(iv) if iv else None
            except (TypeError, ValueError):
                b.note(i, "unreadable numbers: skipped")
                continue
            # a zone of a normally counted domain left out of the total (the machine's idle energy in
            # a process-scoped estimate) is not part of that domain's energy
            if row.get("counted") == "0" and row["domain"] in COUNTED_DOMAINS:
                continue
            acc.setdefault(key, []).append(energy)
            ivs[key] = interval
            lines_of.setdefault(key, i)
            for k in ("source", "quality", "model"):
                if row.get(k):
                    labels[k] = row[k]
        for (t, d), vals in acc.items():
            total = None if any(v is None for v in vals) else float(sum(v for v in vals if v is not None))
            b.add(t, d, total, ivs[(t, d)], lineno=lines_of[(t, d)])
        return b.build("ipa-energy-log", path, **labels)
    if "t_s" in fields and "energy_j" in fields:
        return _parse_run_rows(reader, path)
    cols = {c: _DOMAIN_ALIASES.get(c[:-2].lower()) for c in fields if c.endswith(("_J", "_j"))}
    if "t_s" not in fields or not any(cols.values()):
        raise ConfigError(f"CSV header {fields} has no t_s and <domain>_J columns", source=path)
    for i, row in enumerate(reader, 2):
        try:
            t = float(row["t_s"])
        except (TypeError, ValueError):
            b.note(i, "no time: skipped")
            continue
        iv = row.get("interval_s") or None
        for c, dom in cols.items():
            if dom is None:
                continue
            v = parse_number(row.get(c) or "")
            if v is None:
                b.note(i, f"{c} empty: gap")
            b.add(t, dom, v, float(iv) if iv else None, lineno=i)
    return b.build("shared-csv", path)


#: run-record columns -> domain (``serve``'s energy CSV and ``bench`` timelines)
RUN_DOMAINS = {"energy_j": "total", "idle_energy_j": "idle", "dynamic_energy_j": "dynamic"}


def _parse_run_rows(reader: csv.DictReader[str], path: str) -> ParsedLog:
    """Per-second run records: ``t_s`` is the second's start, ``window_s`` (default 1 s) its length."""
    b = _Builder()
    fields = reader.fieldnames or []
    sources: set[str] = set()
    for i, row in enumerate(reader, 2):
        if None in row.values() or None in row:
            b.note(i, "truncated line (the run was killed mid-write?): skipped")
            continue
        try:
            start = float(row["t_s"])
            w = row.get("window_s") or ""
            window = float(w) if w else 1.0
        except (TypeError, ValueError):
            b.note(i, "unreadable t_s or window_s: skipped")
            continue
        if row.get("energy_source"):
            sources.add(row["energy_source"])
        for col, dom in RUN_DOMAINS.items():
            if col not in fields:
                continue
            raw = row.get(col) or ""
            try:
                v = float(raw) if raw else None
            except ValueError:
                b.note(i, f"{col} {raw[:20]!r} is not a number: gap")
                v = None
            if v is None and not raw:
                b.note(i, f"{col} empty: gap")
            b.add(start + window, dom, v, window, lineno=i)
    return b.build("ipa-energy-run", path, source=", ".join(sorted(sources)) if sources else None)


def detect_format(lines: Iterable[str]) -> str:
    """The format name of a log from its first lines (ConfigError if none fits)."""
    head = [ln for ln in lines if ln.strip()][:200]
    for ln in head:
        if "Performance counter stats" in ln:
            return "perf-blocks"
    for ln in head:
        if ln.startswith("#"):
            continue
        low = ln.lower()
        if "energy_j" in low and "domain" in low:
            return "ipa-energy-log"
        if low.startswith("t_s,") and "energy_j" in low.split(","):
            return "ipa-energy-run"
        if low.startswith("t_s,"):
            return "shared-csv"
        m = _TIME_RE.match(ln)
        if m:
            nxt = ln[m.end() : m.end() + 1]
            if nxt == "\t":
                return "perf-tsv"
            if nxt in (",", ";"):
                return "perf-csv"
            return "perf-interval"
    raise ConfigError("cannot tell the log format (no perf, shared-CSV or ipa-energy log lines found)")


def parse_text(text: str, path: str = "<text>") -> ParsedLog:
    lines = text.splitlines()
    try:
        fmt = detect_format(lines)
    except ConfigError as e:
        raise ConfigError(str(e), source=path) from None
    if fmt == "perf-interval":
        return _parse_perf_interval(lines, path)
    if fmt == "perf-tsv":
        return _parse_perf_sep(lines, path, "\t")
    if fmt == "perf-csv":
        first = next(ln for ln in lines if _TIME_RE.match(ln))
        return _parse_perf_sep(lines, path, first[_TIME_RE.match(first).end()])  # type: ignore[union-attr]
    if fmt == "perf-blocks":
        return _parse_perf_blocks(lines, path)
    return _parse_csv_rows(lines, path)


def parse_log(path: str | Path) -> ParsedLog:
    """Parse a saved log of any supported format; errors name the file."""
    p = Path(path)
    try:
        text = p.read_text(errors="replace")
    except FileNotFoundError:
        raise ConfigError("file not found", source=str(p)) from None
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", source=str(p)) from None
    return parse_text(text, str(p))
