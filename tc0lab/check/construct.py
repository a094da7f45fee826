"""The Thm 5.1 construction: a one-layer nonlinear recurrence that tracks a permutation group.

Illusion of State, Thm 5.1: an RNN-SSM h_t = f(A h_{t-1} + B x_t) with a saturating f
recognises every regular language. This module builds that machine for the group
G = <g_1, ..., g_m> on k points (S5 = <(0 1), (0 1 2 3 4)>), with one-hot tokens for the
generators plus one start token, and solves the spec's parameters to realise it.

The state is indexed by (s, j, p) for s in {generators, start}, j, p in 0..k-1, and is
"hi" exactly at the entries with s = the last token read and pi_t(p) = j, where pi_t is
the current prefix product; every other entry is "lo". With M(j, p) = [pi_t(p) = j]
recovered linearly as (sum_s h(s, j, p) - (m+1) lo) / (hi - lo), reading generator g is

    h(g, j, p) = f(K (M(g^-1(j), p) + [x = g] - 3/2))     an AND of two bits: one threshold

so A and B are constant matrices and f only has to separate -K/2 from +K/2 (and from
anything below). lo = f(-K/2) and hi = f(K/2) are read off f numerically; K = 40 saturates
tanh and sgn in float64, K = 2 suffices for relu. Only A and B are solved for; C and D keep
the spec's own (random) values, and the verifier decodes the element from the output they
give. Nothing here is verified: the verifier runs the result.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from tc0lab.check.solve import ACCEPTED, solve_parameters
from tc0lab.check.verify import Machine
from tc0lab.spec.numeric import by_name
from tc0lab.spec.functions import NUMPY
from tc0lab.spec.recurrence import Recurrence

S5_GENERATORS = (np.array([1, 0, 2, 3, 4]), np.array([1, 2, 3, 4, 0]))


@dataclass(frozen=True)
class Requirement:
    d_in: int
    state_size: int


def requirement(generators=S5_GENERATORS) -> Requirement:
    """Sizes the construction needs: one token per generator plus a start token."""
    m, k = len(generators), len(generators[0])
    return Requirement(m + 1, (m + 1) * k * k)


def target_matrices(generators, lo: float, hi: float, gain: float) -> tuple[np.ndarray, np.ndarray]:
    """A* (S, S) and B* (S, m+1): column t of B* is the write of one-hot token t."""
    m, k = len(generators), len(generators[0])
    size = (m + 1) * k * k

    def index(s: int, j: int, p: int) -> int:
        return (s * k + j) * k + p

    A = np.zeros((size, size))
    B = np.zeros((size, m + 1))
    for g, perm in enumerate(generators):
        inverse = np.argsort(perm)
        for j in range(k):
            for p in range(k):
                row = index(g, j, p)
                for s in range(m + 1):
                    A[row, index(s, inverse[j], p)] = gain / (hi - lo)
                for token in range(m):
                    B[row, token] = gain * (-(m + 1) * lo / (hi - lo) - 1.5 + (token == g))
                B[row, m] = -2 * gain  # at the start every generator entry is lo
    for j in range(k):
        for p in range(k):
            B[index(m, j, p), :m] = -gain / 2
            B[index(m, j, p), m] = gain / 2 if j == p else -gain / 2
    return A, B


def construct(rec: Recurrence, generators=S5_GENERATORS, gain: float = 40.0, seed: int = 0) -> tuple[Machine, float] | None:
    """Parameters making `rec` the machine above; None if its sizes or form do not allow it."""
    need = requirement(generators)
    if rec.nonlinearity is None or rec.d_in < need.d_in or rec.state_size < need.state_size:
        return None
    f = NUMPY[rec.nonlinearity]
    lo, hi = float(f(-gain / 2)), float(f(gain / 2))
    if not hi - lo > 1e-6:
        return None
    A_target, B_target = target_matrices(generators, lo, hi, gain)
    tokens = np.eye(rec.d_in)[:need.d_in]
    equations = _equations(rec, tokens, A_target, B_target)
    start = {s: float(v) for s, v in zip(sorted(rec.parameters(), key=by_name),
                                         np.random.default_rng(seed).normal(size=len(rec.parameters())))}
    solution = solve_parameters(equations, sorted(rec.parameters(), key=by_name), start)
    if solution.residual > ACCEPTED:
        return None
    machine = Machine(rec, solution.values, tokens[:-1], tokens[-1:], tuple(range(need.state_size)))
    return machine, solution.residual


def _equations(rec: Recurrence, tokens: np.ndarray, A_target: np.ndarray, B_target: np.ndarray):
    """A(x_t) = A* on the used block (0 elsewhere in its rows/cols) and b(x_t) = B*[:, t]."""
    size, used = rec.state_size, A_target.shape[0]
    full_A = np.zeros((size, size))
    full_A[:used, :used] = A_target
    depends = bool(rec.A.free_symbols & set(rec.inputs))
    equations: dict = {}  # keyed by (expr, target): a fixed A gives the same equations per token
    for t, token in enumerate(tokens):
        substitution = {x: sympy.Integer(int(v)) for x, v in zip(rec.inputs, token)}
        if t == 0 or depends:
            A = rec.A.xreplace(substitution) if depends else rec.A
            for r in range(size):
                for c in range(size):
                    equations[(A[r, c], float(full_A[r, c]))] = None
        write = rec.B * sympy.Matrix([sympy.Integer(int(v)) for v in token])  # exact 0/1: B[r, t] stays a bare symbol
        for r in range(size):
            target = float(B_target[r, t]) if r < used else 0.0
            equations[(write[r].xreplace(substitution), target)] = None
    return list(equations)
