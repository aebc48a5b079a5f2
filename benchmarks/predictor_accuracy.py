"""Load predictors side by side: held-out SMAPE on the Twitter trace and the cost of one prediction.

    .venv/bin/python benchmarks/predictor_accuracy.py                 # default trace location
    .venv/bin/python benchmarks/predictor_accuracy.py --trace PATH --repeats 200

Accuracy: every predictor scored on the same gap-free windows of the held-out days (14 to the end, one
window every 10 s; history = the last 120 s, target = the max load of the next 20 s), with the shipped
LSTM weights. Cost: the median wall time of one ``predict()`` call on a 120 s history (what the adapter
does every 10 s), for each registered predictor and for the same LSTM evaluated by PyTorch, measured in
this run; plus the time to import torch in a fresh interpreter, which numpy inference avoids in every
simulation worker.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np


def _median_call_s(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", default=None, help="Twitter per-second trace (default: the shared copy).")
    ap.add_argument("--repeats", type=int, default=100, help="predict() calls timed per predictor.")
    args = ap.parse_args()

    from ipa_energy.predict import PREDICTORS, get_predictor
    from ipa_energy.predict.evaluate import evaluate_predictors, held_out_windows
    from ipa_energy.workloads.twitter import load_twitter_trace

    trace = load_twitter_trace(args.trace)
    held = held_out_windows(trace, first_day=14.0)
    preds = {name: get_predictor(name) for name in PREDICTORS.names()}
    print(f"trace {trace.source}: held-out days 14-{trace.duration_s / 86400:.2f}, "
          f"{held.targets_rps.size:,} windows (every 10 s)")
    print(f"{'predictor':<12} {'SMAPE %':>8} {'MAE rps':>8} {'under %':>8} {'predict() median':>18}")
    history = held.histories_rps[len(held.histories_rps) // 2].copy()
    for s in evaluate_predictors(preds, held):
        t = _median_call_s(lambda p=preds[s.name]: p.predict(history), args.repeats)
        print(f"{s.name:<12} {s.smape_pct:>8.2f} {s.mae_rps:>8.3f} {s.under_pct:>8.1f} {t * 1e6:>15.1f} us")

    import torch

    from ipa_energy.predict.features import lstm_features, lstm_features_many
    from ipa_energy.predict.lstm import LSTMPredictor, lstm_forward
    from ipa_energy.predict.lstm_torch import torch_from_weights, torch_predict

    lstm = preds["lstm"]
    assert isinstance(lstm, LSTMPredictor)
    feats = lstm_features(history)
    assert feats is not None
    model = torch_from_weights(lstm.weights)
    x = torch.from_numpy((feats[None, :] / lstm.weights.scale_rps).astype(np.float32))

    def torch_once() -> float:
        with torch.no_grad():
            return float(model(x)[0]) * lstm.weights.scale_rps

    t_torch = _median_call_s(torch_once, args.repeats)
    t_np = _median_call_s(lambda: lstm.predict(history), args.repeats)
    print(f"lstm one prediction (120 s history): numpy {t_np * 1e6:.1f} us (features included), "
          f"torch {t_torch * 1e6:.1f} us (model built once, features precomputed); "
          f"ratio torch/numpy {t_torch / t_np:.2f}x")
    code = "import time; t = time.perf_counter(); import torch; print(time.perf_counter() - t)"
    imports = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True).stdout) for _ in range(3)]
    print(f"import torch in a fresh interpreter: median {statistics.median(imports):.2f} s of 3 "
          "(numpy inference never imports it)")
    f = lstm_features_many(held.histories_rps)
    diff = np.abs(lstm_forward(lstm.weights, f) - torch_predict(lstm.weights, f))
    print(f"numpy vs torch output on all {f.shape[0]:,} held-out windows: max |diff| {diff.max():.2e} rps")


if __name__ == "__main__":
    main()
