"""Small pieces that architecture builders share: linear maps, gates' memories, init draws.

An architecture is written as sympy matrices over input and parameter symbols
(`tc0lab.spec.recurrence`); these helpers spell the recurring parts once:

- `linear(W, x)`: the rows of W @ x as sympy expressions;
- `matrix_memory(...)`: the state layout of linear attention and its descendants, a key-by-value
  memory S_t = G_t S_{t-1} + k_t v_t^T read as y_t = S_t^T q_t, flattened channel-major
  (state coordinate r = c * N + s for value channel c and key coordinate s), with the same
  N x N key transition G_t for every value channel;
- `Parameters`: declares the named parameter arrays as a builder goes;
- `unit` (key normalisation) and `lerp` (RWKV's token shift);
- `normal(scale)`, `uniform(low, high)`: parameter draws for an architecture's inits.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import sympy

from tc0lab.spec.functions import rsqrt
from tc0lab.spec.recurrence import SpecError, symbol_array

Draw = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]


def linear(weights: np.ndarray, x: Sequence) -> list:
    """Rows of weights @ x as sympy expressions."""
    return [sum((w * xi for w, xi in zip(row, x)), sympy.Integer(0)) for row in weights]


def diag(entries: Sequence) -> sympy.Matrix:
    return sympy.diag(*entries)


def normal(scale: float) -> Draw:
    return lambda rng, shape: rng.normal(0.0, scale, size=shape)


def uniform(low: float, high: float) -> Draw:
    return lambda rng, shape: rng.uniform(low, high, size=shape)


def matrix_memory(key_transition: sympy.Matrix, writes: Sequence[tuple[Sequence, Sequence]],
                  query: Sequence, d_in: int) -> tuple[sympy.Matrix, sympy.Matrix, sympy.Matrix]:
    """(A, B, C) of S_t = G S_{t-1} + sum_w k_w v_w^T, y = S_t^T q, with value v_w = V_w x linear in x.

    `writes` lists (key k_w (N expressions), value weights V_w (d_v x d_in, entries may be
    expressions)); several writes cover DeltaProduct's micro-steps. The value channels are the
    rows of V_w; A is G repeated on each of the d_v channels.
    """
    N, d_v = key_transition.shape[0], len(writes[0][1])
    A = sympy.diag(*([key_transition] * d_v))
    B, C = sympy.zeros(d_v * N, d_in), sympy.zeros(d_v, d_v * N)
    for key, values in writes:
        for c in range(d_v):
            for s in range(N):
                for j in range(d_in):
                    if values[c][j] != 0:
                        B[c * N + s, j] += key[s] * values[c][j]
    for c in range(d_v):
        for s in range(N):
            C[c, c * N + s] = query[s]
    return A, B, C


def identity_values(d: int) -> list[list]:
    """Value weights V = I: the value is the token itself (one value channel per input)."""
    return [[sympy.Integer(1) if i == j else sympy.Integer(0) for j in range(d)] for i in range(d)]


class Parameters:
    """Declares parameter arrays as a builder goes: `W = params("W_k", (N, d))`; `params.arrays` is
    the `param_arrays` of the spec."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def __call__(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        if name in self.arrays:
            raise SpecError(f"parameter array {name!r} declared twice")
        self.arrays[name] = symbol_array(name, shape)
        return self.arrays[name]

    def scalar(self, name: str) -> sympy.Symbol:
        return self(name, ())[()]


def unit(vector: Sequence) -> list:
    """vector / ||vector|| (L2 normalisation of keys), with rsqrt so the compiler sees one lookup."""
    inverse_norm = rsqrt(sum((e**2 for e in vector), sympy.Integer(0)))
    return [e * inverse_norm for e in vector]


def lerp(x: Sequence, previous: Sequence, mix: Sequence) -> list:
    """RWKV's token shift x + (x_{t-1} - x) * mix, per channel."""
    return [a + (b - a) * m for a, b, m in zip(x, previous, mix)]
