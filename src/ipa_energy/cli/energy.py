"""``ipa-energy energy``: parse saved logs, measure a command, monitor live power, plot, calibrate."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from ipa_energy.cli.output import clean
from ipa_energy.cli.params import DURATION_S, INTERVAL_S, OUT_FILE, PORT, POWER_W, WAIT_S, Number
from ipa_energy.errors import ConfigError

METER_CHOICES = ("auto", "rapl", "perf", "nvml", "model")
#: the quality label of a window whose counters never advanced (nothing was measured)
NOT_MEASURED = "not-measured"


def exit_status(returncode: int) -> int:
    """A child's ``Popen.returncode`` as a shell reports it: killed by signal N -> 128 + N (9 -> 137)."""
    return 128 - returncode if returncode < 0 else returncode


def _meter_options(f: Any) -> Any:
    f = click.option("--active-w-per-core", type=POWER_W, help="Model meter: active watts per busy core.")(f)
    f = click.option("--idle-w", type=POWER_W, help="Model meter: idle watts of the machine.")(f)
    f = click.option("--power-model", help="Model meter: coefficients file (from 'energy calibrate') or table row.")(f)
    f = click.option("--powercap-root", type=click.Path(file_okay=False), default="/sys/class/powercap",
                     show_default=True, help="Root of the powercap sysfs tree (RAPL).")(f)
    f = click.option("--meter", "meter_name", type=click.Choice(METER_CHOICES), default="auto", show_default=True,
                     help="Energy source; auto picks the best present and says why.")(f)
    return f


def _build_meter(meter_name: str, powercap_root: str, power_model: str | None, idle_w: float | None,
                 active_w_per_core: float | None) -> Any:
    from ipa_energy.energy import get_meter

    model_opts = {"idle_w": idle_w, "active_w_per_core": active_w_per_core}
    if meter_name == "auto":
        return get_meter("auto", powercap_root=powercap_root, power_model=power_model, **model_opts)
    if meter_name == "rapl":
        return get_meter("rapl", root=powercap_root)
    if meter_name == "model":
        return get_meter("model", power_model=power_model, **model_opts)
    return get_meter(meter_name)


@click.group()
def energy() -> None:
    """Energy: parse perf logs, measure a command, monitor, plot, calibrate the power model."""


# ---- parse -----------------------------------------------------------------------------------------
@energy.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def parse(file: str, as_json: bool) -> None:
    """Parse a saved energy log (perf interval / -x / tab / blocks, shared CSV, ipa-energy log).

    Per domain: valid samples, gaps (missing values: never zeros), energy (sum of valid readings),
    covered duration and mean power over the covered time.
    """
    from ipa_energy.energy.formats import parse_log

    log = parse_log(file)
    if as_json:
        out = {"file": file, "format": log.format, "started": log.started,
               "domains": {d: s.summary() for d, s in log.domains.items()}, "notes": len(log.notes)}
        click.echo(json.dumps(clean(out)))
        return
    click.echo(f"{file}: {log.format}" + (f", started {log.started}" if log.started else ""))
    for d, s in log.domains.items():
        mp = s.mean_power_w
        click.echo(f"  {d:<6} samples {s.samples:<6} gaps {s.gaps:<4} energy {s.total_energy_j / 1e3:10.3f} kJ  "
                   f"duration {s.covered_s:9.1f} s  mean {'n/a' if mp is None else f'{mp:.2f} W'}")
    for n in log.notes[:10]:
        click.echo(f"  note: {n}")
    if len(log.notes) > 10:
        click.echo(f"  ... {len(log.notes) - 10} more notes")


# ---- measure ---------------------------------------------------------------------------------------
@energy.command(context_settings={"ignore_unknown_options": True})
@_meter_options
@click.option("--interval-s", type=INTERVAL_S, default=1.0, show_default=True, help="Sampling interval of the log.")
@click.option("--log", "log_path", type=OUT_FILE, help="Write the per-second CSV log here.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def measure(meter_name: str, powercap_root: str, power_model: str | None, idle_w: float | None,
            active_w_per_core: float | None, interval_s: float, log_path: str | None, as_json: bool,
            command: tuple[str, ...]) -> None:
    """Run COMMAND (after --) and measure the energy around it.

    energy_j counts each physical domain once (packages + DRAM + GPUs); core/uncore/psys are reported
    under zones only. Estimates are labelled with their power model. Exits with COMMAND's status.
    """
    from ipa_energy.energy.log import EnergyLog
    from ipa_energy.energy.sampler import Sampler

    meter = _build_meter(meter_name, powercap_root, power_model, idle_w, active_w_per_core)
    log = EnergyLog(log_path, meter) if log_path else None
    sampler = Sampler(meter, interval_s, on_sample=log.write if log else None)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        sampler.start()
        meter.begin_window("command")
        try:
            # with --json the child's stdout goes to our stderr: stdout carries exactly one JSON object
            proc = subprocess.Popen(list(command), stdout=sys.stderr if as_json else None)  # noqa: S603
        except OSError as e:
            meter.cancel_window("command")
            raise ConfigError(f"cannot run {command[0]!r}: {e.strerror}", field="COMMAND") from None
        try:
            rc = proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            rc = proc.wait()
        m = meter.end_window("command")
    finally:
        sampler.stop()
        if log:
            log.close()
        meter.close()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    selection = getattr(meter, "selection", None)
    out = m.to_json()
    warning = None
    stuck = m.quality == "measured" and m.duration_s >= 0.5 and m.energy_j <= 0
    if stuck:  # a counter that never advanced measured nothing: no energy, and not called "measured"
        warning = f"{m.source} counters did not advance: 0 J is not a measurement (is RAPL passed through?)"
        out.update({"quality": NOT_MEASURED, "energy_j": None, "mean_power_w": None})
    rc = exit_status(rc)
    out.update({"command": list(command), "exit_code": rc, "command_cpu_s": cpu_s, "warning": warning,
                "samples": len(sampler.samples()), "log": log_path,
                "selection": selection.to_json() if selection else None})
    if as_json:
        click.echo(json.dumps(clean(out)))
    else:
        label = f"{m.quality}" + (f", model {m.model}" if m.model else "")
        if stuck:
            click.echo(f"energy n/a over {m.duration_s:.3f} s ({m.source}, {NOT_MEASURED}); "
                       f"command CPU {cpu_s:.3f} s, exit {rc}", err=True)
        else:
            click.echo(f"energy {m.energy_j:.3f} J over {m.duration_s:.3f} s = {m.mean_power_w:.3f} W "
                       f"({m.source}, {label}); command CPU {cpu_s:.3f} s, exit {rc}", err=True)
        for z, ej in m.zones_j.items():
            flag = "" if z in m.counted_zones else "  (not in total)"
            click.echo(f"  {z:<20} {ej:12.3f} J{flag}", err=True)
        if selection:
            click.echo(f"  auto: {selection.summary()}", err=True)
        if warning:
            click.echo(f"  warning: {warning}", err=True)
    if rc:
        raise SystemExit(rc)


# ---- monitor ---------------------------------------------------------------------------------------
@energy.command()
@_meter_options
@click.option("--interval-s", type=INTERVAL_S, default=1.0, show_default=True, help="Seconds between screen updates.")
@click.option("--duration-s", "--duration", type=DURATION_S, help="Stop after this many seconds (default: Ctrl-C).")
@click.option("--log", "log_path", type=OUT_FILE, help="Also write the CSV log here.")
@click.option("--prometheus-port", type=PORT,
              help="Serve Prometheus metrics on this port (127.0.0.1); 0 picks a free port and prints it.")
def monitor(meter_name: str, powercap_root: str, power_model: str | None, idle_w: float | None,
            active_w_per_core: float | None, interval_s: float, duration_s: float | None, log_path: str | None,
            prometheus_port: int | None) -> None:
    """A live view of power per zone (rich table; plain lines when not a terminal)."""
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    from ipa_energy.energy.log import EnergyLog
    from ipa_energy.energy.sampler import Sample, Sampler

    meter = _build_meter(meter_name, powercap_root, power_model, idle_w, active_w_per_core)
    log = EnergyLog(log_path, meter) if log_path else None
    exporter = None
    if prometheus_port is not None:
        from ipa_energy.energy.prometheus import PrometheusExporter

        exporter = PrometheusExporter(meter)
        bound = exporter.serve(prometheus_port)
        click.echo(f"prometheus metrics on http://127.0.0.1:{bound}/metrics", err=True)
    console = Console()
    totals: dict[str, float] = {}
    t_start = time.monotonic()

    def table(s: Sample | None) -> Table:
        title = f"{meter.source} ({meter.quality})" + (f" model: {meter.model}" if meter.model else "")
        t = Table(title=title)
        for col in ("zone", "domain", "in total", "power W", "energy J"):
            t.add_column(col)
        for z in meter.zones():
            zj = s.zones_j.get(z.name) if s else None
            if s is None:
                p = ""
            elif zj is None or s.interval_s <= 0:
                p = "gap"
            else:
                p = f"{zj / s.interval_s:.2f}"
            t.add_row(z.name, z.domain, "yes" if z.counted else "no", p, f"{totals.get(z.name, 0.0):.1f}")
        if s:
            t.caption = f"total {s.power_w:.2f} W   t {time.monotonic() - t_start:.0f} s"
        return t

    def on_sample(s: Sample) -> None:
        for k, v in s.zones_j.items():
            totals[k] = totals.get(k, 0.0) + v
        if log:
            log.write(s)
        if exporter:
            exporter.update(s)

    sampler = Sampler(meter, interval_s, on_sample=on_sample)
    try:
        with Live(table(None), console=console, auto_refresh=False, transient=False,
                  redirect_stdout=False) if console.is_terminal else _NoLive() as live:
            sampler.start()
            for s in sampler:
                if console.is_terminal:
                    live.update(table(s), refresh=True)
                else:
                    zones = " ".join(f"{k}={w:.2f}W" for k, w in s.zone_power_w().items())
                    click.echo(f"t={time.monotonic() - t_start:7.2f}s total={s.power_w:.2f}W {zones} "
                               f"[{s.source} {s.quality}]")
                if duration_s is not None and time.monotonic() - t_start >= duration_s:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        sampler.stop(final_sample=False)
        if log:
            log.close()
        meter.close()


class _NoLive:
    def __enter__(self) -> _NoLive:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, *a: object, **k: object) -> None:
        return None


# ---- plot ------------------------------------------------------------------------------------------
@energy.command()
@click.argument("logs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--per", type=click.Choice(["minute", "second"]), default="minute", show_default=True,
              help="Average the power per minute (steps) or keep per-second points.")
@click.option("--smooth", default="savgol:61", show_default=True,
              help="none | rolling[:N] | ewma[:ALPHA] | savgol[:N] (N in samples).")
@click.option("--domain", default="auto", show_default=True,
              help="pkg, ram, cores, gpu, psys, cpu, total (run logs), or auto: pkg, else cpu, else total.")
@click.option("--out", type=OUT_FILE, default="energy.png", show_default=True,
              help="PNG file to write.")
@click.option("--title", help="Figure title (default: the log names).")
def plot(logs: tuple[str, ...], per: str, smooth: str, domain: str, out: str, title: str | None) -> None:
    """Overlay runs: raw per-second power (faint), per-minute average, smoothed line."""
    from ipa_energy.energy.formats import parse_log
    from ipa_energy.energy.plot import plot_logs

    parsed = [parse_log(p) for p in logs]
    path = plot_logs(parsed, out, domain=domain, per=per, smooth=smooth, title=title)
    click.echo(f"wrote {path}")


# ---- calibrate -------------------------------------------------------------------------------------
@energy.command()
@click.option("--powercap-root", type=click.Path(file_okay=False), default="/sys/class/powercap", show_default=True,
              help="Root of the powercap sysfs tree (RAPL).")
@click.option("--max-cores", type=Number("cores"), help="Highest load level (default: all logical CPUs).")
@click.option("--step-s", type=INTERVAL_S, default=20.0, show_default=True, help="Seconds measured per load level.")
@click.option("--settle-s", type=WAIT_S, default=3.0, show_default=True, help="Seconds to settle before each.")
@click.option("--out", type=OUT_FILE, default="power_model.json", show_default=True,
              help="Where to write the fitted coefficients (the model meter reads this file).")
@click.option("--name", help="Model name (default: calibrated-<host>).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def calibrate(powercap_root: str, max_cores: int | None, step_s: float, settle_s: float, out: str,
              name: str | None, as_json: bool) -> None:
    """Fit idle W and active W per busy core from stepped CPU load (needs RAPL) and write a coefficients
    file for the model meter (``--power-model FILE``)."""
    import platform

    from rich.progress import Progress

    from ipa_energy.energy.calibrate import SpinLoad, fit_power_model, run_steps, wall_wait
    from ipa_energy.energy.cputime import MachineCpuTime
    from ipa_energy.energy.power_models import save_power_model
    from ipa_energy.energy.rapl import RaplMeter
    from ipa_energy.errors import MeterUnavailable

    try:
        meter = RaplMeter(powercap_root)
    except MeterUnavailable as e:
        raise MeterUnavailable(f"calibrate needs RAPL to measure against: {e}") from None
    n = max_cores if max_cores is not None else (os.cpu_count() or 1)
    levels = list(range(0, n + 1))
    with Progress(transient=True) as progress, SpinLoad() as load:
        task = progress.add_task("calibrating", total=len(levels))
        points = run_steps(meter, levels, step_s=step_s, settle_s=settle_s, set_load=load.set, wait=wall_wait,
                           cpu=MachineCpuTime(), progress=lambda k, p: progress.advance(task))
    meter.close()
    cal = fit_power_model(points, name=name or f"calibrated-{platform.node()}",
                          source=f"calibrated with RAPL on {platform.node()}", cores=os.cpu_count())
    save_power_model(cal.model, out, calibration=cal.details())
    if as_json:
        click.echo(json.dumps({"model": cal.model.to_json(), "r2": cal.r2, "rmse_w": cal.rmse_w, "out": out}))
    else:
        click.echo(f"{cal.model.label}  r2 {cal.r2:.4f}  rmse {cal.rmse_w:.2f} W -> {Path(out)}")
