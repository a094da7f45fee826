"""Architectures whose transition is a complex diagonal (rotations with decay), in real form.

    lru       LRU (Orvieto et al. 2023, arXiv:2303.06349): a fixed complex diagonal
              lambda = exp(-exp(nu) + i exp(theta)), input normalised by sqrt(1 - |lambda|^2)
    gateloop  GateLoop (Katsch 2023, arXiv:2311.01927): diag(a_t), a_t = sigmoid(.) e^{i theta(x_t)}
    retnet    RetNet (Sun et al. 2023, arXiv:2307.08621): gamma e^{i theta}, fixed (xPos rotation
              folded into the transition), gamma = 1 - 2^-5
    mamba3    Mamba-3 (Lahoti et al. 2025, "Mamba-3: Improved Sequence Modeling using State Space
              Principles"): e^{Delta_t (A + i theta_t)} (a data-dependent rotation), with the
              exponential-trapezoidal update that also reads x_{t-1} B_{t-1}

Each is written with complex sympy matrices and converted by `complex_form.complex_recurrence`:
state coordinate r becomes the pair (Re, Im), the output is the real part.
"""
from __future__ import annotations

import sympy

from tc0lab.spec.building import Parameters, linear, normal, uniform
from tc0lab.spec.complex_form import complex_recurrence
from tc0lab.spec.functions import sigmoid, softplus
from tc0lab.spec.recurrence import Recurrence, input_symbols

I = sympy.I


def lru(d: int, N: int) -> Recurrence:
    """LRU: h_t = lambda * h_{t-1} + gamma * (B x_t), y_t = Re(C h_t) + D x_t, B and C complex."""
    x = input_symbols(d)
    p = Parameters()
    nu, theta = p("nu_log", (N,)), p("theta_log", (N,))
    B_re, B_im, C_re, C_im, D = p("B_re", (N, d)), p("B_im", (N, d)), p("C_re", (d, N)), p("C_im", (d, N)), p("D", (d,))
    modulus = [sympy.exp(-sympy.exp(nu[j])) for j in range(N)]
    transition = sympy.diag(*[modulus[j] * sympy.exp(I * sympy.exp(theta[j])) for j in range(N)])
    gamma = [sympy.sqrt(1 - modulus[j] ** 2) for j in range(N)]
    B = sympy.Matrix(N, d, lambda j, i: gamma[j] * (B_re[j, i] + I * B_im[j, i]))
    C = sympy.Matrix(d, N, lambda i, j: C_re[i, j] + I * C_im[i, j])
    return complex_recurrence("lru", x, transition, B, C, sympy.diag(*D), p.arrays)


def _lru_inits(d: int, N: int) -> dict:
    import numpy as np
    # the paper's ring init: |lambda| in [r_min, r_max] = [0.9, 0.999], phase in [0, pi/10]
    return {"nu_log": lambda rng, shape: np.log(-np.log(rng.uniform(0.9, 0.999, size=shape))),
            "theta_log": lambda rng, shape: np.log(rng.uniform(1e-3, np.pi / 10, size=shape)),
            "B_re": normal((1 / (2 * d)) ** 0.5), "B_im": normal((1 / (2 * d)) ** 0.5),
            "C_re": normal((1 / N) ** 0.5), "C_im": normal((1 / N) ** 0.5), "D": normal(0.5)}


def _key_value_memory(name: str, d: int, N: int, transitions: list, p: Parameters, x) -> Recurrence:
    """S_t = diag(transitions) S_{t-1} + k_t x_t^T, y_t = Re(S_t^T q_t), keys and queries real projections."""
    k, q = linear(p("W_k", (N, d)), x), linear(p("W_q", (N, d)), x)
    A = sympy.diag(*(transitions * d))
    B, C = sympy.zeros(d * N, d), sympy.zeros(d, d * N)
    for c in range(d):
        for s in range(N):
            B[c * N + s, c] = k[s]
            C[c, c * N + s] = q[s]
    return complex_recurrence(name, x, A, B, C, sympy.zeros(d, d), p.arrays)


def gateloop(d: int, N: int) -> Recurrence:
    """GateLoop: a_t = sigmoid(W_a x_t + b_a) e^{i W_theta x_t} per key coordinate; the value is the token."""
    x = input_symbols(d)
    p = Parameters()
    W_a, b_a, W_theta = p("W_a", (N, d)), p("b_a", (N,)), p("W_theta", (N, d))
    transitions = [sigmoid(e + b) * sympy.exp(I * phase) for e, b, phase in zip(linear(W_a, x), b_a, linear(W_theta, x))]
    return _key_value_memory("gateloop", d, N, transitions, p, x)


def _gateloop_inits(d: int, N: int) -> dict:
    r = 1 / d ** 0.5
    return {"W_a": normal(r), "b_a": uniform(1.0, 3.0), "W_theta": normal(r), "W_k": normal(r), "W_q": normal(r)}


def retnet(d: int, N: int) -> Recurrence:
    """RetNet: S_t = gamma e^{i theta} S_{t-1} + k_t v_t^T with the published fixed gamma = 1 - 2^-5 (head 1)
    and xPos angles theta_s = 10000^(-s/N); the value is the token (one head)."""
    x = input_symbols(d)
    gamma = 1 - sympy.Rational(1, 32)
    transitions = [gamma * sympy.exp(I * sympy.Float(10000.0 ** (-s / N))) for s in range(N)]
    return _key_value_memory("retnet", d, N, transitions, Parameters(), x)


def _retnet_inits(d: int, N: int) -> dict:
    r = 1 / d ** 0.5
    return {"W_k": normal(r), "W_q": normal(r)}


def mamba3(d: int, N: int) -> Recurrence:
    """Mamba-3: per channel c and state s, h_t = alpha_t h_{t-1} + (1 - l_t) Delta_t alpha_t B_{t-1} x_{t-1}
    + l_t Delta_t B_t x_t with alpha_t = exp(Delta_t (A_s + i theta_t,s)), Delta_t = softplus(.), l_t = sigmoid(.).

    A_s = -exp(A_log_s) is real and negative, the angles theta_t = W_theta x_t are data-dependent
    (the paper's data-dependent RoPE, written as the complex diagonal it is), B_t = W_B x_t and
    C_t = W_C x_t are real, y = Re(C_t h_t) + D x_t. Departures: one Delta per channel, no MIMO.
    """
    x, previous = input_symbols(d), input_symbols(d, "xp")
    p = Parameters()
    W_delta, b_delta, A_log = p("W_delta", (d, d)), p("b_delta", (d,)), p("A_log", (N,))
    W_theta, w_l, b_l = p("W_theta", (N, d)), p("w_lambda", (d,)), p.scalar("b_lambda")
    W_B, W_C, D = p("W_B", (N, d)), p("W_C", (N, d)), p("D", (d,))
    delta = [softplus(e + b) for e, b in zip(linear(W_delta, x), b_delta)]
    theta, mix = linear(W_theta, x), sigmoid(linear(w_l[None, :], x)[0] + b_l)
    B_now, B_before, C_now = linear(W_B, x), linear(W_B, previous), linear(W_C, x)
    alpha = [[sympy.exp(delta[c] * (-sympy.exp(A_log[s]) + I * theta[s])) for s in range(N)] for c in range(d)]
    A = sympy.diag(*[alpha[c][s] for c in range(d) for s in range(N)])
    B, B_previous, C = sympy.zeros(d * N, d), sympy.zeros(d * N, d), sympy.zeros(d, d * N)
    for c in range(d):
        for s in range(N):
            B[c * N + s, c] = mix * delta[c] * B_now[s]
            B_previous[c * N + s, c] = (1 - mix) * delta[c] * alpha[c][s] * B_before[s]
            C[c, c * N + s] = C_now[s]
    return complex_recurrence("mamba3", x, A, B, C, sympy.diag(*D), p.arrays, previous_inputs=previous,
                              B_previous=B_previous)


def _mamba3_inits(d: int, N: int) -> dict:
    r = 1 / d ** 0.5
    return {"W_delta": normal(0.5 * r), "b_delta": uniform(-2.0, -0.5), "A_log": uniform(-0.7, 0.7),
            "W_theta": normal(r), "w_lambda": normal(r), "b_lambda": normal(0.5), "W_B": normal(r), "W_C": normal(r),
            "D": normal(0.5)}


BUILDERS = {"lru": lru, "gateloop": gateloop, "retnet": retnet, "mamba3": mamba3}
INITS = {"lru": _lru_inits, "gateloop": _gateloop_inits, "retnet": _retnet_inits, "mamba3": _mamba3_inits}
