"""Architectures whose transition is a gated generalised Householder (delta-rule) matrix.

    gated-deltanet      Gated DeltaNet (Yang, Kautz & Hatamizadeh 2025, arXiv:2412.06464):
                        alpha_t (I - beta_t k_t k_t^T), alpha_t, beta_t in (0, 1), |k_t| = 1
    gated-deltanet-neg  the same with beta_t in (0, 2) (Grazzi et al. 2025, arXiv:2411.12537)
    deltaproduct        Gated DeltaProduct (Siems et al. 2025, arXiv:2502.10297):
                        alpha_t prod_{j=1}^{n_h} (I - beta_{t,j} k_{t,j} k_{t,j}^T), n_h = 2, beta in (0, 2)
    kda                 Kimi Delta Attention (Kimi Team 2025, arXiv:2510.26692):
                        (I - beta_t k_t k_t^T) Diag(alpha_t), per-channel alpha_t in (0, 1), beta_t in (0, 1)
    rwkv7               RWKV-7 "Goose" (Peng et al. 2025, arXiv:2503.14456):
                        diag(w_t) - (a_t * kh_t) kh_t^T, w_t in (exp(-exp(-0.5)), 1), a_t in (0, 1)

Memories use the layout of `building.matrix_memory`; the value is the token itself, one head.
Decays alpha_t = exp(-exp(A_log) softplus(w x_t + b)) are Mamba-2's (as in Gated DeltaNet's code),
keys are L2-normalised projections (the short convolutions before them are left out: they are
position-wise up to a fixed window and do not touch the transition's form).
"""
from __future__ import annotations

import sympy

from tc0lab.spec.building import Parameters, identity_values, lerp, linear, matrix_memory, normal, uniform, unit
from tc0lab.spec.functions import sigmoid, softplus
from tc0lab.spec.recurrence import Recurrence, input_symbols


def _decay(p: Parameters, x, label: str, size: int | None = None) -> list:
    """exp(-exp(A_log) softplus(w . x + b)), one per row (size rows, or a single scalar)."""
    rows = 1 if size is None else size
    A_log, w, b = p(f"A_log{label}", (rows,)), p(f"w_alpha{label}", (rows, len(x))), p(f"b_alpha{label}", (rows,))
    return [sympy.exp(-sympy.exp(A_log[i]) * softplus(e + b[i])) for i, e in enumerate(linear(w, x))]


def _delta_factors(p: Parameters, x, N: int, factors: int, beta_max: int) -> list[tuple[list, sympy.Expr]]:
    """(unit key, beta) for each Householder factor of one token."""
    out = []
    for j in range(factors):
        label = "" if factors == 1 else f"_{j}"
        W_k, w_beta, b_beta = p(f"W_k{label}", (N, len(x))), p(f"w_beta{label}", (len(x),)), p.scalar(f"b_beta{label}")
        beta = beta_max * sigmoid(linear(w_beta[None, :], x)[0] + b_beta)
        out.append((unit(linear(W_k, x)), beta))
    return out


def gated_delta_product(name: str, d: int, N: int, factors: int, beta_max: int) -> Recurrence:
    """h <- alpha h, then per factor j: h <- (I - beta_j k_j k_j^T) h + beta_j k_j v^T (v = x_t)."""
    x = input_symbols(d)
    p = Parameters()
    alpha = _decay(p, x, "")[0]
    transition, writes = alpha * sympy.eye(N), []
    for key, beta in _delta_factors(p, x, N, factors, beta_max):
        k = sympy.Matrix(key)
        reflection = sympy.eye(N) - beta * (k * k.T)
        transition = reflection * transition
        writes = [(list(reflection * sympy.Matrix(w)), values) for w, values in writes]
        writes.append(([beta * e for e in key], identity_values(d)))
    q = unit(linear(p("W_q", (N, d)), x))
    A, B, C = matrix_memory(transition, writes, q, d)
    return Recurrence(name, x, A, B, C, sympy.zeros(d, d), p.arrays)


def _delta_inits(factors: int) -> callable:
    def inits(d: int, N: int) -> dict:
        r = 1 / d ** 0.5
        draws = {"A_log": uniform(-0.7, 0.7), "w_alpha": normal(r), "b_alpha": uniform(-4.0, -1.0), "W_q": normal(r)}
        for j in range(factors):
            label = "" if factors == 1 else f"_{j}"
            draws |= {f"W_k{label}": normal(r), f"w_beta{label}": normal(r), f"b_beta{label}": normal(0.5)}
        return draws
    return inits


def kda(d: int, N: int) -> Recurrence:
    """KDA: S_t = (I - beta_t k_t k_t^T) Diag(alpha_t) S_{t-1} + beta_t k_t v_t^T, alpha_t per key channel."""
    x = input_symbols(d)
    p = Parameters()
    alpha = _decay(p, x, "", N)
    (key, beta), = _delta_factors(p, x, N, 1, 1)
    k = sympy.Matrix(key)
    transition = (sympy.eye(N) - beta * (k * k.T)) * sympy.diag(*alpha)
    A, B, C = matrix_memory(transition, [([beta * e for e in key], identity_values(d))],
                            unit(linear(p("W_q", (N, d)), x)), d)
    return Recurrence("kda", x, A, B, C, sympy.zeros(d, d), p.arrays)


def rwkv7(d: int, N: int) -> Recurrence:
    """RWKV-7: S_t = (diag(w_t) - (a_t * kh_t) kh_t^T) S_{t-1} + k~_t v_t^T, y_t = S_t^T r_t (column form).

    With token shift x^_t = lerp(x_t, x_{t-1}, mu) for each of r, w, k, a, v:
    w_t = exp(-e^{-0.5} sigmoid(w0 + tanh(x^w a_w) b_w)), a_t = sigmoid(a0 + (x^a a_a) b_a) (rank-1
    LoRAs), kh_t = normalise(k_t * xi) (the removal key), k~_t = k_t * (1 + (a_t - 1) alpha) (the
    replacement key), v_t = x^v_t. The paper writes S_t = S_{t-1}(diag(w) - kh^T (a * kh)) on row
    vectors; per value row that is this column form. Departure: the bonus term (r * rho * k~) v,
    which adds to the output and not to the state, is left out; one head.
    """
    x, previous = input_symbols(d), input_symbols(d, "xp")
    p = Parameters()
    mu = p("mu", (5, d))
    shifted = [lerp(x, previous, mu[i]) for i in range(5)]  # r, w, k, a, v
    w0, w_a, w_b = p("w0", (N,)), p("lora_w_a", (d,)), p("lora_w_b", (N,))
    a0, a_a, a_b = p("a0", (N,)), p("lora_a_a", (d,)), p("lora_a_b", (N,))
    W_r, W_k, xi, replace = p("W_r", (N, d)), p("W_k", (N, d)), p("xi", (N,)), p("alpha", (N,))
    w_hidden = sympy.tanh(sum(a * e for a, e in zip(w_a, shifted[1])))
    w = [sympy.exp(-sympy.exp(sympy.Rational(-1, 2)) * sigmoid(w0[s] + w_hidden * w_b[s])) for s in range(N)]
    a_hidden = sum(a * e for a, e in zip(a_a, shifted[3]))
    a = [sigmoid(a0[s] + a_hidden * a_b[s]) for s in range(N)]
    k = linear(W_k, shifted[2])
    kh = sympy.Matrix(unit([e * m for e, m in zip(k, xi)]))
    transition = sympy.diag(*w) - sympy.Matrix([a[s] * kh[s] for s in range(N)]) * kh.T
    replacement = [k[s] * (1 + (a[s] - 1) * replace[s]) for s in range(N)]
    A, B, C = matrix_memory(transition, [(replacement, identity_values(d))], linear(W_r, shifted[0]), d)
    B_previous = sympy.zeros(*B.shape)
    for c in range(d):  # v_c = (1 - mu_v,c) x_c + mu_v,c x_{t-1},c
        for s in range(N):
            B_previous[c * N + s, c] = B[c * N + s, c] * mu[4, c]
            B[c * N + s, c] = B[c * N + s, c] * (1 - mu[4, c])
    return Recurrence("rwkv7", x, A, B, C, sympy.zeros(d, d), p.arrays, previous_inputs=previous, B_previous=B_previous)


def _rwkv7_inits(d: int, N: int) -> dict:
    r = 1 / d ** 0.5
    return {"mu": uniform(0.0, 1.0), "w0": normal(1.0), "lora_w_a": normal(r), "lora_w_b": normal(0.3),
            "a0": normal(1.0), "lora_a_a": normal(r), "lora_a_b": normal(0.3), "W_r": normal(r), "W_k": normal(r),
            "xi": uniform(0.5, 1.5), "alpha": uniform(0.0, 1.0)}


BUILDERS = {
    "gated-deltanet": lambda d, N: gated_delta_product("gated-deltanet", d, N, factors=1, beta_max=1),
    "gated-deltanet-neg": lambda d, N: gated_delta_product("gated-deltanet-neg", d, N, factors=1, beta_max=2),
    "deltaproduct": lambda d, N: gated_delta_product("deltaproduct", d, N, factors=2, beta_max=2),
    "kda": kda,
    "rwkv7": rwkv7,
}
INITS = {"gated-deltanet": _delta_inits(1), "gated-deltanet-neg": _delta_inits(1), "deltaproduct": _delta_inits(2),
         "kda": lambda d, N: _delta_inits(1)(d, N) | {"A_log": uniform(-0.7, 0.7), "w_alpha": normal(1 / d ** 0.5)},
         "rwkv7": _rwkv7_inits}
