"""Gate counts of each construction as sympy expressions in n, derived from its loops.

A `Tally` accumulates, per gate family, the count, the edges (distinct operands: a DiGraph
holds mul(x, x) as one edge) and the threshold gates (the cost model's size at the family's
fan-in k and precision p, summed symbolically over t and j when k depends on them).
The counters here cover the gates a construction adds around the per-token work; the
per-token work itself (the spec's expressions, compiled once per position) is measured at
small n by `formulas.py` and added as (tokens at t = 1) + (n - 1) (tokens at t >= 2).

Glossary: n sequence length, t output position, j source position (j < t), S state size,
U_r "u_r = (B(x) x)_r is not structurally 0", H_r "h0_r != 0".
"""
from __future__ import annotations

import functools
from collections import Counter, defaultdict

import numpy as np
import sympy

from tc0lab.circuit.cost import COST_MODEL, k as cost_k, p as cost_p
from tc0lab.compiler.diagonal_decay import log_coefficients
from tc0lab.compiler.recurrence_terms import BoundRecurrence, numeric

n = sympy.Symbol("n", positive=True, integer=True)
t, j, m = sympy.symbols("t j m", positive=True, integer=True)
AT_LEAST_2 = 1 - sympy.KroneckerDelta(n, 1)  # 1 when n >= 2, else 0


class FormulaUnsupported(ValueError):
    """The structure falls outside what the derivation covers (the message says what)."""


def at_least(bound: int) -> sympy.Expr:
    """1 when n >= bound, else 0 (for terms that exist only from some length on)."""
    return sympy.Integer(1) if bound <= 1 else sympy.Piecewise((1, n >= bound), (0, True))


def bit_ones_below(x: sympy.Expr) -> sympy.Expr:
    """sum_{i < x} popcount(i): the number of compositions in Sklansky's tree over x positions."""
    return _BitOnesBelow(x)


class _BitOnesBelow(sympy.Function):
    """bit_ones_below(n) = sum over levels l of #{i < n : bit l of i is set}
    = sum_l 2^l floor(n / 2^(l+1)) + max(0, n mod 2^(l+1) - 2^l)."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_Integer:
            value, level = 0, 0
            x = int(x)
            while (1 << level) < x:
                block = 1 << (level + 1)
                value += (x // block) * (1 << level) + max(0, x % block - (1 << level))
                level += 1
            return sympy.Integer(value)
        return None

    def _sympystr(self, printer):
        return f"bit_ones_below({printer._print(self.args[0])})"


_x = sympy.Symbol("x", integer=True)


@functools.lru_cache(maxsize=None)
def _power_sum(degree: int) -> sympy.Expr:
    """sum_{v=1}^{x} v^degree as a polynomial in x (Faulhaber), computed once per degree."""
    v = sympy.Dummy("v", integer=True)
    return sympy.expand(sympy.summation(v**degree, (v, 1, _x)))


def polynomial_sum(expr: sympy.Expr, variable: sympy.Symbol, low, high) -> sympy.Expr:
    """sum_{variable=low}^{high} expr for expr polynomial in variable (empty range: 0 when high = low - 1)."""
    expr = sympy.expand(expr)
    if not expr.has(variable):
        return sympy.expand(expr * (high - low + 1))
    total = sympy.Integer(0)
    for (degree,), coefficient in sympy.Poly(expr, variable).terms():
        power_sum = _power_sum(degree)
        total += coefficient * (power_sum.subs(_x, high) - power_sum.subs(_x, low - 1))
    return sympy.expand(total)


class Tally:
    """Gate counts by op, edges and threshold gates of some part of a circuit."""

    def __init__(self) -> None:
        self.gates: dict[str, sympy.Expr] = defaultdict(lambda: sympy.Integer(0))
        self.edges: sympy.Expr = sympy.Integer(0)
        self.threshold: sympy.Expr = sympy.Integer(0)

    def add(self, op: str, count, fan_in, edges_each=None, over: tuple = (), scale=1) -> None:
        """count gates of kind op with fan-in fan_in, summed over the ranges `over`, times scale.

        over: summation limits, innermost first, e.g. ((j, 1, t - 1), (t, 1, n)); the summands
        are polynomials in the summation variables (Faulhaber sums, exact for every n >= 1).
        edges_each defaults to fan_in (all operands distinct).
        """
        edges_each = fan_in if edges_each is None else edges_each
        size = COST_MODEL[op].size.subs({cost_k: fan_in})
        parts = [count, count * edges_each, count * size]
        for variable, low, high in over:
            parts = [polynomial_sum(e, variable, low, high) for e in parts]
        self.gates[op] += scale * parts[0]
        self.edges += scale * parts[1]
        self.threshold += scale * parts[2]

    def merge(self, other: "Tally", times: sympy.Expr = 1) -> None:
        for op, count in other.gates.items():
            self.gates[op] += times * count
        self.edges += times * other.edges
        self.threshold += times * other.threshold

    def add_histogram(self, histogram: Counter, edges: int, times: sympy.Expr) -> None:
        """Measured per-token gates: histogram of (op, fan-in) and their edges, `times` copies."""
        for (op, fan_in), count in histogram.items():
            size = COST_MODEL[op].size.subs({cost_k: fan_in})
            self.gates[op] += times * count
            self.threshold += times * count * size
        self.edges += times * edges


def _nonzero(exprs) -> list[int]:
    return [int(e != 0) for e in exprs]


def _has_input(expr: sympy.Expr, inputs) -> bool:
    return bool(sympy.sympify(expr).free_symbols & set(inputs))


def output_row(tally: Tally, bound: BoundRecurrence, per_tokens: sympy.Expr) -> None:
    """y_t = C h_t + D x_t: a 'mul' per non-zero C entry and an 'add' per output, each token."""
    dx = _nonzero(bound.Dx)
    for o in range(bound.C.shape[0]):
        muls = sum(1 for s in range(bound.state_size) if bound.C[o, s] != 0)
        tally.add("mul", muls * per_tokens, 2)
        if muls + dx[o]:
            tally.add("add", per_tokens, muls + dx[o])


# ---- diagonal A(x): iterated scalar products -------------------------------------------------

def diagonal(bound: BoundRecurrence) -> tuple[Tally, int]:
    """Counts of compile_diagonal; returns (tally, construction constants)."""
    tally = Tally()
    S = bound.state_size
    U = _nonzero(bound.u)
    H = [int(bound.h0 is not None and bound.h0[r] != 0) for r in range(S)]
    tally.add("mul", sum(U) * (t - 1), 2, over=((t, 1, n),))  # decay(t, j) * u_j for j < t
    tally.add("mul", sum(H) * n, 2)  # decay * h0
    for r in range(S):
        if U[r] or H[r]:
            tally.add("add", 1, U[r] * t + H[r], over=((t, 1, n),))  # h_t[r]
    logs = log_coefficients(bound)
    if logs is not None:
        _log_space(tally, bound, logs, U, H)
    else:
        _products(tally, bound, U, H)
    output_row(tally, bound, n)
    return tally, sum(H)


def _log_space(tally: Tally, bound: BoundRecurrence, logs, U, H) -> None:
    bases: dict = {}
    for r, (coefficient, base) in enumerate(logs):
        entry = bases.setdefault(base, {"U": False, "H": False, "keys": {}})
        entry["U"] |= bool(U[r])
        entry["H"] |= bool(H[r])
        key = entry["keys"].setdefault(coefficient, {"U": False, "H": False})
        key["U"] |= bool(U[r])
        key["H"] |= bool(H[r])
    for base, entry in bases.items():
        constant = not _has_input(base, bound.rec.inputs)  # every token reads one shared const
        edges = 1 if constant else t
        if entry["H"]:
            tally.add("add", 1, t, edges, over=((t, 1, n),))  # prefix sums P_t, t = 1..n
        elif entry["U"]:
            tally.add("add", 1, t, edges, over=((t, 1, n),), scale=AT_LEAST_2)  # P_t only when some j < t
        if entry["U"]:
            tally.add("add", t - 1, 2, over=((t, 1, n),))  # P_t - P_j
        for key in entry["keys"].values():
            tally.add("lookup", int(key["U"]) * n * (n - 1) / 2 + int(key["H"]) * n, 1)  # exp(c (P_t - P_j))


def _products(tally: Tally, bound: BoundRecurrence, U, H) -> None:
    groups: dict = {}
    for r in range(bound.state_size):
        entry = groups.setdefault(bound.A[r, r], {"U": False, "H": False})
        entry["U"] |= bool(U[r])
        entry["H"] |= bool(H[r])
    for expr, entry in groups.items():
        if _has_input(expr, bound.rec.inputs):
            if entry["U"]:
                tally.add("prod", 1, t - j, over=((j, 1, t - 1), (t, 1, n)))
            if entry["H"]:
                tally.add("prod", 1, t, over=((t, 1, n),))
        else:  # one shared const per token: products deduplicate by length, one edge each
            longest = n if entry["H"] else n - 1
            if entry["H"] or entry["U"]:
                tally.add("prod", 1, m, 1, over=((m, 1, longest),))


# ---- fixed A: constant kernels ---------------------------------------------------------------

def _stable_pattern(sequence: list[np.ndarray]) -> int:
    """First index from which the (boolean) patterns stay equal up to the end of the list."""
    start = len(sequence) - 1
    while start > 0 and np.array_equal(sequence[start - 1], sequence[-1]):
        start -= 1
    return start


def fixed(bound: BoundRecurrence, d_in: int) -> tuple[Tally, sympy.Expr]:
    """Counts of compile_fixed: kernel constants, 'mul' per (t, j, non-zero weight), 'add'."""
    S = bound.state_size
    A = numeric(bound.A)
    horizon = 3 * S + 6  # zero patterns of A^k settle within this many powers (checked below)
    powers = [np.eye(S, dtype=A.dtype)]
    for _ in range(horizon):
        powers.append(A @ powers[-1])
    h0 = bound.h0
    if bound.constant(bound.C):
        C = numeric(bound.C)
        CA = [C @ P for P in powers]
        B = numeric(bound.B_matrix) if bound.constant_B else None
        if B is not None and d_in <= S:
            kernels, sources = [M @ B for M in CA], [True] * d_in
        else:
            kernels, sources = CA, _nonzero(bound.u)
        dx = _nonzero(bound.Dx)
        return _kernel_sums(kernels, sources, [(M @ h0) if h0 is not None else None for M in CA], dx)
    # C(x) depends on the input: h_t = sum_j A^(t-j) u_j (+ A^t h0) materialised, then y_t = C(x_t) h_t + D x_t
    tally, constants = _kernel_sums(powers, _nonzero(bound.u), [(P @ h0) if h0 is not None else None for P in powers],
                                    [False] * S)
    output_row(tally, bound, n)
    return tally, constants


def _kernel_sums(kernels, sources, offsets, direct) -> tuple[Tally, sympy.Expr]:
    """Sum over t of the adds of sum_{j <= t} K_{t-j} s_j (+ offset_t) (+ direct term).

    m_k[o] = #non-zero K_k[o, i] over present sources; offsets[t][o] != 0 adds a constant.
    Patterns are taken as constant from the index where they settle (checked on the horizon).
    """
    tally = Tally()
    present = np.array(sources, dtype=bool)
    weights = [(np.asarray(K) != 0) & present[None, :] for K in kernels]  # (out, in) per lag
    counts = [w.sum(axis=1) for w in weights]  # m_k[o]
    shifted = [np.zeros(len(counts[0]), dtype=bool) if v is None else (np.asarray(v) != 0) for v in offsets]
    settle = max(_stable_pattern(weights), _stable_pattern(shifted[1:]) + 1)
    if settle > len(kernels) - 4:
        raise FormulaUnsupported("the zero pattern of the kernel powers does not settle; no closed form derived")
    tail_m, tail_h = counts[-1], shifted[-1]
    # kernel constants, one per (lag, o, i) used; muls: each lag k < t appears (n - k) times
    constants = sum(int(counts[q].sum()) * at_least(q + 1) for q in range(settle))
    constants += int(tail_m.sum()) * (n - settle) * at_least(settle)
    muls = sum(int(counts[q].sum()) * (n - q) * at_least(q + 1) for q in range(settle))
    muls += int(tail_m.sum()) * (n - settle) * (n - settle + 1) / 2 * at_least(settle)  # sum_{k=settle}^{n-1} (n-k)
    # offsets (C A^t h0) are constants per (t, o), t = 1..n
    constants += sum(int(shifted[q].sum()) * at_least(q) for q in range(1, settle + 1))
    constants += int(tail_h.sum()) * (n - settle) * at_least(settle)
    tally.add("mul", muls, 2)
    for o in range(len(counts[0])):
        head = [int(sum(counts[q][o] for q in range(T))) for T in range(settle + 2)]  # sum_{k < T} m_k[o]
        for T in range(1, settle + 1):  # explicit head positions t = 1..settle
            fan = head[T] + int(shifted[T][o]) + int(direct[o])
            if fan:
                tally.add("add", at_least(T), fan)
        fan_tail = head[settle] + (t - settle) * int(tail_m[o]) + int(tail_h[o]) + int(direct[o])
        if fan_tail != 0:
            tally.add("add", 1, fan_tail, over=((t, settle + 1, n),), scale=at_least(settle + 1))
    return tally, constants


# ---- non-commuting A(x): Sklansky scan tree --------------------------------------------------

def _bool_product(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return (X.astype(int) @ Y.astype(int)) > 0


def _compose_counts(tally: Tally, PA: np.ndarray, left_vector: np.ndarray, right_vector: np.ndarray,
                    with_matrix: bool, times: sympy.Expr) -> None:
    """Gates of one composition (A_r A_l, A_r u_l + u_r), structural zeros skipped."""
    S = len(PA)
    for i in range(S):
        muls = int(sum(PA[i, q] and left_vector[q] for q in range(S)))
        tally.add("mul", times * muls, 2)
        if muls + right_vector[i]:
            tally.add("add", times, muls + int(right_vector[i]))
        if with_matrix:
            for col in range(S):
                muls = int(sum(PA[i, q] and PA[q, col] for q in range(S)))
                tally.add("mul", times * muls, 2)
                if muls:
                    tally.add("add", times, muls)


def scan_tree(bound: BoundRecurrence) -> tuple[Tally, int]:
    """Counts of compile_scan_tree. Requires zero patterns closed under composition."""
    S = bound.state_size
    entries = list(bound.A) + list(bound.u)
    if any(e != 0 and not _has_input(e, bound.rec.inputs) for e in entries):
        raise FormulaUnsupported("scan tree with constant non-zero entries of A(x) or u(x): operands may repeat")
    PA = np.array([[bound.A[i, q] != 0 for q in range(S)] for i in range(S)], dtype=bool)
    Pu = np.array(_nonzero(bound.u), dtype=bool)
    has_h0 = bound.h0 is not None
    V0 = (PA.any(axis=1) | Pu) if has_h0 else Pu
    closed = (np.array_equal(_bool_product(PA, PA), PA) and np.array_equal(_bool_product(PA, Pu[:, None])[:, 0] | Pu, Pu)
              and np.array_equal(_bool_product(PA, V0[:, None])[:, 0] | Pu, V0))
    if not closed:
        raise FormulaUnsupported("scan tree whose zero pattern changes under composition: not derived")
    tally = Tally()
    compositions = bit_ones_below(n)  # every position i passes popcount(i) compositions
    _compose_counts(tally, PA, Pu, Pu, True, compositions - (n - 1))  # left block without position 1
    _compose_counts(tally, PA, V0, Pu, False, n - 1)  # left block holds position 1: vectors only
    if has_h0:
        _compose_counts(tally, PA, np.ones(S, dtype=bool), Pu, False, 1)  # h0 into element 1
    output_row(tally, bound, n)
    return tally, S if has_h0 else 0


# ---- nonlinear update: sequential chain ------------------------------------------------------

def chain(bound: BoundRecurrence) -> tuple[Tally, int]:
    """Counts of compile_chain: per step a 'mul' per non-zero A entry, an 'add', a 'lookup'."""
    tally = Tally()
    S = bound.state_size
    U = _nonzero(bound.u)
    has_h0 = bound.h0 is not None
    squash = bound.rec.nonlinearity is not None
    for r in range(S):
        muls = sum(1 for s in range(S) if bound.A[r, s] != 0)
        steps_with_h = n if has_h0 else n - 1  # without h0 the first step has no previous state
        tally.add("mul", muls * steps_with_h, 2)
        if muls + U[r]:
            tally.add("add", steps_with_h, muls + U[r])
        if U[r] and not has_h0:
            tally.add("add", 1, 1)  # t = 1: pre = add(u_1) alone
        if squash:
            tally.add("lookup", n, 1)
    output_row(tally, bound, n)
    return tally, S if has_h0 else 0


# ---- softmax attention -----------------------------------------------------------------------

def attention(query: list, key: list, value: list, causal: bool) -> Tally:
    """Counts of compile_attention: scores, exp lookups, normaliser, weighted sums, divisions."""
    tally = Tally()
    visible = t if causal else n
    dk, dv = len(query), len(value)
    same = sum(1 for q, kk in zip(query, key) if q == kk)  # q_t . k_t reads one node twice
    tally.add("mul", visible * dk, 2, over=((t, 1, n),))
    if same:
        tally.edges -= same * n  # j = t: mul(x, x) is one edge
    tally.add("add", visible, dk, over=((t, 1, n),))  # score
    tally.add("lookup", visible, 1, over=((t, 1, n),))  # exp
    tally.add("add", 1, visible, over=((t, 1, n),))  # normaliser
    tally.add("mul", dv * visible, 2, over=((t, 1, n),))
    tally.add("add", dv, visible, over=((t, 1, n),))  # numerator
    tally.add("div", dv * n, 2)
    return tally
