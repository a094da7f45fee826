"""Named architectures, built from the spec dataclasses exactly as a user would.

Glossary (code name -> symbol in the papers):
    d        d_model, width of a token x_t
    N        d_state, state size per channel (Mamba's N)
    Delta    step size, softplus(W_delta x + b_delta)          (Mamba, Gu & Dao 2023)
    A_log    log(-A): the continuous-time decay rates are -exp(A_log)
    a        the discrete transition (the diagonal of A(x_t) in Illusion Def. 2.1)
    beta     DeltaNet's write strength in [0, beta_max]     (Yang et al. 2024)

The recurrent cores follow the equations in the module's companion contract (the probe's
torch models implement the same equations; `tests/test_probe_matches_spec.py` checks it).
State coordinates are laid out channel-major: r = c * N + s.

The checker never reads `Recurrence.name`: a zoo layer under another name gets the same
verdict, because every decision is made from the matrices built here.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
from typing import Callable, Iterator

import numpy as np
import sympy

from tc0lab.spec.architectures import complex_diagonal, convolution, elementwise_gates, householder, liquid, selection, slstm
from tc0lab.spec.building import diag, linear, normal, uniform
from tc0lab.spec.functions import apply, rsqrt, sigmoid, softplus
from tc0lab.spec.mixers import Mixer
from tc0lab.spec.recurrence import (AttentionLayer, Block, Recurrence, SpecError, Stack,
                                    TokenMap, input_symbols, symbol_array)

Initializer = Callable[[np.random.Generator], dict]


def _mamba_like(d: int, N: int, transition: str) -> Recurrence:
    """Mamba (S6): diagonal, input-dependent decays exp(Delta A); see module docstring."""
    x = input_symbols(d)
    W_delta, b_delta = symbol_array("W_delta", (d, d)), symbol_array("b_delta", (d,))
    A_log, D = symbol_array("A_log", (d, N)), symbol_array("D", (d,))
    W_B, W_C = symbol_array("W_B", (N, d)), symbol_array("W_C", (N, d))
    delta = [softplus(e + b) for e, b in zip(linear(W_delta, x), b_delta)]
    B_t, C_t = linear(W_B, x), linear(W_C, x)
    decays = []
    for c in range(d):
        for s in range(N):
            a = sympy.exp(-sympy.exp(A_log[c, s]) * delta[c])
            decays.append(2 * a - 1 if transition == "negative" else a)
    B = sympy.zeros(d * N, d)
    C = sympy.zeros(d, d * N)
    for c in range(d):
        for s in range(N):
            B[c * N + s, c] = delta[c] * B_t[s]
            C[c, c * N + s] = C_t[s]
    arrays = {"W_delta": W_delta, "b_delta": b_delta, "A_log": A_log, "W_B": W_B, "W_C": W_C, "D": D}
    name = "mamba-neg" if transition == "negative" else "mamba"
    return Recurrence(name, x, diag(decays), B, C, diag(D), arrays)


def _mamba2(d: int, N: int) -> Recurrence:
    """Mamba-2 (SSD): one scalar decay per token, times the identity."""
    x = input_symbols(d)
    w_delta, b_delta = symbol_array("w_delta", (d,)), symbol_array("b_delta", ())
    A_log, D = symbol_array("A_log", ()), symbol_array("D", (d,))
    W_B, W_C = symbol_array("W_B", (N, d)), symbol_array("W_C", (N, d))
    delta = softplus(linear(w_delta[None, :], x)[0] + b_delta[()])
    a = sympy.exp(-sympy.exp(A_log[()]) * delta)
    B_t, C_t = linear(W_B, x), linear(W_C, x)
    B = sympy.zeros(d * N, d)
    C = sympy.zeros(d, d * N)
    for c in range(d):
        for s in range(N):
            B[c * N + s, c] = delta * B_t[s]
            C[c, c * N + s] = C_t[s]
    arrays = {"w_delta": w_delta, "b_delta": b_delta, "A_log": A_log, "W_B": W_B, "W_C": W_C, "D": D}
    return Recurrence("mamba2", x, sympy.eye(d * N) * a, B, C, diag(D), arrays)


def _s4d(d: int, N: int) -> Recurrence:
    """S4D: fixed diagonal decays exp(-dt exp(A_log)) (linear time-invariant)."""
    x = input_symbols(d)
    log_dt, A_log = symbol_array("log_dt", (d,)), symbol_array("A_log", (d, N))
    B_, C_, D = symbol_array("B", (d, N)), symbol_array("C", (d, N)), symbol_array("D", (d,))
    decays, B, C = [], sympy.zeros(d * N, d), sympy.zeros(d, d * N)
    for c in range(d):
        dt = sympy.exp(log_dt[c])
        for s in range(N):
            decays.append(sympy.exp(-dt * sympy.exp(A_log[c, s])))
            B[c * N + s, c] = dt * B_[c, s]
            C[c, c * N + s] = C_[c, s]
    arrays = {"log_dt": log_dt, "A_log": A_log, "B": B_, "C": C_, "D": D}
    return Recurrence("s4d", x, diag(decays), B, C, diag(D), arrays)


def _ssm_fnn(d: int, N: int) -> Recurrence:
    """The SSM core of Nishikawa & Suzuki's SSM+FNN (ICLR 2025): linear time-invariant, so a
    convolution with a fixed kernel; the FNNs around it are token-wise. Same equations as S4D."""
    return dataclasses.replace(_s4d(d, N), name="ssm-fnn")


def _dense(name: str, d: int, N: int, nonlinearity: str | None = None) -> Recurrence:
    """A fixed dense transition: S4 (linear) or the RNN-SSM (wrapped in a nonlinearity)."""
    x = input_symbols(d)
    A, B, C, D = (symbol_array("A", (N, N)), symbol_array("B", (N, d)),
                  symbol_array("C", (d, N)), symbol_array("D", (d,)))
    arrays = {"A": A, "B": B, "C": C, "D": D}
    return Recurrence(name, x, sympy.Matrix(A), sympy.Matrix(B), sympy.Matrix(C), diag(D),
                      arrays, nonlinearity=nonlinearity)


def _gla(d: int, N: int) -> Recurrence:
    """Gated linear attention with diagonal sigmoid gates; the value is the token itself."""
    x = input_symbols(d)
    W_alpha, b_alpha = symbol_array("W_alpha", (N, d)), symbol_array("b_alpha", (N,))
    W_k, W_q = symbol_array("W_k", (N, d)), symbol_array("W_q", (N, d))
    gates = [sigmoid(e + b) for e, b in zip(linear(W_alpha, x), b_alpha)]
    k, q = linear(W_k, x), linear(W_q, x)
    decays, B, C = [], sympy.zeros(N * d, d), sympy.zeros(d, N * d)
    for s in range(N):
        for c in range(d):
            decays.append(gates[s])
            B[s * d + c, c] = k[s]
            C[c, s * d + c] = q[s]
    arrays = {"W_alpha": W_alpha, "b_alpha": b_alpha, "W_k": W_k, "W_q": W_q}
    return Recurrence("gla", x, diag(decays), B, C, sympy.zeros(d, d), arrays)


def _ids4(d: int, N: int) -> Recurrence:
    """IDS4 (Illusion Sec. 5): a dense transition that is an affine function of the input."""
    x = input_symbols(d)
    A0, A_in = symbol_array("A0", (N, N)), symbol_array("A_in", (d, N, N))
    B, C, D, h0 = (symbol_array("B", (N, d)), symbol_array("C", (d, N)),
                   symbol_array("D", (d,)), symbol_array("h0", (N,)))
    A = sympy.Matrix(A0) + sum((x[i] * sympy.Matrix(A_in[i]) for i in range(d)), sympy.zeros(N, N))
    arrays = {"A0": A0, "A_in": A_in, "B": B, "C": C, "D": D, "h0": h0}
    return Recurrence("ids4", x, A, sympy.Matrix(B), sympy.Matrix(C), diag(D), arrays,
                      h0=sympy.Matrix(h0))


def _deltanet(d: int, N: int, beta_max: float = 2.0) -> Recurrence:
    """DeltaNet: A(x) = I - beta k k^T per value channel, k unit-norm (Householder-like)."""
    x = input_symbols(d)
    W_k, W_q = symbol_array("W_k", (N, d)), symbol_array("W_q", (N, d))
    w_beta, b_beta, D = symbol_array("w_beta", (d,)), symbol_array("b_beta", ()), symbol_array("D", (d,))
    k_raw = linear(W_k, x)
    inverse_norm = rsqrt(sum((e**2 for e in k_raw), sympy.Integer(0)))
    k = sympy.Matrix([e * inverse_norm for e in k_raw])
    beta = sympy.Float(beta_max) * sigmoid(linear(w_beta[None, :], x)[0] + b_beta[()])
    q = linear(W_q, x)
    block = sympy.eye(N) - beta * (k * k.T)
    A = sympy.diag(*([block] * d))
    B, C = sympy.zeros(d * N, d), sympy.zeros(d, d * N)
    for c in range(d):
        for s in range(N):
            B[c * N + s, c] = beta * k[s]
            C[c, c * N + s] = q[s]
    arrays = {"W_k": W_k, "W_q": W_q, "w_beta": w_beta, "b_beta": b_beta, "D": D}
    return Recurrence("deltanet", x, A, B, C, diag(D), arrays)


def _attention(d: int, N: int) -> AttentionLayer:
    """Single-head causal softmax attention with scale 1/sqrt(d)."""
    x = input_symbols(d)
    W_q, W_k, W_v = (symbol_array(n, (d, d)) for n in ("W_q", "W_k", "W_v"))
    arrays = {"W_q": W_q, "W_k": W_k, "W_v": W_v}
    return AttentionLayer("transformer", x, sympy.Matrix(linear(W_q, x)), sympy.Matrix(linear(W_k, x)),
                          sympy.Matrix(linear(W_v, x)), 1.0 / np.sqrt(d), arrays)


def _core_inits(d: int, N: int) -> dict[str, dict[str, Callable]]:
    """Random-parameter distributions per core: stable, moderately sized values."""
    r_d, r_n = 1 / np.sqrt(d), 1 / np.sqrt(N)
    mamba = {"W_delta": normal(0.5 * r_d), "b_delta": uniform(-2.0, -0.5),
             "A_log": uniform(-0.7, 0.7), "W_B": normal(r_d), "W_C": normal(r_d), "D": normal(0.5)}
    dense = {"A": normal(0.5 * r_n), "B": normal(r_d), "C": normal(r_n), "D": normal(0.5)}
    inits = {
        "mamba": mamba, "mamba-neg": mamba,
        "mamba2": {"w_delta": normal(0.5 * r_d), "b_delta": uniform(-2.0, -0.5),
                   "A_log": uniform(-0.7, 0.7), "W_B": normal(r_d), "W_C": normal(r_d), "D": normal(0.5)},
        "s4d": {"log_dt": uniform(np.log(0.1), 0.0), "A_log": uniform(-0.7, 0.7),
                "B": normal(1.0), "C": normal(r_n), "D": normal(0.5)},
        "s4": dense, "rnn": dense,
        "gla": {"W_alpha": normal(r_d), "b_alpha": uniform(1.0, 3.0), "W_k": normal(r_d), "W_q": normal(r_d)},
        "ids4": {"A0": normal(0.5 * r_n), "A_in": normal(0.5 * r_n * r_d), "B": normal(r_d),
                 "C": normal(r_n), "D": normal(0.5), "h0": normal(0.5)},
        "deltanet": {"W_k": normal(r_d), "W_q": normal(r_d), "w_beta": normal(r_d),
                     "b_beta": normal(0.5), "D": normal(0.5)},
        "transformer": {"W_q": normal(r_d), "W_k": normal(r_d), "W_v": normal(r_d)},
    }
    inits["ssm-fnn"] = inits["s4d"]      # the same LTI core
    return inits


_BUILDERS: dict[str, Callable[..., Mixer]] = {
    "s4": lambda d, N: _dense("s4", d, N),
    "s4d": _s4d,
    "mamba": lambda d, N: _mamba_like(d, N, "positive"),
    "mamba-neg": lambda d, N: _mamba_like(d, N, "negative"),
    "mamba2": _mamba2,
    "gla": _gla,
    "ids4": _ids4,
    "deltanet": _deltanet,
    "rnn": lambda d, N: _dense("rnn", d, N, nonlinearity="tanh"),
    "transformer": _attention,
    "ssm-fnn": _ssm_fnn,
}
_FAMILIES = (elementwise_gates, householder, complex_diagonal, selection, convolution, liquid)  # published architectures, one module per family (spec/architectures)
_PUBLISHED_INITS: dict[str, Callable[[int, int], dict[str, Callable]]] = {}
for _family in _FAMILIES:
    _BUILDERS.update(_family.BUILDERS)
    _PUBLISHED_INITS.update(_family.INITS)
_BUILDERS["slstm"], _PUBLISHED_INITS["slstm"] = slstm.build, slstm.inits

ARCHS: tuple[str, ...] = tuple(_BUILDERS)
# the Illusion paper's zoo: `tc0lab compile`'s default table (`--arch illusion`; `--arch all` is ARCHS)
ILLUSION_ARCHS: tuple[str, ...] = ("s4", "s4d", "mamba", "mamba2", "gla", "ids4", "deltanet", "rnn", "transformer")


_REGISTERED_INITS: dict[str, Callable[[int, int], dict[str, Callable]]] = {}  # name -> inits(d, N)


@contextlib.contextmanager
def registered(name: str, builder: Callable[[int, int], Mixer],
               inits: Callable[[int, int], dict[str, Callable]]) -> Iterator[str]:
    """A temporary zoo entry: `name` builds builder(d, N) with parameters drawn from inits(d, N).

    inits maps each parameter array of the core to a draw(rng, shape), like the zoo's own
    (`_core_inits`). Inside the with-block every zoo function, `tc0lab compile --arch name`
    and `tc0lab check --arch name` know the architecture; formulas for it are derived by
    interpolation (tc0lab.formulas.interpolate), like those of every zoo architecture.
    """
    global ARCHS
    key = name.lower()
    if key in _BUILDERS:
        raise SpecError(f"architecture {name!r} already exists")
    _BUILDERS[key], _REGISTERED_INITS[key] = builder, inits
    ARCHS = tuple(_BUILDERS)
    try:
        yield key
    finally:
        del _BUILDERS[key], _REGISTERED_INITS[key]
        ARCHS = tuple(_BUILDERS)
        core.cache_clear()
        block.cache_clear()


def is_builtin(name: str) -> bool:
    """Whether name is one of the zoo's own architectures (not a temporary `registered` one)."""
    key = name.lower()
    return key in _BUILDERS and key not in _REGISTERED_INITS


def registration(name: str) -> tuple:
    """What defines an architecture (its builder and inits): a cache key that a re-registration changes."""
    key = _check_name(name)
    return key, _BUILDERS[key], _REGISTERED_INITS.get(key)


def _check_name(name: str) -> str:
    key = name.lower()
    if key not in _BUILDERS:
        raise SpecError(f"unknown architecture {name!r}; known: {', '.join(ARCHS)}")
    return key


def _check_sizes(d: int, N: int) -> None:
    if d < 1 or N < 1:
        raise SpecError(f"d_model and d_state must be >= 1, got d_model={d}, d_state={N}")


@functools.lru_cache(maxsize=64)
def core(name: str, d: int, N: int) -> Mixer:
    """The mixer of a zoo architecture at width d and state size N."""
    _check_sizes(d, N)
    return _BUILDERS[_check_name(name)](d, N)


def init_arrays(name: str, d: int, N: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random parameter arrays for a zoo core, drawn from its stable init distributions."""
    mixer = core(name, d, N)
    key = _check_name(name)
    inits_of = _REGISTERED_INITS.get(key) or _PUBLISHED_INITS.get(key)
    inits = inits_of(d, N) if inits_of is not None else _core_inits(d, N)[key]
    return {key: np.asarray(inits[key](rng, shape), dtype=float) for key, shape in mixer.param_shapes.items()}


def _post_map(d: int, d_y: int, activation: str) -> TokenMap:
    """x + W_out act(y): the projection and nonlinearity after a mixer, with a residual."""
    x, y = input_symbols(d), input_symbols(d_y, prefix="y")
    W_out = symbol_array("W_out", (d, d_y))
    act = [apply(activation, yo) for yo in y]
    outputs = tuple(xi + e for xi, e in zip(x, linear(W_out, act)))
    return TokenMap(x + y, outputs, {"W_out": W_out})


def _mlp_map(d: int, hidden: int, activation: str) -> TokenMap:
    """x + W2 act(W1 x + b1): the transformer's position-wise feed-forward block."""
    x = input_symbols(d)
    W1, b1, W2 = symbol_array("W1", (hidden, d)), symbol_array("b1", (hidden,)), symbol_array("W2", (d, hidden))
    h = [apply(activation, e + b) for e, b in zip(linear(W1, x), b1)]
    return TokenMap(x, tuple(xi + e for xi, e in zip(x, linear(W2, h))), {"W1": W1, "b1": b1, "W2": W2})


def rms_norm_map(d: int) -> TokenMap:
    """RMSNorm: x * rsqrt(mean(x^2)) * g (no epsilon, so the spec is exact)."""
    x, g = input_symbols(d), symbol_array("g_norm", (d,))
    inverse = rsqrt(sum((xi**2 for xi in x), sympy.Integer(0)) / d)
    return TokenMap(x, tuple(xi * inverse * gi for xi, gi in zip(x, g)), {"g_norm": g})


_MAP_INITS: dict[str, Callable] = {
    "W_out": lambda rng, shape: rng.normal(0, 0.5 / np.sqrt(shape[1]), size=shape),
    "W1": lambda rng, shape: rng.normal(0, 1 / np.sqrt(shape[1]), size=shape),
    "b1": lambda rng, shape: rng.normal(0, 0.1, size=shape),
    "W2": lambda rng, shape: rng.normal(0, 0.5 / np.sqrt(shape[1]), size=shape),
    "g_norm": lambda rng, shape: rng.uniform(0.5, 1.5, size=shape),
}


@functools.lru_cache(maxsize=64)
def block(name: str, d: int, N: int, norm: bool = False) -> Block:
    """A zoo layer: mixer, projection + nonlinearity + residual, and (transformer) an MLP."""
    mixer = core(name, d, N)
    is_attention = isinstance(mixer, AttentionLayer)
    post = _post_map(d, mixer.d_out, "identity" if is_attention else "silu")
    mlp = _mlp_map(d, 2 * d, "relu") if is_attention else None
    return Block(mixer, post, pre=rms_norm_map(d) if norm else None, mlp=mlp)


def random_values(blk: Block, rng: np.random.Generator, core_arrays: dict | None = None) -> dict:
    """Values for every parameter of a block.

    The mixer takes `core_arrays` when given (a zoo core's init), else N(0, 0.5) draws; the
    position-wise maps take their own scaled inits.
    """
    values: dict = {}
    parts: list = blk.token_maps()
    if core_arrays is not None:
        values.update(blk.mixer.bind(core_arrays))
    else:
        parts = [blk.mixer] + parts
    for part in parts:
        for key, symbols in part.param_arrays.items():
            draw = _MAP_INITS.get(key, normal(0.5))
            array = np.asarray(draw(rng, symbols.shape))
            values.update({symbols[i]: float(array[i]) for i in np.ndindex(*symbols.shape)})
    return values


def stack(name: str, layers: int, d: int = 2, N: int = 2, seed: int = 0, norm: bool = False) -> Stack:
    """L layers of a zoo architecture with random parameters (seeded)."""
    if layers < 1:
        raise SpecError(f"layers must be >= 1, got {layers}")
    key = _check_name(name)
    blk = block(key, d, N, norm)
    rng = np.random.default_rng(seed)
    values = tuple(random_values(blk, rng, init_arrays(key, d, N, rng)) for _ in range(layers))
    positions = "sinusoidal" if isinstance(blk.mixer, AttentionLayer) else None
    return Stack((blk,) * layers, values, positions=positions, arch=key, d_state=N)


def custom_stack(mixer: Mixer, layers: int = 1, seed: int = 0, values: dict | None = None,
                 activation: str = "silu") -> Stack:
    """Wrap a user-written mixer into a stack (random values unless given), like the zoo does."""
    if layers < 1:
        raise SpecError(f"layers must be >= 1, got {layers}")
    blk = Block(mixer, _post_map(mixer.d_in, mixer.d_out, activation))
    rng = np.random.default_rng(seed)
    per_layer = []
    for _ in range(layers):
        layer_values = random_values(blk, rng)
        if values:
            layer_values.update(values)
        per_layer.append(layer_values)
    return Stack((blk,) * layers, tuple(per_layer), arch=mixer.name)
