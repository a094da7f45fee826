"""PD-SSM (Terzic et al. 2025, arXiv:2509.22284): a column one-hot selection times a complex diagonal.

    h_t = P(x_t) D(x_t) h_{t-1} + B x_t,  y_t = Re(C h_t) + D_skip x_t

P(x) has one 1 per column, at the largest score of that column (hardmax, `functions.hardmax`,
built from step gates); its scores are a learned dictionary M_0 + sum_l x_l M_l (the paper
mixes its dictionary with softmax weights of a projection; tc0lab's weights are the token's
coordinates, which keeps the scores linear). D(x) = sigmoid(W_m x + b_m) e^{i (W_phi x + b_phi)}
is complex with modulus in (0, 1). A column one-hot P is a map of the state coordinates to
themselves, so products of such transitions can realise any finite automaton's transitions.
"""
from __future__ import annotations

import sympy

from tc0lab.spec.building import Parameters, linear, normal
from tc0lab.spec.complex_form import complex_recurrence
from tc0lab.spec.functions import hardmax, sigmoid
from tc0lab.spec.recurrence import Recurrence, input_symbols


def pd_ssm(d: int, N: int) -> Recurrence:
    x = input_symbols(d)
    p = Parameters()
    M, M0 = p("M", (N, N, d)), p("M0", (N, N))
    W_m, b_m, W_phi, b_phi = p("W_m", (N, d)), p("b_m", (N,)), p("W_phi", (N, d)), p("b_phi", (N,))
    B_re, B_im, C_re, C_im, D = p("B_re", (N, d)), p("B_im", (N, d)), p("C_re", (d, N)), p("C_im", (d, N)), p("D", (d,))
    selection = sympy.zeros(N, N)
    for j in range(N):
        scores = [M0[i, j] + sum((M[i, j, l] * x[l] for l in range(d)), sympy.Integer(0)) for i in range(N)]
        for i, entry in enumerate(hardmax(scores)):
            selection[i, j] = entry
    modulus = [sigmoid(e + b) for e, b in zip(linear(W_m, x), b_m)]
    phase = [e + b for e, b in zip(linear(W_phi, x), b_phi)]
    diagonal = sympy.diag(*[m * sympy.exp(sympy.I * f) for m, f in zip(modulus, phase)])
    B = sympy.Matrix(N, d, lambda j, i: B_re[j, i] + sympy.I * B_im[j, i])
    C = sympy.Matrix(d, N, lambda i, j: C_re[i, j] + sympy.I * C_im[i, j])
    return complex_recurrence("pd-ssm", x, selection * diagonal, B, C, sympy.diag(*D), p.arrays)


def _pd_ssm_inits(d: int, N: int) -> dict:
    r = 1 / d ** 0.5
    return {"M": normal(r), "M0": normal(1.0), "W_m": normal(r), "b_m": normal(1.0), "W_phi": normal(r),
            "b_phi": normal(0.5), "B_re": normal(r), "B_im": normal(r), "C_re": normal(1 / N ** 0.5),
            "C_im": normal(1 / N ** 0.5), "D": normal(0.5)}


BUILDERS = {"pd-ssm": pd_ssm}
INITS = {"pd-ssm": _pd_ssm_inits}
