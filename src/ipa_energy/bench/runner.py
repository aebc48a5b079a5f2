"""Run many specs in parallel on the available cores, with a progress bar; failures are kept, not lost."""

from __future__ import annotations

import os
import signal
import threading
import traceback
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ipa_energy.bench.tables import run_slug
from ipa_energy.runs import RunResult, RunSpec, execute


@dataclass(frozen=True)
class RunFailure:
    spec: RunSpec
    error: str


def _safe_run(spec: RunSpec, out: Path | None = None) -> RunResult | RunFailure:
    """One run through the shared run path; its timeline and decisions are streamed into ``out``."""
    try:
        if out is None:
            return execute(spec)
        slug = run_slug(spec)
        result = execute(spec, out_dir=out / "runs", prefix=slug)
        # one folder per table, as the report links them; the run's file list follows the move
        moved: dict[str, str] = {}
        for kind, folder in (("timeline", "timelines"), ("decisions", "decisions"), ("energy", "energy")):
            src = out / "runs" / f"{slug}_{kind}.csv"
            if src.exists():
                (out / folder).mkdir(parents=True, exist_ok=True)
                dst = out / folder / f"{slug}.csv"
                src.replace(dst)
                moved[str(src)] = str(dst)
        return replace(result, files=tuple(moved.get(f, f) for f in result.files))
    except Exception as e:  # noqa: BLE001 - one failed run must not lose the others
        return RunFailure(spec, f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}")


INTERRUPTED = "interrupted (Ctrl-C or SIGTERM) before it ran"


def _worker_init() -> None:
    """Pool workers leave Ctrl-C and SIGTERM to the parent, which lets running runs finish and keeps
    their results; and they die with the parent, even if it is killed with SIGKILL."""
    from ipa_energy.config.process import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    die_with_parent()


class Terminated(KeyboardInterrupt):
    """SIGTERM in the bench parent: handled like Ctrl-C (running runs finish, the rest is not run)."""


def _on_sigterm(signum: int, _frame: object) -> None:
    raise Terminated()


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def run_all(
    specs: Sequence[RunSpec], *, workers: int | None = None, show_progress: bool = True, out: Path | None = None,
    signals: list[int] | None = None,
) -> list[RunResult | RunFailure]:
    """Run every spec; results come back in the order of ``specs``.

    On Ctrl-C or SIGTERM, runs already started finish, runs not started come back as
    :class:`RunFailure` with :data:`INTERRUPTED`, and nothing finished is lost; the signal is returned in
    ``signals`` (when given) so the caller can exit 130 or 143.
    """
    workers = workers or default_workers()
    results: list[RunResult | RunFailure | None] = [None] * len(specs)
    columns = (
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
    )
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        return _run_all(specs, workers, show_progress, out, results, columns, signals)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _run_all(specs, workers, show_progress, out, results, columns, signals)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_all(specs: Sequence[RunSpec], workers: int, show_progress: bool, out: Path | None,
             results: list[RunResult | RunFailure | None], columns: tuple[object, ...],
             signals: list[int] | None) -> list[RunResult | RunFailure]:
    with Progress(*columns, disable=not show_progress, transient=False) as progress:  # type: ignore[arg-type]
        task = progress.add_task("simulating", total=len(specs))
        try:
            if workers == 1:
                for i, spec in enumerate(specs):
                    results[i] = _safe_run(spec, out)
                    progress.advance(task)
            else:
                with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init) as pool:
                    futures = {pool.submit(_safe_run, spec, out): i for i, spec in enumerate(specs)}
                    try:
                        for fut in as_completed(futures):
                            results[futures[fut]] = fut.result()
                            progress.advance(task)
                    except KeyboardInterrupt:
                        for fut in futures:
                            fut.cancel()
                        for fut, i in futures.items():  # the runs already started finish
                            if not fut.cancelled():
                                results[i] = fut.result()
                        raise
        except KeyboardInterrupt as e:
            progress.update(task, description="interrupted")
            if signals is not None:
                signals.append(int(signal.SIGTERM if isinstance(e, Terminated) else signal.SIGINT))
    return [r if r is not None else RunFailure(specs[i], INTERRUPTED) for i, r in enumerate(results)]
