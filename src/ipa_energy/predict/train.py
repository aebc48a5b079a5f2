"""Training IPA's LSTM on the first 14 days of the Twitter trace (seeded, CPU, a few minutes at most)."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from ipa_energy.errors import ConfigError
from ipa_energy.predict.features import BLOCK_S, HORIZON_S, N_BLOCKS, supervised_windows
from ipa_energy.predict.lstm import LSTMWeights
from ipa_energy.workloads.twitter import TwitterTrace


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines the trained weights (with the trace and the torch build)."""

    #: passes over the training windows
    epochs: int = 20
    seed: int = 0
    batch_size: int = 256
    learning_rate: float = 3e-3
    #: training uses days [0, train_days) of the trace; evaluation uses the days after
    train_days: float = 14.0
    #: one training window every stride_s seconds (a multiple of 10)
    stride_s: int = 10
    #: keep at most this many training windows (a seeded random subset); None keeps all
    max_windows: int | None = None
    hidden_size: int = 25
    #: torch CPU threads while training (1 makes runs bit-reproducible across machines' core counts)
    threads: int = 1

    def __post_init__(self) -> None:
        checks = {
            "epochs": self.epochs >= 1, "batch_size": self.batch_size >= 1,
            "learning_rate": self.learning_rate > 0, "train_days": self.train_days > 0,
            "hidden_size": self.hidden_size >= 1, "threads": self.threads >= 1,
            "max_windows": self.max_windows is None or self.max_windows >= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ConfigError(f"invalid value {getattr(self, name)!r}", field=name)


@dataclass(frozen=True)
class TrainResult:
    weights: LSTMWeights
    train_windows: int
    #: mean squared error (in units of scale_rps squared) over the last epoch
    final_loss: float
    wall_s: float


def train_lstm(
    trace: TwitterTrace,
    config: TrainConfig = TrainConfig(),
    *,
    on_epoch: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Train on days ``[0, train_days)``; ``on_epoch(epoch, loss)`` is called after each epoch.

    Inputs and targets are divided by ``scale_rps`` = the largest training target, stored with the
    weights. Loss: mean squared error; optimiser: Adam; batches drawn in a seeded random order.
    """
    import torch

    t0 = time.perf_counter()
    x_np, y_np, _ = supervised_windows(
        trace.rates_rps, trace.gaps, trace.day_range(0, config.train_days), stride_s=config.stride_s
    )
    if x_np.shape[0] == 0:
        raise ConfigError("the training days hold no gap-free 140 s window", field="trace")
    rng = np.random.default_rng(config.seed)
    if config.max_windows is not None and x_np.shape[0] > config.max_windows:
        keep = np.sort(rng.choice(x_np.shape[0], size=config.max_windows, replace=False))
        x_np, y_np = x_np[keep], y_np[keep]
    scale_rps = float(y_np.max()) or 1.0

    from ipa_energy.predict.lstm_torch import build_torch_model, weights_from_torch

    threads_before = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        torch.manual_seed(config.seed)
        model = build_torch_model(config.hidden_size)
        x = torch.from_numpy((x_np / scale_rps).astype(np.float32))
        y = torch.from_numpy((y_np / scale_rps).astype(np.float32))
        opt = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
        loss_fn = torch.nn.MSELoss()
        n = x.shape[0]
        loss_mean = float("nan")
        for epoch in range(config.epochs):
            order = torch.from_numpy(rng.permutation(n))
            total = 0.0
            model.train()
            for i in range(0, n, config.batch_size):
                idx = order[i : i + config.batch_size]
                opt.zero_grad()
                loss = loss_fn(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
                total += loss.item() * idx.shape[0]
            loss_mean = total / n
            if on_epoch is not None:
                on_epoch(epoch, loss_mean)
        model.eval()
    finally:
        torch.set_num_threads(threads_before)

    meta = {
        "trace": trace.source.rsplit("/", 1)[-1],
        "trace_seconds": trace.duration_s,
        "damping": trace.damping,
        "train_windows": int(n),
        "input": f"{N_BLOCKS} maxima of {BLOCK_S} s blocks (last {N_BLOCKS * BLOCK_S} s)",
        "target": f"max of the next {HORIZON_S} s",
        "final_loss": loss_mean,
        "torch": torch.__version__,
        "python": platform.python_version(),
        **asdict(config),
    }
    weights = weights_from_torch(model, scale_rps, meta)
    return TrainResult(weights, int(n), loss_mean, time.perf_counter() - t0)
