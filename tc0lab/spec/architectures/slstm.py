"""sLSTM (Beck et al. 2024, xLSTM: Extended Long Short-Term Memory, NeurIPS 2024, Sec. 2.2 and App. A):
gates that read h_{t-1}, written as a `StateRecurrence`.

Per cell r (heads of N cells; the recurrent matrices R_* are block-diagonal over heads, so a
cell's pre-activations read only the h of its own head):

    z~ = W_z x + R_z h_{t-1} + b_z      z = tanh(z~)          cell input
    i~ = W_i x + R_i h_{t-1} + b_i      i = exp(i~)           input gate
    f~ = W_f x + R_f h_{t-1} + b_f      f = sigmoid(f~) or exp(f~)   forget gate
    o~ = W_o x + R_o h_{t-1} + b_o      o = sigmoid(o~)       output gate
    c_t = f c_{t-1} + i z,   n_t = f n_{t-1} + i,   h_t = o c_t / n_t,   y_t = h_t

(the order of the official kernel, github.com/NX-AI/xlstm, `slstm_forward_pointwise`: the raw
gates Wx + Ry + b, states (y, c, n, m)). The state is (c, n, h), laid out c_0..c_{C-1},
n_0..n_{C-1}, h_0..h_{C-1} for C = heads * N cells, starting at zero (n_1 = i_1 > 0, so
c_t / n_t is defined from the first token on).

The stabiliser m_t = max(log f_t + m_{t-1}, log i_t) is not modelled. It rescales c_t and n_t
by the same factor exp(-m_t) (i' = exp(i~ - m_t), f' = exp(log f_t + m_{t-1} - m_t)), so
h_t = o c_t / n_t is unchanged in exact arithmetic; it exists to keep exp from overflowing in
float32 training. Modelling it would add a max of two values per cell (no lookup gate) and a
fourth state vector that no output reads, and change no verdict: the reference, the circuit
and the checker all work in exact-arithmetic semantics at float64 with moderate parameters.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import sympy

from tc0lab.spec.functions import sigmoid
from tc0lab.spec.recurrence import input_symbols, symbol_array
from tc0lab.spec.state_recurrence import StateRecurrence

HEADS = 4  # the official sLSTM layer's default number of heads (xlstm.sLSTMLayerConfig.num_heads)
GATES = ("z", "i", "f", "o")


def slstm(d: int, N: int, heads: int = HEADS, forget: str = "sigmoid") -> StateRecurrence:
    """An sLSTM layer over d inputs with `heads` heads of N cells each; forget gate 'sigmoid' or 'exp'."""
    if forget not in ("sigmoid", "exp"):
        raise ValueError(f"forget must be 'sigmoid' or 'exp', got {forget!r}")
    cells = heads * N
    x = input_symbols(d)
    c, n, h = (tuple(sympy.Symbol(f"{v}{r}", real=True) for r in range(cells)) for v in ("c", "n", "h"))
    arrays: dict[str, np.ndarray] = {}
    raw: dict[str, list] = {}
    for gate in GATES:
        W, R, b = symbol_array(f"W_{gate}", (cells, d)), symbol_array(f"R_{gate}", (heads, N, N)), \
            symbol_array(f"b_{gate}", (cells,))
        arrays.update({f"W_{gate}": W, f"R_{gate}": R, f"b_{gate}": b})
        raw[gate] = [sympy.Add(*[W[r, j] * x[j] for j in range(d)],
                               *[R[r // N, r % N, s] * h[(r // N) * N + s] for s in range(N)], b[r])
                     for r in range(cells)]
    forget_gate = sigmoid if forget == "sigmoid" else sympy.exp
    c_new, n_new, h_new = [], [], []
    # evaluate=False: sympy's automatic simplification of f(sum) and of products of such (assumption queries on
    # every sum) costs seconds at 100 cells and changes nothing
    for r in range(cells):
        z, i = sympy.tanh(raw["z"][r], evaluate=False), sympy.exp(raw["i"][r], evaluate=False)
        f, o = forget_gate(raw["f"][r], evaluate=False), sigmoid(raw["o"][r], evaluate=False)
        product = lambda *factors: sympy.Mul(*factors, evaluate=False)
        c_new.append(sympy.Add(product(f, c[r]), product(i, z), evaluate=False))
        n_new.append(sympy.Add(product(f, n[r]), i, evaluate=False))
        h_new.append(product(o, c_new[r], sympy.Pow(n_new[r], -1, evaluate=False)))
    return StateRecurrence("slstm", x, c + n + h, tuple(c_new + n_new + h_new), h, arrays)


def build(d: int, N: int) -> StateRecurrence:
    """The zoo's sLSTM: d inputs, HEADS heads of N cells, sigmoid forget gate."""
    return slstm(d, N)


def _normal(scale: float) -> Callable:
    return lambda rng, shape: rng.normal(0.0, scale, size=shape)


def inits(d: int, N: int) -> dict[str, Callable]:
    """Random parameters: input weights ~ N(0, 1/d), recurrent ~ N(0, 0.25/N), forget bias in [1, 3] (remembers)."""
    draws: dict[str, Callable] = {}
    for gate in GATES:
        draws[f"W_{gate}"] = _normal(1 / np.sqrt(d))
        draws[f"R_{gate}"] = _normal(0.5 / np.sqrt(N))
        draws[f"b_{gate}"] = _normal(0.1)
    draws["b_f"] = lambda rng, shape: rng.uniform(1.0, 3.0, size=shape)
    return draws
