"""Hand-written layers for the checker and compiler tests: each is a user's Recurrence, never a zoo name.

Every builder returns a `Recurrence` written through the public API the way a researcher
would write it in a notebook (input symbols, named parameter arrays, sympy matrices).
"""
from __future__ import annotations

import numpy as np
import sympy

from tc0lab.spec.functions import sigmoid
from tc0lab.spec.recurrence import Recurrence, input_symbols, symbol_array


def linear_form(weights: np.ndarray, x) -> sympy.Expr:
    """w . x for a row of parameter symbols."""
    return sum(w * xi for w, xi in zip(weights, x))


def layer(name: str, A: sympy.Matrix, x, params: dict | None = None, nonlinearity: str | None = None,
          outputs: int = 1, h0: sympy.Matrix | None = None) -> Recurrence:
    """A(x) with a generic write B (parameters) and a generic readout C (parameters)."""
    size = A.shape[0]
    B, C = symbol_array("B", (size, len(x))), symbol_array("C", (outputs, size))
    arrays = {"B": B, "C": C, **(params or {})}
    return Recurrence(name, tuple(x), A, sympy.Matrix(B), sympy.Matrix(C), sympy.zeros(outputs, len(x)), arrays,
                      nonlinearity, h0)


def gated_diagonal(x, size: int) -> tuple[sympy.Matrix, dict]:
    """diag(sigmoid(w_i . x)): a gate per coordinate, in (0, 1)."""
    w = symbol_array("w", (size, len(x)))
    return sympy.diag(*[sigmoid(linear_form(w[i], x)) for i in range(size)]), {"w": w}


def conjugated_diagonal(W: sympy.Matrix) -> Recurrence:
    """W diag(sigmoid(w_i . x)) W^-1: commuting, with eigenvalues in (0, 1)."""
    x = input_symbols(2)
    D, params = gated_diagonal(x, W.shape[0])
    return layer("conjugated", W * D * W.inv(), x, params)


def rotation_blocks(blocks: int = 2) -> Recurrence:
    """Blocks r(x) [[cos t(x), -sin t(x)], [sin t(x), cos t(x)]]: commuting, non-real eigenvalues."""
    x = input_symbols(2)
    theta, radius = symbol_array("theta", (blocks, 2)), symbol_array("radius", (blocks, 2))
    parts = []
    for b in range(blocks):
        angle, r = linear_form(theta[b], x), sigmoid(linear_form(radius[b], x))
        parts.append(r * sympy.Matrix([[sympy.cos(angle), -sympy.sin(angle)], [sympy.sin(angle), sympy.cos(angle)]]))
    return layer("rotations", sympy.diag(*parts), x, {"theta": theta, "radius": radius})


def shear() -> Recurrence:
    """[[1, b(x)], [0, 1]]: commuting but not diagonalisable (Thm 4.6 does not apply)."""
    x = input_symbols(2)
    b = symbol_array("b", (2,))
    return layer("shear", sympy.Matrix([[1, linear_form(b, x)], [0, 1]]), x, {"b": b})


def upper_triangular(size: int = 3, permutation: tuple[int, ...] | None = None) -> Recurrence:
    """Every entry on and above the diagonal input-dependent (non-commuting), optionally with the
    coordinates relabelled by `permutation` (then it is triangular only after a permutation)."""
    x = input_symbols(2)
    u = symbol_array("u", (size, size, 2))
    A = sympy.Matrix(size, size, lambda i, j: linear_form(u[i, j], x) if j > i else
                     (sigmoid(linear_form(u[i, j], x)) if i == j else 0))
    if permutation is not None:
        P = sympy.Matrix(size, size, lambda i, j: 1 if permutation[j] == i else 0)
        A = P * A * P.T
    return layer("triangular", A, x, {"u": u})


def memoryless(nonlinearity: str = "tanh") -> Recurrence:
    """h_t = f(B x_t): A = 0 under a nonlinearity."""
    x = input_symbols(2)
    return layer("memoryless", sympy.zeros(3, 3), x, nonlinearity=nonlinearity)


def indrnn() -> Recurrence:
    """h_t = tanh(diag(a(x)) h_{t-1} + B x_t): an element-wise nonlinear update."""
    x = input_symbols(3)
    D, params = gated_diagonal(x, 3)
    return layer("indrnn", D, x, params, nonlinearity="tanh")


def fixed_cycle_under_tanh() -> Recurrence:
    """h_t = tanh(P h_{t-1} + B x_t) with a fixed permutation P and no parameters in A."""
    x = input_symbols(3)
    return layer("cycle_tanh", sympy.Matrix([[0, 0, 1], [1, 0, 0], [0, 1, 0]]), x, nonlinearity="tanh")


def normalised(k: sympy.Matrix, epsilon: sympy.Expr = sympy.Integer(0)) -> sympy.Matrix:
    """k / |k| (with epsilon inside the root, the norm is never exactly 1: then no exact witness exists)."""
    return k / sympy.sqrt(sum(e ** 2 for e in k) + epsilon)


def delta_rule(keys: int, inputs: int, beta_max: int = 2) -> Recurrence:
    """I - beta(x) k^ k^T with a unit key k^ = W x / |W x| and beta = beta_max sigmoid(w . x)."""
    x = input_symbols(inputs)
    Wk, wb = symbol_array("Wk", (keys, inputs)), symbol_array("wb", (inputs,))
    k = normalised(sympy.Matrix([linear_form(Wk[i], x) for i in range(keys)]))
    beta = beta_max * sigmoid(linear_form(wb, x))
    return layer("delta", sympy.eye(keys) - beta * k * k.T, x, {"Wk": Wk, "wb": wb})


def rwkv7_like(keys: int = 5, inputs: int = 5) -> Recurrence:
    """diag(w(x)) - k^ (a(x) . k^)^T, w = exp(-exp(.)) in (0, 1), a = 2 sigmoid(.) in (0, 2)."""
    x = input_symbols(inputs)
    Wk, Ww, Wa = (symbol_array(n, (keys, inputs)) for n in ("Wk", "Ww", "Wa"))
    bw, ba = symbol_array("bw", (keys,)), symbol_array("ba", (keys,))
    k = normalised(sympy.Matrix([linear_form(Wk[i], x) for i in range(keys)]))
    decay = [sympy.exp(-sympy.exp(linear_form(Ww[i], x) + bw[i])) for i in range(keys)]
    gain = [2 * sigmoid(linear_form(Wa[i], x) + ba[i]) for i in range(keys)]
    A = sympy.diag(*decay) - k * sympy.Matrix([gain[i] * k[i] for i in range(keys)]).T
    return layer("rwkv7_like", A, x, {"Wk": Wk, "Ww": Ww, "Wa": Wa, "bw": bw, "ba": ba}, outputs=2)


def per_token_matrices(size: int, inputs: int) -> Recurrence:
    """A(x) = sum_t x_t M_t with a free matrix M_t per input coordinate."""
    x = input_symbols(inputs)
    M = symbol_array("M", (inputs, size, size))
    A = sum((sympy.Matrix(size, size, lambda i, j, t=t: M[t, i, j]) * x[t] for t in range(inputs)), sympy.zeros(size, size))
    return layer("per_token", A, x, {"M": M}, outputs=2)


def transvections(size: int = 3, inputs: int = 5) -> Recurrence:
    """I + k(x) q(x)^T with q . k = 0 exactly: every transition is unipotent (all eigenvalues 1),
    so none is a permutation, but products of transvections reach every matrix of determinant 1."""
    x = input_symbols(inputs)
    Wk, Wq = symbol_array("Wk", (size, inputs)), symbol_array("Wq", (size, inputs))
    k = sympy.Matrix([linear_form(Wk[i], x) for i in range(size)])
    p = sympy.Matrix([linear_form(Wq[i], x) for i in range(size)])
    q = (k.T * k)[0, 0] * p - (k.T * p)[0, 0] * k
    return layer("transvections", sympy.eye(size) + k * q.T, x, {"Wk": Wk, "Wq": Wq}, outputs=2)
