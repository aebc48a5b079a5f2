"""The LSTM predictor as a PyTorch module (for training), and exact conversion to and from LSTMWeights.

torch is imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ipa_energy.predict.lstm import LSTMWeights

if TYPE_CHECKING:
    import torch

HIDDEN_SIZE = 25


def build_torch_model(hidden_size: int = HIDDEN_SIZE) -> torch.nn.Module:
    """``nn.LSTM(1, hidden_size)`` over the 12 scaled inputs, then ``nn.Linear(hidden_size, 1)`` on the
    last hidden state. Input ``(n, 12)`` in units of ``scale_rps``; output ``(n,)`` in the same units."""
    from torch import nn

    class LoadLSTM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(input_size=1, hidden_size=hidden_size, batch_first=True)
            self.dense = nn.Linear(hidden_size, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            _, (h, _) = self.lstm(x.unsqueeze(-1))
            out: torch.Tensor = self.dense(h[-1]).squeeze(-1)
            return out

    return LoadLSTM()


def weights_from_torch(model: torch.nn.Module, scale_rps: float, meta: dict[str, Any]) -> LSTMWeights:
    """Copy a trained module's parameters into :class:`LSTMWeights`."""
    sd = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    return LSTMWeights(
        w_ih=sd["lstm.weight_ih_l0"], w_hh=sd["lstm.weight_hh_l0"],
        b_ih=sd["lstm.bias_ih_l0"], b_hh=sd["lstm.bias_hh_l0"],
        w_out=sd["dense.weight"], b_out=sd["dense.bias"],
        scale_rps=scale_rps, meta=meta,
    )


def torch_from_weights(weights: LSTMWeights) -> torch.nn.Module:
    """A module holding exactly ``weights`` (eval mode)."""
    import torch

    model = build_torch_model(weights.hidden_size)
    state = {
        "lstm.weight_ih_l0": weights.w_ih, "lstm.weight_hh_l0": weights.w_hh,
        "lstm.bias_ih_l0": weights.b_ih, "lstm.bias_hh_l0": weights.b_hh,
        "dense.weight": weights.w_out, "dense.bias": weights.b_out,
    }
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    model.eval()
    return model


def torch_predict(weights: LSTMWeights, features_rps: NDArray[np.float64]) -> NDArray[np.float64]:
    """The torch model's output in rps for ``(n, 12)`` features (the reference for numpy inference)."""
    import torch

    model = torch_from_weights(weights)
    x = torch.from_numpy(np.asarray(features_rps, dtype=np.float32) / np.float32(weights.scale_rps))
    with torch.no_grad():
        y = model(x).numpy().astype(np.float64)
    return y * weights.scale_rps
