"""LrcSSM (Farsang et al. 2025, arXiv:2505.21717): liquid-resistance liquid-capacitance cells
whose gates read only their own state coordinate (a diagonal Jacobian), so the sequence can be
processed by a parallel scan of elementwise maps.

Per coordinate r, one explicit Euler step of the LRC cell:

    g_r = sigmoid(a_r h_r + (W_g x)_r + b_g,r)        synaptic conductance (liquid resistance)
    k_r = sigmoid(c_r h_r + (W_k x)_r + b_k,r)        liquid capacitance
    h_r <- h_r + dt / (1 + k_r) (g_r (e_r - h_r) - l_r h_r),  l_r = softplus(leak_r)

and y_t = W_o h_t. Every update reads h_r alone: nonlinear, but element-wise.
"""
from __future__ import annotations


from tc0lab.spec.building import Parameters, linear, normal, uniform
from tc0lab.spec.functions import sigmoid, softplus
from tc0lab.spec.recurrence import input_symbols
from tc0lab.spec.state_recurrence import StateRecurrence


def lrcssm(d: int, N: int) -> StateRecurrence:
    x, h = input_symbols(d), input_symbols(N, "h")
    p = Parameters()
    a, W_g, b_g = p("a_g", (N,)), p("W_g", (N, d)), p("b_g", (N,))
    c, W_k, b_k = p("a_k", (N,)), p("W_k", (N, d)), p("b_k", (N,))
    reversal, leak, dt, W_o = p("e", (N,)), p("leak", (N,)), p.scalar("dt"), p("W_o", (d, N))
    drive_g, drive_k = linear(W_g, x), linear(W_k, x)
    update = []
    for r in range(N):
        g = sigmoid(a[r] * h[r] + drive_g[r] + b_g[r])
        k = sigmoid(c[r] * h[r] + drive_k[r] + b_k[r])
        update.append(h[r] + dt / (1 + k) * (g * (reversal[r] - h[r]) - softplus(leak[r]) * h[r]))
    return StateRecurrence("lrcssm", x, h, update, linear(W_o, h), p.arrays)


def _lrcssm_inits(d: int, N: int) -> dict:
    r = 1 / d ** 0.5
    return {"a_g": normal(1.0), "W_g": normal(r), "b_g": normal(0.5), "a_k": normal(1.0), "W_k": normal(r),
            "b_k": normal(0.5), "e": normal(1.0), "leak": normal(0.5), "dt": uniform(0.05, 0.5),
            "W_o": normal(1 / N ** 0.5)}


BUILDERS = {"lrcssm": lrcssm}
INITS = {"lrcssm": _lrcssm_inits}
