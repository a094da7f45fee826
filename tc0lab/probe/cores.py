"""The recurrent cores of the probe's models: exactly the zoo's equations, in torch.

A recipe (recipes.py) names its core by class name; `shift_init` is the one first-layer
initialisation a recipe names (ssm-fnn).

Each core maps x: (B, T, d) to y: (B, T, d) by the equations of the same name in
tc0lab/spec/zoo.py (the contract between the two halves of tc0lab), and its parameters
carry the zoo's array names, so `core_arrays(core)` hands the same weights to the numpy
reference and tests/test_probe_matches_spec.py checks that both compute the same function.
Embedding, norms, residuals, MLPs and readout live in models.py, around these cores.

Glossary (code -> zoo symbol): d = d_model (vocab_size for the first ids4 layer),
N = d_state, delta = Delta (step size), a = per-step decay or transition, b = input term,
h = state, y = output.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tc0lab.probe.scan import diagonal_scan, matrix_scan


def _parameter(*shape: int) -> nn.Parameter:
    return nn.Parameter(torch.empty(shape))


class MambaCore(nn.Module):
    """Mamba / S6 (Gu & Dao 2023, Alg. 2) without the block around it; `negative=True` gives
    mamba-neg, decay 2 exp(Delta A) - 1 in (-1, 1) (Grazzi et al. 2025)."""

    def __init__(self, d: int, n: int, negative: bool = False, scan: str = "parallel"):
        super().__init__()
        self.negative, self.scan = negative, scan
        self.W_delta, self.b_delta = _parameter(d, d), _parameter(d)
        self.A_log = _parameter(d, n)
        self.W_B, self.W_C, self.D = _parameter(n, d), _parameter(n, d), _parameter(d)
        with torch.no_grad():
            nn.init.uniform_(self.W_delta, -1 / math.sqrt(d), 1 / math.sqrt(d))
            self.b_delta.copy_(_inverse_softplus(_log_uniform(d, 1e-3, 1e-1)))
            self.A_log.copy_(torch.log(torch.arange(1, n + 1).float()).expand(d, n))  # S4D-real
            nn.init.normal_(self.W_B, std=1 / math.sqrt(d))
            nn.init.normal_(self.W_C, std=1 / math.sqrt(d))
            self.D.fill_(1.0)

    def forward(self, x: Tensor) -> Tensor:
        delta = F.softplus(x @ self.W_delta.T + self.b_delta)  # (B, T, d)
        decay = torch.exp(delta.unsqueeze(-1) * -torch.exp(self.A_log))  # (B, T, d, N)
        if self.negative:
            decay = 2 * decay - 1
        B_t, C_t = x @ self.W_B.T, x @ self.W_C.T  # (B, T, N)
        inputs = (delta * x).unsqueeze(-1) * B_t.unsqueeze(2)  # (B, T, d, N)
        h = diagonal_scan(decay, inputs, mode=self.scan)  # (B, T, d, N)
        return (h @ C_t.unsqueeze(-1)).squeeze(-1) + self.D * x  # (B, T, d)


class S4DCore(nn.Module):
    """S4D (Gu et al. 2022), real diagonal, time-invariant: zero-order-hold decay, Euler input."""

    def __init__(self, d: int, n: int, scan: str = "parallel"):
        super().__init__()
        self.scan = scan
        self.log_dt, self.A_log = _parameter(d), _parameter(d, n)
        self.B, self.C, self.D = _parameter(d, n), _parameter(d, n), _parameter(d)
        with torch.no_grad():
            self.log_dt.copy_(torch.log(_log_uniform(d, 1e-3, 1e-1)))
            self.A_log.copy_(torch.log(torch.arange(1, n + 1).float()).expand(d, n))
            self.B.fill_(1.0)
            nn.init.normal_(self.C, std=1 / math.sqrt(n))
            self.D.fill_(1.0)

    def forward(self, x: Tensor) -> Tensor:
        dt = torch.exp(self.log_dt).unsqueeze(-1)  # (d, 1)
        decay = torch.exp(-dt * torch.exp(self.A_log))  # (d, N), the same at every step
        inputs = x.unsqueeze(-1) * (dt * self.B)  # (B, T, d, N)
        h = diagonal_scan(decay, inputs, mode=self.scan)  # (B, T, d, N)
        return (h * self.C).sum(-1) + self.D * x  # (B, T, d)


class IDS4Core(nn.Module):
    """Input-dependent dense transition (Merrill et al. 2024, Sec. 5): A(x) = A0 + sum_i x_i A_in[i].

    Initialised so that each A(x) is about I + 0.5 G / sqrt(N), G standard normal, with a random
    learned h0, for x with unit-variance entries (a LayerNorm output) or, with one_hot_input, for
    one-hot x, where A(x) = A0 + A_in[token] is a free matrix per token.
    """

    def __init__(self, d: int, n: int, scan: str = "parallel", one_hot_input: bool = False):
        super().__init__()
        self.scan = scan
        self.A0, self.A_in = _parameter(n, n), _parameter(d, n, n)
        self.B, self.C, self.D, self.h0 = _parameter(n, d), _parameter(d, n), _parameter(d), _parameter(n)
        with torch.no_grad():
            self.A0.copy_(torch.eye(n))
            nn.init.normal_(self.A_in, std=0.5 / math.sqrt(n * (1 if one_hot_input else d)))
            nn.init.normal_(self.B, std=0.1 / math.sqrt(d))
            nn.init.normal_(self.C, std=1 / math.sqrt(n))
            self.D.zero_()
            nn.init.normal_(self.h0, std=1 / math.sqrt(n))

    def forward(self, x: Tensor) -> Tensor:
        batch, length, d = x.shape
        n = self.A0.shape[0]
        A = self.A0 + (x @ self.A_in.view(d, n * n)).view(batch, length, n, n)  # (B, T, N, N)
        h = matrix_scan(A, x @ self.B.T, h0=self.h0, mode=self.scan)  # (B, T, N)
        return h @ self.C.T + self.D * x  # (B, T, d)


class DeltaNetCore(nn.Module):
    """DeltaNet (Schlag et al. 2021; Yang et al. 2024) with value = x and beta in [0, beta_max];
    beta_max = 2 allows reflections, eigenvalue 1 - beta in [-1, 1] (Grazzi et al. 2025)."""

    def __init__(self, d: int, n: int, beta_max: float = 2.0, scan: str = "parallel"):
        super().__init__()
        self.beta_max, self.scan = beta_max, scan
        self.W_k, self.W_q = _parameter(n, d), _parameter(n, d)
        self.w_beta, self.b_beta, self.D = _parameter(d), _parameter(), _parameter(d)
        with torch.no_grad():
            nn.init.normal_(self.W_k, std=1 / math.sqrt(d))
            nn.init.normal_(self.W_q, std=1 / math.sqrt(d))
            nn.init.normal_(self.w_beta, std=1 / math.sqrt(d))
            self.b_beta.zero_()
            self.D.fill_(1.0)

    def forward(self, x: Tensor) -> Tensor:
        k_raw = x @ self.W_k.T  # (B, T, N)
        k = k_raw / k_raw.square().sum(-1, keepdim=True).sqrt()  # exact unit norm, as in the zoo
        beta = self.beta_max * torch.sigmoid(x @ self.w_beta + self.b_beta)  # (B, T)
        beta = beta[..., None, None]  # (B, T, 1, 1)
        k_col = k.unsqueeze(-1)  # (B, T, N, 1)
        eye = torch.eye(k.shape[-1], dtype=x.dtype, device=x.device)
        A = eye - beta * (k_col @ k_col.transpose(-1, -2))  # (B, T, N, N)
        h = matrix_scan(A, beta * k_col * x.unsqueeze(-2), mode=self.scan)  # (B, T, N, d)
        q = x @ self.W_q.T  # (B, T, N); column c of h is the state h_{t,c} of channel c
        return (q.unsqueeze(-2) @ h).squeeze(-2) + self.D * x  # (B, T, d)


# The first ssm-fnn layer's shift channels at initialisation (see shift_init).
SHIFT_SHARE = 0.5              # share of the channels that start as a one-step shift
SHIFT_DECAY = math.exp(-5.0)   # lag-1 response 1, lag-2 response 0.007


def shift_init(core: S4DCore) -> S4DCore:
    """Re-initialise the FIRST ssm-fnn layer's S4D core so that half of its channels start as an
    (approximate) one-step shift; the other channels, and every later layer, keep the S4D init.

    Why: recall with LTI SSMs needs a token to meet its predecessor (the constructive check
    `tc0lab prove ssm-fnn-recall` starts with a delay SSM, then a running sum; H3, Fu et al.
    ICLR 2023, adds a shift SSM before its diagonal SSM for the same reason). The S4D init
    (dt in [1e-3, 1e-1], decays in [0.45, 1)) has no such kernel: its fastest decay responds
    0.45x as much at lag 2 as at lag 1 and its lag-1 response is of order dt <= 0.1. Its slow decays
    are the long memory the later layers need, so they keep it. Measured (probes/README.md):
    with the S4D init a 2-layer ssm-fnn stayed at chance on recall for 7,641 steps; with shift
    channels in layer 1 it left the plateau within 90 s (shift channels in every layer did not).
    The equations are the zoo's S4D (kernel C dt B decay^k, plus D at lag 0); only the starting
    values differ. A shift channel uses state 0 with dt = 1, decay e^-5, C = 1/decay and
    D = -C (lag-0 response 0, lag-1 response 1); its other states start with C = 0 (silent,
    trainable)."""
    d = core.D.shape[0]
    shift = slice(0, max(1, int(d * SHIFT_SHARE)))
    with torch.no_grad():
        core.log_dt[shift] = 0.0                                 # dt = 1
        core.A_log[shift] = math.log(-math.log(SHIFT_DECAY))
        core.B[shift] = 1.0
        core.C[shift] = 0.0
        core.C[shift, 0], core.D[shift] = 1 / SHIFT_DECAY, -1 / SHIFT_DECAY
    return core


def core_arrays(core: nn.Module) -> dict[str, np.ndarray]:
    """The core's weights as the zoo spec's named float64 arrays (for `Recurrence.bind`)."""
    return {name: p.detach().cpu().double().numpy().copy() for name, p in core.named_parameters()}


def load_core_arrays(core: nn.Module, arrays: dict[str, np.ndarray]) -> None:
    """Set the core's weights from zoo-named arrays (the inverse of `core_arrays`)."""
    parameters = dict(core.named_parameters())
    if set(arrays) != set(parameters):
        raise ValueError(f"expected arrays {sorted(parameters)}, got {sorted(arrays)}")
    with torch.no_grad():
        for name, value in arrays.items():
            parameters[name].copy_(torch.as_tensor(np.asarray(value)).reshape(parameters[name].shape))


def run_core(core: nn.Module, x: np.ndarray) -> np.ndarray:
    """Run the core alone in float64 on one sequence x: (n, d) -> y: (n, d)."""
    core64 = copy.deepcopy(core).to(device="cpu", dtype=torch.float64)
    with torch.no_grad():
        return core64(torch.as_tensor(x, dtype=torch.float64).unsqueeze(0))[0].numpy()


def _log_uniform(size: int, low: float, high: float) -> Tensor:
    return torch.exp(torch.empty(size).uniform_(math.log(low), math.log(high)))


def _inverse_softplus(y: Tensor) -> Tensor:
    return y + torch.log(-torch.expm1(-y))
