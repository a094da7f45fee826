"""The probe's models: a registry of sequence classifiers, all pure PyTorch (CPU or CUDA).

Every model maps tokens (B, T) to logits (B, T, n_classes) (token tagging) with one shape:

    embedding (+ positions, transformer only)
    -> layers x [ x + mixer(LayerNorm(x));  x + MLP(LayerNorm(x)) ]     pre-norm residual blocks
    -> LayerNorm -> Linear readout

The MLP is d -> 2d -> d with GELU in every model (except ssm-fnn, below; `mlp_ratio` changes
the 2, and `norm = "post"` gives post-norm blocks LN(x + f(x)), both for the paper's
transformer), so models differ only in the mixer:

    transformer   causal multi-head softmax attention (head size >= 16), learned or sinusoidal
                  positions
    mamba         Linear(MambaCore(x))               mamba-neg: decay 2 exp(Delta A) - 1
                  with conv_kernel k > 0: Linear(MambaCore(SiLU(conv_k(x)))), the Mamba
                  block's causal depthwise convolution (width 4 in Gu & Dao 2023)
    s4d           Linear(S4DCore(x))
    deltanet      Linear(DeltaNetCore(x)), beta in [0, beta_max]
    ids4          Linear(RMSNorm(IDS4Core(x))): the norm makes the readout blind to the scale of
                  the state, which grows or shrinks geometrically with a dense A(x). In the
                  first layer x is the one-hot token (the core's d is vocab_size), so A(x) =
                  A0 + A_in[token] is a free matrix per token (the setting of the earliest
                  feasibility runs, probes/README.md); with x a learned d_model-wide embedding instead, A(x) is confined to a
                  (d_model + 1)-dimensional affine family and a 1-layer ids4 (d = N = 32) did not
                  leave the loss plateau on S5 at n = 8 within 4,600 steps (measured), while
                  the one-hot core reached 100% in 1,000 steps.
    rnn/lstm/gru  torch.nn.RNN (tanh) / LSTM / GRU with hidden size d
    ssm-fnn       Nishikawa & Suzuki (ICLR 2025): a token-wise FNN before AND after an LTI SSM
                  (Linear(S4DCore(x)), a convolution with a fixed kernel), each FNN with
                  `fnn_depth` hidden layers of width `fnn_width` (0: 2d); every sub-layer is a
                  pre-norm residual like the others. Half the channels of the first layer's
                  core start as a one-step shift (`shift_init`), the rest as S4D

The cores (layers.py) compute exactly the zoo's equations; everything listed above is around
them. What this does not do: no gated branch or expansion as in the full Mamba block (its short
convolution is the conv_kernel option), no dropout, no weight tying.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tc0lab.probe.layers import DeltaNetCore, IDS4Core, MambaCore, S4DCore
from tc0lab.probe.scan import SCAN_MODES

MODEL_NAMES: tuple[str, ...] = (
    "transformer", "mamba", "mamba-neg", "s4d", "ids4", "deltanet", "rnn", "lstm", "gru",
    "ssm-fnn")
POSITIONS = ("learned", "sinusoidal")
NORMS = ("pre", "post")


@dataclass(frozen=True)
class ModelConfig:
    """What `build_model` builds. d_state, beta_max and scan only matter to the models that use them."""

    name: str
    vocab_size: int
    n_classes: int
    layers: int
    d_model: int
    d_state: int = 16
    max_len: int = 512
    positions: str = "learned"
    beta_max: float = 2.0
    scan: str = "parallel"  # or "sequential" (the reference loops)
    fnn_depth: int = 1      # ssm-fnn: hidden layers per token-wise FNN
    fnn_width: int = 0      # ssm-fnn: their width (0: 2 * d_model)
    mlp_ratio: int = 2      # every other model: the MLP is d -> mlp_ratio * d -> d
    norm: str = "pre"       # "pre": x + f(LN(x)); "post": LN(x + f(x)) (the paper's transformer)
    conv_kernel: int = 0    # mamba: causal depthwise conv of this width before the SSM; 0: none

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not isinstance(self.fnn_width, int) or self.fnn_width < 0:
            raise ValueError(f"fnn_width must be an integer >= 0, got {self.fnn_width!r}")
        if not isinstance(self.conv_kernel, int) or self.conv_kernel < 0:
            raise ValueError(f"conv_kernel must be an integer >= 0, got {self.conv_kernel!r}")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {self.norm!r}")
        for field in ("vocab_size", "n_classes", "layers", "d_model", "d_state", "max_len",
                      "fnn_depth", "mlp_ratio"):
            if not isinstance(getattr(self, field), int) or getattr(self, field) < 1:
                raise ValueError(f"{field} must be a positive integer, got {getattr(self, field)!r}")
        if self.positions not in POSITIONS:
            raise ValueError(f"positions must be one of {POSITIONS}, got {self.positions!r}")
        if self.scan not in SCAN_MODES:
            raise ValueError(f"scan must be one of {SCAN_MODES}, got {self.scan!r}")
        if not self.beta_max > 0:
            raise ValueError(f"beta_max must be > 0, got {self.beta_max!r}")


def _check_name(name: str) -> None:
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODEL_NAMES)}")


# ----------------------------------------------------------------------------- mixers


class CausalSelfAttention(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.heads = max(h for h in (8, 4, 2, 1) if d % h == 0 and (d // h >= 16 or h == 1))
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)

    def forward(self, x: Tensor) -> Tensor:
        batch, length, d = x.shape
        qkv = self.qkv(x).view(batch, length, 3, self.heads, d // self.heads)  # (B, T, 3, H, d/H)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, H, T, d/H)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, d/H)
        return self.out(y.transpose(1, 2).reshape(batch, length, d))


class CausalConv(nn.Module):
    """Depthwise causal convolution, y_t = bias + sum_k weight[k] * x_{t-k}, as shifted
    multiply-adds (torch's grouped Conv1d is several times slower on CPU at these sizes)."""

    def __init__(self, d: int, kernel: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(kernel, d) / math.sqrt(kernel))
        self.bias = nn.Parameter(torch.zeros(d))

    def forward(self, x: Tensor) -> Tensor:
        length = x.shape[1]
        y = self.bias + self.weight[0] * x
        for k in range(1, min(self.weight.shape[0], length)):
            y = y + self.weight[k] * F.pad(x, (0, 0, k, 0))[:, :length]   # x shifted by k
        return y


class ConvMixer(nn.Sequential):
    """Linear(core(SiLU(causal depthwise conv(x)))): the short convolution of the Mamba block
    (Gu & Dao 2023, Fig. 3, width 4) before the core; item 0 is the core, as in every mixer."""

    def __init__(self, core: nn.Module, d: int, kernel: int):
        super().__init__(core, nn.Linear(d, d), CausalConv(d, kernel))

    def forward(self, x: Tensor) -> Tensor:
        core, out, conv = self[0], self[1], self[2]
        return out(core(F.silu(conv(x))))


class TorchRecurrent(nn.Module):
    """torch.nn.RNN/LSTM/GRU as a mixer: keep the output sequence, drop the final state."""

    def __init__(self, kind: str, d: int):
        super().__init__()
        self.rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind](d, d, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.rnn(x)[0]


def _mixer(config: ModelConfig, first_layer: bool) -> nn.Module:
    d, n, scan = config.d_model, config.d_state, config.scan
    name = config.name
    if name == "transformer":
        return CausalSelfAttention(d)
    if name in ("rnn", "lstm", "gru"):
        return TorchRecurrent(name, d)
    if name == "ids4":
        d_in = config.vocab_size if first_layer else d
        core = IDS4Core(d_in, n, scan, one_hot_input=first_layer)
        return nn.Sequential(core, nn.RMSNorm(d_in), nn.Linear(d_in, d))
    core = {
        "mamba": lambda: MambaCore(d, n, negative=False, scan=scan),
        "mamba-neg": lambda: MambaCore(d, n, negative=True, scan=scan),
        "s4d": lambda: S4DCore(d, n, scan),
        "ssm-fnn": lambda: (shift_init(S4DCore(d, n, scan)) if first_layer
                            else S4DCore(d, n, scan)),
        "deltanet": lambda: DeltaNetCore(d, n, config.beta_max, scan),
    }[name]()
    if config.conv_kernel and name in ("mamba", "mamba-neg"):
        return ConvMixer(core, d, config.conv_kernel)
    return nn.Sequential(core, nn.Linear(d, d))


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


# ----------------------------------------------------------------------------- the model


class Block(nn.Module):
    def __init__(self, config: ModelConfig, first_layer: bool):
        super().__init__()
        d = config.d_model
        # the first ids4 layer reads the one-hot tokens instead of the normalised stream
        self.reads_tokens = first_layer and config.name == "ids4"
        self.post_norm = config.norm == "post"
        self.mixer_norm = None if self.reads_tokens else nn.LayerNorm(d)
        self.mixer = _mixer(config, first_layer)
        self.mlp_norm = nn.LayerNorm(d)
        self.mlp = _fnn(config)
        # ssm-fnn: a token-wise FNN also before the SSM (Nishikawa & Suzuki's f = FNN o SSM o FNN)
        self.pre_mlp = _fnn(config) if config.name == "ssm-fnn" else None
        self.pre_norm = nn.LayerNorm(d) if self.pre_mlp is not None else None

    def forward(self, x: Tensor, tokens: Tensor) -> Tensor:
        if self.pre_mlp is not None:
            x = x + self.pre_mlp(self.pre_norm(x))
        if self.reads_tokens:
            mixer_input = F.one_hot(tokens, self.mixer[0].D.shape[0]).to(x.dtype)  # (B, T, V)
        elif self.post_norm:
            return self._post_norm_forward(x)
        else:
            mixer_input = self.mixer_norm(x)  # (B, T, d)
        x = x + self.mixer(mixer_input)
        return x + self.mlp(self.mlp_norm(x))

    def _post_norm_forward(self, x: Tensor) -> Tensor:
        """LN(x + f(x)) per sub-layer, as torch.nn.TransformerEncoderLayer(norm_first=False)."""
        x = self.mixer_norm(x + self.mixer(x))
        return self.mlp_norm(x + self.mlp(x))


def _fnn(config: ModelConfig) -> nn.Sequential:
    """Token-wise d -> width (GELU) x depth -> d; d -> mlp_ratio d -> d unless ssm-fnn sets
    otherwise."""
    d = config.d_model
    depth, width = (config.fnn_depth, config.fnn_width or 2 * d) if config.name == "ssm-fnn" \
        else (1, config.mlp_ratio * d)
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(d if i == 0 else width, width), nn.GELU()]
    return nn.Sequential(*layers, nn.Linear(width, d))


class SequenceTagger(nn.Module):
    """tokens (B, T) -> logits (B, T, n_classes); the first module of each mixer is its core."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        d = config.d_model
        self.embedding = nn.Embedding(config.vocab_size, d)
        self.positions = _positions(config)
        self.blocks = nn.ModuleList(Block(config, first_layer=i == 0) for i in range(config.layers))
        self.final_norm, self.readout = nn.LayerNorm(d), nn.Linear(d, config.n_classes)

    def forward(self, tokens: Tensor) -> Tensor:
        length = tokens.shape[1]
        if length > self.config.max_len and self.positions is not None:
            raise ValueError(f"sequence length {length} exceeds max_len {self.config.max_len}")
        x = self.embedding(tokens)  # (B, T, d)
        if self.positions is not None:
            x = x + self.positions(length)
        for block in self.blocks:
            x = block(x, tokens)
        return self.readout(self.final_norm(x))  # (B, T, n_classes)

    def cores(self) -> list[nn.Module]:
        """The recurrent cores, one per layer (empty for transformer and rnn/lstm/gru)."""
        return [block.mixer[0] for block in self.blocks
                if isinstance(block.mixer, nn.Sequential)]


class LearnedPositions(nn.Module):
    def __init__(self, max_len: int, d: int):
        super().__init__()
        self.table = nn.Embedding(max_len, d)

    def forward(self, length: int) -> Tensor:
        return self.table.weight[:length]  # (T, d)


class SinusoidalPositions(nn.Module):
    def __init__(self, max_len: int, d: int):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)  # (max_len, 1)
        frequency = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))  # (ceil(d/2),)
        table = torch.zeros(max_len, d)
        table[:, 0::2] = torch.sin(position * frequency)
        table[:, 1::2] = torch.cos(position * frequency[: d // 2])
        self.register_buffer("table", table, persistent=False)

    def forward(self, length: int) -> Tensor:
        return self.table[:length]  # (T, d)


def _positions(config: ModelConfig) -> nn.Module | None:
    if config.name != "transformer":
        return None  # recurrent mixers know the order of the tokens without positions
    kind = LearnedPositions if config.positions == "learned" else SinusoidalPositions
    return kind(config.max_len, config.d_model)


# ----------------------------------------------------------------------------- registry API


def build_model(config: ModelConfig) -> nn.Module:
    """The model named by config.name (see MODEL_NAMES)."""
    _check_name(config.name)
    return SequenceTagger(config)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def width_for_params(name: str, layers: int, target_params: int, vocab_size: int, n_classes: int,
                     d_state: int = 16, **config_fields) -> int:
    """The d_model whose parameter count is closest to target_params (other fields as given).

    Some parameters do not grow with d_model (ids4's first layer holds vocab_size * d_state**2),
    so below a model's floor the answer is the smallest width, 1 or 2; check the count.
    """
    def count(d: int) -> int:
        config = ModelConfig(name, vocab_size, n_classes, layers, d, d_state, **config_fields)
        with torch.device("meta"):  # shapes only: no memory, no init cost
            return count_parameters(build_model(config))

    low, high = 1, 2
    while count(high) < target_params:
        low, high = high, high * 2
    while high - low > 1:  # counts grow with d: find the first d reaching the target
        middle = (low + high) // 2
        low, high = (middle, high) if count(middle) < target_params else (low, middle)
    return min((low, high), key=lambda d: abs(count(d) - target_params))


_LEARNING_RATES = {"transformer": 1e-3, "ids4": 3e-3}


def recommended_hyperparameters(name: str) -> dict:
    """Starting points for AdamW. ids4 (3e-3) and transformer (1e-3) are from the feasibility
    runs on this kind of 2-core machine; the rest use 1e-3, not tuned per model."""
    _check_name(name)
    return {"lr": _LEARNING_RATES.get(name, 1e-3), "weight_decay": 0.01, "betas": (0.9, 0.98)}
