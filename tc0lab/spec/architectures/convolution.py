"""Hyena (Poli et al. 2023, arXiv:2302.10866): a long fixed convolution between data-controlled gates.

The order-2 Hyena operator is y_t = x1_t * sum_{s < L} h_s (x2 * v)_{t-s} per channel, with
x1, x2, v linear projections of the token and h a learned filter (implicitly parameterised,
but fixed once trained). As a recurrence the filter is a shift register: the state of channel
c holds its last N gated inputs u_{t-s} = x2_{t-s} v_{t-s} (A shifts them, a fixed nilpotent
matrix), and the readout weighs them by the filter. tc0lab's filter has length N (the state
size); the published one spans the sequence, which is the same construction with N = L. Either
way A is input-independent: linear time-invariant.
"""
from __future__ import annotations

import sympy

from tc0lab.spec.building import Parameters, linear, normal
from tc0lab.spec.recurrence import Recurrence, input_symbols


def hyena(d: int, N: int) -> Recurrence:
    x = input_symbols(d)
    p = Parameters()
    W_1, W_2, W_v, taps = p("W_x1", (d, d)), p("W_x2", (d, d)), p("W_v", (d, d)), p("filter", (d, N))
    gate_out, gate_in = linear(W_1, x), linear(W_2, x)
    shift = sympy.Matrix(N, N, lambda i, j: 1 if i == j + 1 else 0)
    A = sympy.diag(*([shift] * d))
    B, C = sympy.zeros(d * N, d), sympy.zeros(d, d * N)
    for c in range(d):
        for j in range(d):
            B[c * N, j] = gate_in[c] * W_v[c, j]  # u_c = x2_c * v_c enters the register's first cell
        for s in range(N):
            C[c, c * N + s] = gate_out[c] * taps[c, s]
    return Recurrence("hyena", x, A, B, C, sympy.zeros(d, d), p.arrays)


def _hyena_inits(d: int, N: int) -> dict:
    r = 1 / d ** 0.5
    return {"W_x1": normal(r), "W_x2": normal(r), "W_v": normal(r), "filter": normal(1 / N ** 0.5)}


BUILDERS = {"hyena": hyena}
INITS = {"hyena": _hyena_inits}
