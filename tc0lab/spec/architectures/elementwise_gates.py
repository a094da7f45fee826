"""Architectures whose transition is a diagonal of input-dependent gates (real, in (0, 1)).

    rwkv6     RWKV-6 "Finch" (Peng et al. 2024, arXiv:2404.05892): w_t = exp(-exp(d_t)) with a
              data-dependent d_t (LoRA), token shift by data-dependent lerp (ddlerp)
    rg-lru    Griffin's RG-LRU (De et al. 2024, arXiv:2402.19427): a_t = a^(c r_t), a = sigmoid(Lambda), c = 8
    hgrn2     HGRN2 (Qin et al. 2024, arXiv:2404.07904): diag(f_t), f_t above a learned lower bound
    mingru    minGRU (Feng et al. 2024, arXiv:2410.01201): diag(1 - z_t), z_t = sigmoid(W x_t)
    mlstm     xLSTM's mLSTM (Beck et al. 2024, arXiv:2405.04517): f_t I, exponential input gate
    longhorn  Longhorn (Liu et al. 2024, arXiv:2407.14207): diag(1 - eps_t k_t^2), eps_t = beta/(1 + beta |k|^2)

Memories with a key dimension use the layout of `building.matrix_memory` (value channel c, key
coordinate s: r = c * N + s); the value is the token itself unless said otherwise.
"""
from __future__ import annotations

import sympy

from tc0lab.spec.building import (Parameters, identity_values, lerp, linear, matrix_memory, normal, uniform)
from tc0lab.spec.functions import sigmoid, softplus
from tc0lab.spec.recurrence import Recurrence, input_symbols


def rwkv6(d: int, N: int) -> Recurrence:
    """RWKV-6: S_t = diag(w_t) S_{t-1} + k_t v_t^T, y_t = r_t (S_{t-1} + diag(u) k_t v_t^T).

    w_t = exp(-exp(d_t)), d_t = d0 + tanh(x^w_t a_w) b_w (a rank-1 LoRA); x^w_t, k_t and r_t read
    the token shift x^_t = lerp(x_t, x_{t-1}, mu + tanh(lerp(x_t, x_{t-1}, mu_x) a) b) (ddlerp).
    The readout of S_{t-1} is written through S_t: S_{t-1} = diag(1/w_t)(S_t - k_t v_t^T).
    Departure: the value is x_t itself (not token-shifted, no projection); one head.
    """
    x, previous = input_symbols(d), input_symbols(d, "xp")
    p = Parameters()
    mu_x, lora_a, lora_b = p("mu_x", (d,)), p("ddlerp_a", (d,)), p("ddlerp_b", (3, d))
    mu = p("mu", (3, d))  # for w, k, r
    d0, decay_a, decay_b = p("d0", (N,)), p("decay_a", (d,)), p("decay_b", (N,))
    W_k, W_r, bonus = p("W_k", (N, d)), p("W_r", (N, d)), p("u", (N,))
    base = lerp(x, previous, mu_x)
    low_rank = sympy.tanh(sum(a * e for a, e in zip(lora_a, base)))
    mixed = [lerp(x, previous, [m + low_rank * b for m, b in zip(mu[i], lora_b[i])]) for i in range(3)]
    exponent = [d0[s] + sympy.tanh(sum(a * e for a, e in zip(decay_a, mixed[0]))) * decay_b[s] for s in range(N)]
    w = [sympy.exp(-sympy.exp(e)) for e in exponent]
    k, r = linear(W_k, mixed[1]), linear(W_r, mixed[2])
    A, B, C = matrix_memory(sympy.diag(*w), [(k, identity_values(d))], [r[s] * sympy.exp(sympy.exp(exponent[s]))
                                                                        for s in range(N)], d)
    D = sympy.diag(*[sum(r[s] * (bonus[s] - sympy.exp(sympy.exp(exponent[s]))) * k[s] for s in range(N))] * d)
    return Recurrence("rwkv6", x, A, B, C, D, p.arrays, previous_inputs=previous)


def _rwkv6_inits(d: int, N: int) -> dict:
    r = 1 / d ** 0.5
    return {"mu_x": uniform(0, 1), "ddlerp_a": normal(r), "ddlerp_b": normal(0.1), "mu": uniform(0, 1),
            "d0": uniform(-3.0, -0.5), "decay_a": normal(r), "decay_b": normal(0.3), "W_k": normal(r),
            "W_r": normal(r), "u": normal(0.5)}


def rg_lru(d: int, N: int) -> Recurrence:
    """RG-LRU: h_t = a_t h_{t-1} + sqrt(1 - a_t^2) (i_t x_t), a_t = sigmoid(Lambda)^(c r_t), c = 8.

    r_t = sigmoid(W_a x_t + b_a) and i_t = sigmoid(W_x x_t + b_x) per channel; a^(c r) is written
    exp(-c r softplus(-Lambda)) (= exp(c r log sigmoid(Lambda))). One state per channel (the width
    of the recurrence is d); N is unused. The output is h_t (Griffin's gate branch is outside).
    """
    x = input_symbols(d)
    p = Parameters()
    Lam, W_a, b_a, W_x, b_x = p("Lambda", (d,)), p("W_a", (d, d)), p("b_a", (d,)), p("W_x", (d, d)), p("b_x", (d,))
    recurrence_gate = [sigmoid(e + b) for e, b in zip(linear(W_a, x), b_a)]
    input_gate = [sigmoid(e + b) for e, b in zip(linear(W_x, x), b_x)]
    a = [sympy.exp(-8 * r * softplus(-lam)) for r, lam in zip(recurrence_gate, Lam)]
    B = sympy.diag(*[sympy.sqrt(1 - ac**2) * i for ac, i in zip(a, input_gate)])
    return Recurrence("rg-lru", x, sympy.diag(*a), B, sympy.eye(d), sympy.zeros(d, d), p.arrays)


def _rg_lru_inits(d: int, N: int) -> dict:
    r = 1 / d ** 0.5
    # Griffin initialises a = sigmoid(Lambda) so that a^c is uniform in [0.9, 0.999]
    return {"Lambda": uniform(2.0, 6.0), "W_a": normal(r), "b_a": normal(0.5), "W_x": normal(r), "b_x": normal(0.5)}


def hgrn2(d: int, N: int) -> Recurrence:
    """HGRN2: S_t = diag(f_t) S_{t-1} + (1 - f_t) i_t^T, y_t = S_t^T q_t.

    f_t = lb + (1 - lb) sigmoid(W_f x_t) with the layer's lower bound lb = sigmoid(gamma) (a
    learned, layer-wise bound in (0, 1)); 1 - f_t is the key (the forget gate ties input and
    forgetting); the input i_t is the token.
    """
    x = input_symbols(d)
    p = Parameters()
    gamma, W_f, W_q = p.scalar("gamma"), p("W_f", (N, d)), p("W_q", (N, d))
    forget = [sigmoid(gamma) + sigmoid(-gamma) * sigmoid(e) for e in linear(W_f, x)]
    key = [sigmoid(-gamma) * sigmoid(-e) for e in linear(W_f, x)]  # 1 - f, written as a product of positives
    A, B, C = matrix_memory(sympy.diag(*forget), [(key, identity_values(d))], linear(W_q, x), d)
    return Recurrence("hgrn2", x, A, B, C, sympy.zeros(d, d), p.arrays)


def _hgrn2_inits(d: int, N: int) -> dict:
    r = 1 / d ** 0.5
    return {"gamma": uniform(-1.0, 1.0), "W_f": normal(r), "W_q": normal(r)}


def mingru(d: int, N: int) -> Recurrence:
    """minGRU: h_t = (1 - z_t) h_{t-1} + z_t h~_t, z_t = sigmoid(W_z x_t), h~_t = W_h x_t (N hidden units).

    1 - z_t is written sigmoid(-W_z x_t); the output is W_o h_t.
    """
    x = input_symbols(d)
    p = Parameters()
    W_z, W_h, W_o = p("W_z", (N, d)), p("W_h", (N, d)), p("W_o", (d, N))
    pre = linear(W_z, x)
    B = sympy.Matrix(N, d, lambda r, j: sigmoid(pre[r]) * W_h[r, j])
    return Recurrence("mingru", x, sympy.diag(*[sigmoid(-e) for e in pre]), B, sympy.Matrix(W_o),
                      sympy.zeros(d, d), p.arrays)


def _mingru_inits(d: int, N: int) -> dict:
    r = 1 / d ** 0.5
    return {"W_z": normal(r), "W_h": normal(r), "W_o": normal(1 / N ** 0.5)}


def mlstm(d: int, N: int) -> Recurrence:
    """mLSTM: C_t = f_t C_{t-1} + i_t v_t k_t^T, read as C_t q_t; f_t = sigmoid(.), i_t = exp(.).

    k_t = W_k x_t / sqrt(N), q_t = W_q x_t, v_t = x_t. Departures: the normaliser state n_t and the
    output's division by max(|n_t^T q_t|, 1) are left out (the spec's readout is linear in the
    state; they rescale the output and do not touch the transition f_t I), and so is the
    stabiliser m_t (a numerical device that cancels in exact arithmetic).
    """
    x = input_symbols(d)
    p = Parameters()
    w_f, b_f, w_i, b_i = p("w_f", (d,)), p.scalar("b_f"), p("w_i", (d,)), p.scalar("b_i")
    W_k, W_q = p("W_k", (N, d)), p("W_q", (N, d))
    forget = sigmoid(linear(w_f[None, :], x)[0] + b_f)
    write = sympy.exp(linear(w_i[None, :], x)[0] + b_i)
    # the scale goes with the weights: a rational 1/sqrt(N) (N = 4, 9, ...) times a sum would otherwise be
    # distributed over it by sympy, and the layer would compile to other gates at those N than at the rest
    key = [write * e for e in linear(W_k / sympy.sqrt(N), x)]
    A, B, C = matrix_memory(forget * sympy.eye(N), [(key, identity_values(d))], linear(W_q, x), d)
    return Recurrence("mlstm", x, A, B, C, sympy.zeros(d, d), p.arrays)


def _mlstm_inits(d: int, N: int) -> dict:
    r = 1 / d ** 0.5
    return {"w_f": normal(r), "b_f": uniform(3.0, 6.0), "w_i": normal(r), "b_i": normal(0.5),
            "W_k": normal(r), "W_q": normal(r)}


def longhorn(d: int, N: int) -> Recurrence:
    """Longhorn: S_t = (1 - eps_t k_t^2) * S_{t-1} + (eps_t x_t) k_t^T, eps_t = beta_t / (1 + beta_t |k_t|^2).

    One beta_t = sigmoid(w_c x_t) per value channel c (the value is the token); the decay of
    channel c, key s is (1 + beta_c sum_{j != s} k_j^2) / (1 + beta_c |k|^2), in (0, 1].
    """
    x = input_symbols(d)
    p = Parameters()
    W_k, W_q, W_beta = p("W_k", (N, d)), p("W_q", (N, d)), p("W_beta", (d, d))
    k, q = linear(W_k, x), linear(W_q, x)
    beta = [sigmoid(e) for e in linear(W_beta, x)]
    square = sum((e**2 for e in k), sympy.Integer(0))
    A, B, C = sympy.zeros(d * N, d * N), sympy.zeros(d * N, d), sympy.zeros(d, d * N)
    for c in range(d):
        for s in range(N):
            rest = sum((k[j] ** 2 for j in range(N) if j != s), sympy.Integer(0))
            A[c * N + s, c * N + s] = (1 + beta[c] * rest) / (1 + beta[c] * square)
            B[c * N + s, c] = beta[c] * k[s] / (1 + beta[c] * square)
            C[c, c * N + s] = q[s]
    return Recurrence("longhorn", x, A, B, C, sympy.zeros(d, d), p.arrays)


def _longhorn_inits(d: int, N: int) -> dict:
    r = 1 / d ** 0.5
    return {"W_k": normal(r), "W_q": normal(r), "W_beta": normal(r)}


BUILDERS = {"rwkv6": rwkv6, "rg-lru": rg_lru, "hgrn2": hgrn2, "mingru": mingru, "mlstm": mlstm, "longhorn": longhorn}
INITS = {"rwkv6": _rwkv6_inits, "rg-lru": _rg_lru_inits, "hgrn2": _hgrn2_inits, "mingru": _mingru_inits,
         "mlstm": _mlstm_inits, "longhorn": _longhorn_inits}
