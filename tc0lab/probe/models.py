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

Each model is one recipe (recipes.py: `MODELS`): which mixer and core, what the first layer
reads, where the FNNs go, positions; this module builds any recipe and compares no names. The
cores (cores.py) compute exactly the zoo's equations; everything listed above is around them. What this does not do: no gated branch or expansion as in the full Mamba block (its short
convolution is the conv_kernel option), no dropout, no weight tying.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tc0lab.probe import cores
from tc0lab.probe.recipes import ModelRecipe, recipe
from tc0lab.probe.scan import SCAN_MODES

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
        recipe(self.name)
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
        self.rnn = getattr(nn, kind)(d, d, batch_first=True)   # kind: RNN, LSTM or GRU

    def forward(self, x: Tensor) -> Tensor:
        return self.rnn(x)[0]


def _mixer(config: ModelConfig, model: ModelRecipe, first_layer: bool) -> nn.Module:
    d = config.d_model
    if model.mixer == "attention":
        return CausalSelfAttention(d)
    if model.mixer == "recurrent":
        return TorchRecurrent(model.core, d)
    reads_tokens = first_layer and model.first_layer == "one-hot"
    d_in = config.vocab_size if reads_tokens else d
    options = {**dict(model.core_options),
               **{name: getattr(config, name) for name in model.config_options}}
    if reads_tokens:
        options["one_hot_input"] = True
    core = getattr(cores, model.core)(d_in, config.d_state, scan=config.scan, **options)
    if first_layer and model.first_layer_init:
        core = getattr(cores, model.first_layer_init)(core)
    if model.core_norm:
        return nn.Sequential(core, nn.RMSNorm(d_in), nn.Linear(d_in, d))
    if model.conv and config.conv_kernel:
        return ConvMixer(core, d, config.conv_kernel)
    return nn.Sequential(core, nn.Linear(d, d))


# ----------------------------------------------------------------------------- the model


class Block(nn.Module):
    def __init__(self, config: ModelConfig, first_layer: bool):
        super().__init__()
        d, model = config.d_model, recipe(config.name)
        # a first layer of recipe first_layer "one-hot" reads the tokens, not the stream
        self.reads_tokens = first_layer and model.first_layer == "one-hot"
        self.vocab_size = config.vocab_size
        self.post_norm = config.norm == "post"
        self.mixer_norm = None if self.reads_tokens else nn.LayerNorm(d)
        self.mixer = _mixer(config, model, first_layer)
        self.mlp_norm = nn.LayerNorm(d)
        self.mlp = _fnn(config, model)
        # fnns "around": a token-wise FNN also before the mixer (Nishikawa & Suzuki's
        # f = FNN o SSM o FNN)
        self.pre_mlp = _fnn(config, model) if model.fnns == "around" else None
        self.pre_norm = nn.LayerNorm(d) if self.pre_mlp is not None else None

    def forward(self, x: Tensor, tokens: Tensor) -> Tensor:
        if self.pre_mlp is not None:
            x = x + self.pre_mlp(self.pre_norm(x))
        if self.reads_tokens:
            mixer_input = F.one_hot(tokens, self.vocab_size).to(x.dtype)  # (B, T, V)
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


def _fnn(config: ModelConfig, model: ModelRecipe) -> nn.Sequential:
    """Token-wise d -> width (GELU) x depth -> d: d -> mlp_ratio d -> d, or, for fnns
    "around", fnn_depth hidden layers of width fnn_width (0: 2d)."""
    d = config.d_model
    depth, width = (config.fnn_depth, config.fnn_width or 2 * d) if model.fnns == "around" \
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
    if not recipe(config.name).positions:
        return None  # recurrent mixers know the order of the tokens without positions
    kind = LearnedPositions if config.positions == "learned" else SinusoidalPositions
    return kind(config.max_len, config.d_model)


# ----------------------------------------------------------------------------- registry API


def build_model(config: ModelConfig) -> nn.Module:
    """The model named by config.name (see recipes.MODELS)."""
    recipe(config.name)
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
