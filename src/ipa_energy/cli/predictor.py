"""``ipa-energy predictor list|train|evaluate``: the load predictors, IPA's LSTM training, held-out SMAPE."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ipa_energy.cli.params import OUT_FILE, SEED, Number
from ipa_energy.predict import PREDICTORS

if TYPE_CHECKING:
    from ipa_energy.predict.base import Predictor
    from ipa_energy.predict.evaluate import HeldOut, PredictorScore
    from ipa_energy.workloads.twitter import TwitterTrace

PAPER_SMAPE_PCT = 6.6  # IPA paper, LSTM predictor


@click.group()
def predictor() -> None:
    """Load predictors: list them, train IPA's LSTM, score them on held-out days of the Twitter trace."""


@predictor.command("list")
def list_predictors() -> None:
    """Registered predictors with a one-line description."""
    for name in PREDICTORS.names():
        doc = (PREDICTORS.get(name).__doc__ or "").strip().splitlines()
        click.echo(f"{name:<12} {doc[0] if doc else ''}")


def _trace_option(f):  # type: ignore[no-untyped-def]
    return click.option(
        "--trace", type=click.Path(dir_okay=False), default=None,
        help="Twitter per-second trace (one count per line). Default: $IPA_ENERGY_TWITTER_TRACE, else "
        "shared/data/ipa/workloads/twitter_trace_per_second.txt in this or a parent directory.",
    )(f)


def _load_trace(path: str | None) -> TwitterTrace:
    from ipa_energy.workloads.twitter import load_twitter_trace

    trace = load_twitter_trace(path)
    click.echo(
        f"trace {trace.source}: {trace.duration_s:,} s ({trace.duration_s / 86400:.2f} days), "
        f"{int(trace.gaps.sum()):,} gap seconds (count 0), rates = int(count/{trace.damping})"
    )
    return trace


def _print_scores(scores: list[PredictorScore], held: HeldOut, trace: TwitterTrace) -> None:
    last = held.last_day if held.last_day is not None else trace.duration_s / 86400
    click.echo(
        f"scored days {held.first_day:g}-{last:.2f}: {held.targets_rps.size:,} gap-free windows, one every "
        f"{held.stride_s} s; target = max load of the next 20 s; history = the last 120 s"
    )
    click.echo(f"  {'predictor':<14} {'SMAPE':>8} {'MAE rps':>8} {'under':>7}")
    for s in scores:
        click.echo(f"  {s.name:<14} {s.smape_pct:>7.2f}% {s.mae_rps:>8.3f} {s.under_pct:>6.1f}%")
    click.echo(f"  (the IPA paper reports SMAPE {PAPER_SMAPE_PCT} % for its LSTM; 'under' = share of "
               "windows predicted below the target)")


_TRAINABLE = ("lstm", "gbm-q90", "gbm-median")


@predictor.command()
@_trace_option
@click.option("--predictor", "name", type=click.Choice(_TRAINABLE), default="lstm", show_default=True,
              help="Which predictor to train (each default reproduces its shipped weights).")
@click.option("--out", type=OUT_FILE, default=None,
              help="Where to write the trained weights (.npz) [default: the shipped file's name, here].")
@click.option("--epochs", type=Number("count"), default=None, help="Training epochs [default: TrainConfig.epochs, 20].")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of initialisation and batch order.")
@click.option("--train-days", type=Number("day"), default=14.0, show_default=True,
              help="Train on days [0, N) of the trace; score on the days after.")
@click.option("--max-windows", type=Number("count"), default=None,
              help="Train on a seeded random subset of this many windows (default: all).")
@click.option("--select", is_flag=True,
              help="gbm-*: first train the candidate settings and print their scores on the validation day.")
@click.option("--json", "as_json", is_flag=True, help="Also print the held-out scores as one JSON line.")
def train(trace: str | None, name: str, out: str | None, epochs: int | None, seed: int, train_days: float,
          max_windows: int | None, select: bool, as_json: bool) -> None:
    """Train a predictor on the training days (0-14) of the trace; print its scores on the test days.

    lstm: IPA's LSTM; gbm-q90 / gbm-median: gradient-boosted quantile regression (0.9 / 0.5). With default
    arguments the result equals the shipped weights (the last line says whether it does).
    """
    if name != "lstm":
        if epochs is not None or max_windows is not None or train_days != 14.0:
            from ipa_energy.errors import ConfigError

            raise ConfigError("--epochs, --max-windows and --train-days apply to the lstm only", field="--predictor")
        _train_gbm(name, _load_trace(trace), out or f"{name.replace('-', '_')}.npz", seed, select, as_json)
        return
    out = out or "lstm_weights.npz"
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ipa_energy.errors import ConfigError
    from ipa_energy.predict.evaluate import evaluate_predictors, held_out_windows
    from ipa_energy.predict.lstm import LSTMPredictor, LSTMWeights
    from ipa_energy.predict.split import DEFAULT_SPLIT
    from ipa_energy.predict.train import TrainConfig, train_lstm

    config = TrainConfig(seed=seed, max_windows=max_windows, train_days=train_days,
                         **({"epochs": epochs} if epochs is not None else {}))
    shipped: LSTMWeights | None = None
    shipped_error = ""
    try:  # read before training: --out may overwrite them
        shipped = LSTMWeights.load()
    except ConfigError as e:
        shipped_error = str(e)
    tr = _load_trace(trace)
    if not config.train_days < tr.duration_s / 86400:  # found before training, not after it
        raise ConfigError(f"{config.train_days:g} days leave nothing to score: the trace holds "
                          f"{tr.duration_s / 86400:.2f} days", field="--train-days")
    click.echo(f"training on days 0-{config.train_days:g}: {config.epochs} epochs, seed {config.seed}, "
               f"batch {config.batch_size}, Adam lr {config.learning_rate:g}, "
               f"{config.threads} torch thread(s)")
    with Progress(TextColumn("epoch {task.completed}/{task.total}"), BarColumn(),
                  TextColumn("loss {task.fields[loss]}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("train", total=config.epochs, loss="-")
        result = train_lstm(tr, config,
                            on_epoch=lambda e, loss: bar.update(task, completed=e + 1, loss=f"{loss:.3g}"))
    result.weights.save(out)
    click.echo(f"trained on {result.train_windows:,} windows in {result.wall_s:.1f} s "
               f"(final MSE {result.final_loss:.4g} on rates divided by {result.weights.scale_rps:g} rps); "
               f"wrote {out}")
    # the split's training days are followed by the validation day: score on the test days after it
    first = DEFAULT_SPLIT.test_day if config.train_days == DEFAULT_SPLIT.validation_day else config.train_days
    held = held_out_windows(tr, first_day=first)
    if held.targets_rps.size == 0:
        raise ConfigError(f"no gap-free window after day {config.train_days:g} to score on "
                          f"(the trace holds {tr.duration_s / 86400:.2f} days)", field="--train-days")
    preds: dict[str, Predictor] = {**_all_predictors(), "lstm": LSTMPredictor(result.weights)}
    scores = evaluate_predictors(preds, held)
    _print_scores(scores, held, tr)
    if as_json:
        click.echo(json.dumps({s.name: s.smape_pct for s in scores}))
    if shipped is None:
        click.echo(f"cannot compare with the shipped weights: {shipped_error}")
        return
    diff = result.weights.max_abs_diff(shipped)
    verdict = "identical to" if diff == 0 else f"differ (max |diff| {diff:.3g}) from"
    click.echo(f"these weights are {verdict} the shipped weights")


@predictor.command()
@_trace_option
@click.option("--weights", type=click.Path(dir_okay=False), default=None,
              help="LSTM weights (.npz) to score instead of the shipped ones.")
@click.option("--first-day", type=Number("day"), default=None,
              help="Score from this day instead of the test days (default: the split's test days).")
@click.option("--last-day", type=Number("day"), default=None, help="End of the scored days (default: trace end).")
@click.option("--stride-s", type=Number("count"), default=10, show_default=True,
              help="One evaluation window every this many seconds (a multiple of 10).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
def evaluate(trace: str | None, weights: str | None, first_day: float | None, last_day: float | None,
             stride_s: int, as_json: bool) -> None:
    """SMAPE and under-prediction of every predictor on the test days of the train/validation/test split."""
    from ipa_energy.errors import ConfigError
    from ipa_energy.predict.evaluate import evaluate_predictors, held_out_windows
    from ipa_energy.predict.split import DEFAULT_SPLIT

    tr = _load_trace(trace) if not as_json else _load_trace_quiet(trace)
    trace_days = tr.duration_s / 86400
    for field, day in (("--first-day", first_day), ("--last-day", last_day)):
        if day is not None and day > trace_days:
            raise ConfigError(f"day {day:g} is beyond the trace ({trace_days:.2f} days)", field=field)
    if first_day is not None and last_day is not None and not first_day < last_day:
        raise ConfigError(f"must be after --first-day {first_day:g} (got {last_day:g})", field="--last-day")
    if stride_s % 10:
        raise ConfigError(f"must be a multiple of 10 (got {stride_s})", field="--stride-s")
    if first_day is None:
        first_day, default_last = DEFAULT_SPLIT.days("test")
        last_day = last_day if last_day is not None else default_last
    held = held_out_windows(tr, first_day=first_day, last_day=last_day, stride_s=stride_s)
    if held.targets_rps.size == 0:
        raise ConfigError("no gap-free evaluation window in these days", field="--first-day/--last-day")
    scores = evaluate_predictors(_all_predictors(weights), held)
    # the shipped predictors were trained and selected on the days before the test day
    held_out = first_day >= DEFAULT_SPLIT.test_day
    if as_json:
        click.echo(json.dumps({
            "split": {p: DEFAULT_SPLIT.days(p) for p in ("train", "validation", "test")},
            "windows": held.targets_rps.size, "first_day": first_day, "last_day": last_day,
            "stride_s": stride_s, "held_out": held_out, "weights": str(Path(weights)) if weights else "shipped",
            "scores": {s.name: {"smape_pct": s.smape_pct, "mae_rps": s.mae_rps, "under_pct": s.under_pct}
                       for s in scores},
        }))
        return
    click.echo(DEFAULT_SPLIT.describe(tr))
    if not held_out:
        click.echo(f"note: days before {DEFAULT_SPLIT.test_day:g} trained or selected the shipped predictors: "
                   "these scores are NOT held-out")
    _print_scores(scores, held, tr)


def _train_gbm(name: str, tr: TwitterTrace, out: str, seed: int, select: bool, as_json: bool) -> None:
    from dataclasses import replace

    from ipa_energy.errors import ConfigError
    from ipa_energy.predict.evaluate import evaluate_predictors, split_windows
    from ipa_energy.predict.gbm import GBMPredictor, GBMTrees
    from ipa_energy.predict.gbm_train import SHIPPED_CONFIGS, select_on_validation, train_gbm
    from ipa_energy.predict.split import DEFAULT_SPLIT

    config = replace(SHIPPED_CONFIGS[name], seed=seed)
    click.echo(DEFAULT_SPLIT.describe(tr))
    if select:
        click.echo(f"candidates scored on the validation days (pinball loss at q={config.quantile:g}, best first):")
        for c in select_on_validation(tr, config):
            cfg = c.config
            click.echo(f"  leaves {cfg.max_leaf_nodes:>3} iters {cfg.max_iter:>4} lr {cfg.learning_rate:<5g} "
                       f"pinball {c.pinball_rps:.4f} rps  SMAPE {c.validation.smape_pct:.2f}%  "
                       f"under {c.validation.under_pct:.1f}%  ({c.wall_s:.0f} s)")
    click.echo(f"training {name}: quantile {config.quantile:g}, {config.max_iter} trees of "
               f"{config.max_leaf_nodes} leaves, lr {config.learning_rate:g}, seed {config.seed}")
    result = train_gbm(tr, config)
    result.model.save(out)
    click.echo(f"trained on {result.train_windows:,} windows in {result.wall_s:.1f} s; wrote {out}")
    held = split_windows(tr, "test")
    scores = evaluate_predictors({**_all_predictors(skip=name), name: GBMPredictor(result.model)}, held)
    _print_scores(scores, held, tr)
    if as_json:
        click.echo(json.dumps({s.name: {"smape_pct": s.smape_pct, "under_pct": s.under_pct} for s in scores}))
    try:
        same = result.model.same_as(GBMTrees.load_shipped(name))
    except ConfigError as e:
        click.echo(f"cannot compare with the shipped model: {e}")
        return
    click.echo(f"this model is {'identical to' if same else 'different from'} the shipped {name} model")


def _all_predictors(lstm_weights: str | Path | None = None, *, skip: str | None = None) -> dict[str, Predictor]:
    """Every registered predictor but ``skip``, with its shipped weights (the LSTM's from ``lstm_weights``)."""
    from ipa_energy.predict import get_predictor
    from ipa_energy.predict.lstm import LSTMPredictor

    return {name: LSTMPredictor(lstm_weights) if name == "lstm" else get_predictor(name)
            for name in PREDICTORS.names() if name != skip}


def _load_trace_quiet(path: str | None) -> TwitterTrace:
    from ipa_energy.workloads.twitter import load_twitter_trace

    return load_twitter_trace(path)
