"""Gate counts of each construction as sympy expressions in n, derived from its loops.

A `Tally` accumulates, per gate family, the count, the edges (distinct operands: a DiGraph
holds mul(x, x) as one edge) and the threshold gates (the cost model's size at the family's
fan-in k and precision p, summed symbolically over t and j when k depends on them).
The counters here cover the gates a construction adds around the per-token work; the
per-token work itself (the spec's expressions, compiled once per position) is measured at
small n by `numeric.py` and added as (tokens at t = 1) + (n - 1) (tokens at t >= 2).

Each construction is counted in two steps: a *shape* (what the construction's loops see:
how many states, outputs, bases, ... of each kind, as multisets `{kind: multiplicity}`)
and a tally computed from the shape alone. `numeric.py` reads the shapes off a bound
recurrence; the formulas in d and N (`interpolate.py`) are interpolated from those tallies,
so this is the only place where a construction's gates are counted.

Glossary: n sequence length, t output position, j source position (j < t), S state size,
U_r "u_r = (B(x) x)_r is not structurally 0", H_r "h0_r != 0".
"""
from __future__ import annotations

import functools
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import sympy

from tc0lab.circuit.cost import COST_MODEL, k as cost_k
from tc0lab.compiler.diagonal_decay import diagonal_entries, log_coefficients
from tc0lab.compiler.recurrence_terms import BoundRecurrence, numeric
from tc0lab.formulas.symbols import FormulaUnsupported, n

t, j, m = sympy.symbols("t j m", positive=True, integer=True)
AT_LEAST_2 = 1 - sympy.KroneckerDelta(n, 1)  # 1 when n >= 2, else 0


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
    by_degree: dict = defaultdict(list)
    for term in sympy.Add.make_args(expr):  # term = coefficient * variable**degree (expanded)
        coefficient, degree = term.as_coeff_exponent(variable)
        if not (degree.is_Integer and degree >= 0) or coefficient.has(variable):
            raise FormulaUnsupported(f"summand {expr} is not a polynomial in {variable}")
        by_degree[int(degree)].append(coefficient)
    total = sympy.Integer(0)
    for degree, coefficients in by_degree.items():
        power_sum = _power_sum(degree)
        total += sympy.Add(*coefficients) * (power_sum.xreplace({_x: high}) - power_sum.xreplace({_x: low - 1}))
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
        size = COST_MODEL[op].size.xreplace({cost_k: sympy.sympify(fan_in)})
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
            size = COST_MODEL[op].size.xreplace({cost_k: sympy.sympify(fan_in)})
            self.gates[op] += times * count
            self.threshold += times * count * size
        self.edges += times * edges


def _nonzero(exprs) -> list[int]:
    return [int(e != 0) for e in exprs]


def _has_input(expr: sympy.Expr, inputs) -> bool:
    return bool(sympy.sympify(expr).free_symbols & set(inputs))


Multiset = dict  # kind -> multiplicity


def output_shape(bound: BoundRecurrence) -> Multiset:
    """Outputs y_t[o] by (non-zero C entries in row o, whether D x_t[o] is non-zero)."""
    dx = _nonzero(bound.Dx)
    return Counter((sum(1 for s in range(bound.state_size) if bound.C[o, s] != 0), dx[o]) for o in range(bound.C.shape[0]))


def output_rows(tally: Tally, rows: Multiset, per_tokens: sympy.Expr) -> None:
    """y_t = C h_t + D x_t: a 'mul' per non-zero C entry and an 'add' per output, each token."""
    for (muls, dx), count in rows.items():
        tally.add("mul", count * muls * per_tokens, 2)
        if muls + dx != 0:
            tally.add("add", count * per_tokens, muls + dx)


# ---- diagonal A(x): iterated scalar products -------------------------------------------------

@dataclass
class DiagonalShape:
    """states: (U_r, H_r) -> count; log_bases: (base is constant, U, H, keys) -> count, keys a
    tuple of ((U, H), count) for the distinct coefficients of that base (None: no log space);
    products: (entry reads the input, U, H) -> count of distinct diagonal entries; rows: outputs."""

    states: Multiset
    log_bases: Multiset | None
    products: Multiset
    rows: Multiset


def diagonal_shape(bound: BoundRecurrence) -> DiagonalShape:
    S = bound.state_size
    U = _nonzero(bound.u)
    H = [int(bound.h0 is not None and bound.h0[r] != 0) for r in range(S)]
    states = Counter(zip(U, H))
    if any(entry == 0 for entry in diagonal_entries(bound)):
        raise FormulaUnsupported("diagonal A(x) with a structurally zero entry (a memoryless coordinate): not derived")
    logs = log_coefficients(diagonal_entries(bound))
    products: Counter = Counter()
    log_bases = None
    if logs is not None:
        bases: dict = {}
        for r, (coefficient, base) in enumerate(logs):
            flags, keys = bases.setdefault(base, ([0, 0], {}))
            flags[0] |= U[r]
            flags[1] |= H[r]
            key = keys.setdefault(coefficient, [0, 0])
            key[0] |= U[r]
            key[1] |= H[r]
        log_bases = Counter((not _has_input(base, bound.rec.inputs), flags[0], flags[1],
                             tuple(sorted(Counter(tuple(k) for k in keys.values()).items())))
                            for base, (flags, keys) in bases.items())
    else:
        groups: dict = {}
        for r in range(S):
            flags = groups.setdefault(bound.A[r, r], [0, 0])
            flags[0] |= U[r]
            flags[1] |= H[r]
        products = Counter((_has_input(expr, bound.rec.inputs), u, h) for expr, (u, h) in groups.items())
    return DiagonalShape(dict(states), log_bases, dict(products), output_shape(bound))


def diagonal(shape: DiagonalShape) -> tuple[Tally, sympy.Expr]:
    """Counts of compile_diagonal; returns (tally, construction constants)."""
    tally = Tally()
    with_u = sum((c for (u, _), c in shape.states.items() if u), sympy.Integer(0))
    with_h0 = sum((c for (_, h), c in shape.states.items() if h), sympy.Integer(0))
    tally.add("mul", with_u * (t - 1), 2, over=((t, 1, n),))  # decay(t, j) * u_j for j < t
    tally.add("mul", with_h0 * n, 2)  # decay * h0
    for (u, h), count in shape.states.items():
        if u or h:
            tally.add("add", count, u * t + h, over=((t, 1, n),))  # h_t[r]
    if shape.log_bases is not None:
        _log_space(tally, shape.log_bases)
    else:
        _products(tally, shape.products)
    output_rows(tally, shape.rows, n)
    return tally, with_h0


def _log_space(tally: Tally, log_bases: Multiset) -> None:
    for (constant, u, h, keys), count in log_bases.items():
        edges = 1 if constant else t  # a constant base: every token reads one shared const
        if h:
            tally.add("add", count, t, edges, over=((t, 1, n),))  # prefix sums P_t, t = 1..n
        elif u:
            tally.add("add", count, t, edges, over=((t, 1, n),), scale=AT_LEAST_2)  # P_t only when some j < t
        if u:
            tally.add("add", count * (t - 1), 2, over=((t, 1, n),))  # P_t - P_j
        for (key_u, key_h), keys_count in keys:
            tally.add("lookup", count * keys_count * (key_u * n * (n - 1) / 2 + key_h * n), 1)  # exp(c (P_t - P_j))


def _products(tally: Tally, products: Multiset) -> None:
    for (reads_input, u, h), count in products.items():
        if reads_input:
            if u:
                tally.add("prod", count, t - j, over=((j, 1, t - 1), (t, 1, n)))
            if h:
                tally.add("prod", count, t, over=((t, 1, n),))
        elif u or h:  # one shared const per token: products deduplicate by length, one edge each
            tally.add("prod", count, m, 1, over=((m, 1, n if h else n - 1),))


# ---- fixed A: constant kernels ---------------------------------------------------------------

@dataclass
class KernelShape:
    """Outputs by (m_k[o] for lags k < settle and the settled tail, offset pattern at
    t = 1..settle and tail, D term): how many outputs o have each kind. m_k[o] counts the
    non-zero kernel weights of output o at lag k; patterns are constant from `settle` on."""

    settle: int
    outputs: Multiset


def _stable_pattern(sequence: list[np.ndarray]) -> int:
    """First index from which the (boolean) patterns stay equal up to the end of the list."""
    start = len(sequence) - 1
    while start > 0 and np.array_equal(sequence[start - 1], sequence[-1]):
        start -= 1
    return start


def fixed_shape(bound: BoundRecurrence, d_in: int) -> tuple[KernelShape, DiagonalShape | None]:
    """The kernel shape of compile_fixed, and (C reads the input) the output rows to add."""
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
        offsets = [(M @ h0) if h0 is not None else None for M in CA]
        return _kernel_shape(kernels, sources, offsets, _nonzero(bound.Dx)), None
    # C(x) depends on the input: h_t = sum_j A^(t-j) u_j (+ A^t h0) materialised, then y_t = C(x_t) h_t + D x_t
    offsets = [(P @ h0) if h0 is not None else None for P in powers]
    return _kernel_shape(powers, _nonzero(bound.u), offsets, [False] * S), output_shape(bound)


def _kernel_shape(kernels, sources, offsets, direct) -> KernelShape:
    present = np.array(sources, dtype=bool)
    weights = [(np.asarray(K) != 0) & present[None, :] for K in kernels]  # (out, in) per lag
    counts = [w.sum(axis=1) for w in weights]  # m_k[o]
    shifted = [np.zeros(len(counts[0]), dtype=bool) if v is None else (np.asarray(v) != 0) for v in offsets]
    settle = max(_stable_pattern(weights), _stable_pattern(shifted[1:]) + 1)
    if settle > len(kernels) - 4:
        raise FormulaUnsupported("the zero pattern of the kernel powers does not settle; no closed form derived")
    outputs = Counter((tuple(int(counts[q][o]) for q in range(settle)) + (int(counts[-1][o]),),
                       tuple(int(shifted[q][o]) for q in range(1, settle + 1)) + (int(shifted[-1][o]),),
                       int(direct[o])) for o in range(len(counts[0])))
    return KernelShape(settle, dict(outputs))


def fixed(shape: KernelShape, rows: Multiset | None = None) -> tuple[Tally, sympy.Expr]:
    """Counts of compile_fixed: kernel constants, 'mul' per (t, j, non-zero weight), 'add'.

    Sum over t of the adds of sum_{j <= t} K_{t-j} s_j (+ offset_t) (+ direct term); rows
    adds y_t = C(x_t) h_t + D x_t when C reads the input.
    """
    tally = Tally()
    settle = shape.settle

    def total(pick) -> sympy.Expr:
        return sum((count * pick(key) for key, count in shape.outputs.items()), sympy.Integer(0))

    lag = [total(lambda key, q=q: key[0][q]) for q in range(settle + 1)]  # lag[settle]: the tail
    offset = [total(lambda key, q=q: key[1][q]) for q in range(settle + 1)]  # offset[q]: t = q + 1
    # kernel constants, one per (lag, o, i) used; muls: each lag k < t appears (n - k) times
    constants = sum((lag[q] * at_least(q + 1) for q in range(settle)), sympy.Integer(0))
    constants += lag[settle] * (n - settle) * at_least(settle)
    muls = sum((lag[q] * (n - q) * at_least(q + 1) for q in range(settle)), sympy.Integer(0))
    muls += lag[settle] * (n - settle) * (n - settle + 1) / 2 * at_least(settle)  # sum_{k=settle}^{n-1} (n-k)
    # offsets (C A^t h0) are constants per (t, o), t = 1..n
    constants += sum((offset[q - 1] * at_least(q) for q in range(1, settle + 1)), sympy.Integer(0))
    constants += offset[settle] * (n - settle) * at_least(settle)
    tally.add("mul", muls, 2)
    for (lags, offsets, direct), count in shape.outputs.items():
        head = [sum(lags[:T]) for T in range(settle + 1)]  # sum_{k < T} m_k[o]
        for T in range(1, settle + 1):  # explicit head positions t = 1..settle
            fan = head[T] + offsets[T - 1] + direct
            if fan != 0:
                tally.add("add", count * at_least(T), fan)
        fan_tail = head[settle] + (t - settle) * lags[settle] + offsets[settle] + direct
        if fan_tail != 0:
            tally.add("add", count, fan_tail, over=((t, settle + 1, n),), scale=at_least(settle + 1))
    if rows is not None:
        output_rows(tally, rows, n)
    return tally, constants


# ---- non-commuting A(x): Sklansky scan tree --------------------------------------------------

@dataclass
class ComposeShape:
    """One kind of composition (A_r A_l, A_r u_l + u_r): vector rows by (muls, u_r != 0) and,
    when the left element still has a matrix, matrix entries by their muls."""

    vector: Multiset
    matrix: Multiset | None


@dataclass
class ScanShape:
    """inner: compositions of two matrix elements; first: compositions whose left block holds
    position 1 (vectors only); h0: h0 folded into element 1 (None without h0)."""

    inner: ComposeShape
    first: ComposeShape
    h0: ComposeShape | None
    rows: Multiset
    constants: sympy.Expr


def _bool_product(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return (X.astype(int) @ Y.astype(int)) > 0


def _compose_shape(PA: np.ndarray, left_vector: np.ndarray, right_vector: np.ndarray, with_matrix: bool) -> ComposeShape:
    S = len(PA)
    vector = Counter((int(sum(PA[i, q] and left_vector[q] for q in range(S))), int(right_vector[i])) for i in range(S))
    matrix = Counter(int(sum(PA[i, q] and PA[q, col] for q in range(S))) for i in range(S) for col in range(S))
    matrix.pop(0, None)  # structurally zero entries of the product: no gate
    return ComposeShape(dict(vector), dict(matrix) if with_matrix else None)


def scan_tree_shape(bound: BoundRecurrence) -> ScanShape:
    """The shape of compile_scan_tree. Requires zero patterns closed under composition."""
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
    h0 = _compose_shape(PA, np.ones(S, dtype=bool), Pu, False) if has_h0 else None
    return ScanShape(_compose_shape(PA, Pu, Pu, True), _compose_shape(PA, V0, Pu, False), h0,
                     output_shape(bound), sympy.Integer(S if has_h0 else 0))


def _compose_counts(tally: Tally, shape: ComposeShape, times: sympy.Expr) -> None:
    """Gates of `times` compositions of one kind, structural zeros skipped."""
    for (muls, right), count in shape.vector.items():
        tally.add("mul", times * count * muls, 2)
        if muls + right != 0:
            tally.add("add", times * count, muls + right)
    for muls, count in (shape.matrix or {}).items():
        tally.add("mul", times * count * muls, 2)
        if muls != 0:
            tally.add("add", times * count, muls)


def scan_tree(shape: ScanShape) -> tuple[Tally, sympy.Expr]:
    """Counts of compile_scan_tree; every position i passes popcount(i) compositions."""
    tally = Tally()
    compositions = bit_ones_below(n)
    _compose_counts(tally, shape.inner, compositions - (n - 1))  # left block without position 1
    _compose_counts(tally, shape.first, n - 1)  # left block holds position 1: vectors only
    if shape.h0 is not None:
        _compose_counts(tally, shape.h0, 1)  # h0 into element 1
    output_rows(tally, shape.rows, n)
    return tally, shape.constants


# ---- nonlinear update: sequential chain ------------------------------------------------------

@dataclass
class ChainShape:
    """states: (non-zero A entries in row r, u_r != 0) -> count; the loop's h0 and squash."""

    states: Multiset
    has_h0: bool
    squash: bool
    rows: Multiset
    constants: sympy.Expr


def chain_shape(bound: BoundRecurrence) -> ChainShape:
    S = bound.state_size
    U = _nonzero(bound.u)
    states = Counter((sum(1 for s in range(S) if bound.A[r, s] != 0), U[r]) for r in range(S))
    has_h0 = bound.h0 is not None
    return ChainShape(dict(states), has_h0, bound.rec.nonlinearity is not None, output_shape(bound),
                      sympy.Integer(S if has_h0 else 0))


def chain(shape: ChainShape) -> tuple[Tally, sympy.Expr]:
    """Counts of compile_chain: per step a 'mul' per non-zero A entry, an 'add', a 'lookup'."""
    tally = Tally()
    steps_with_h = n if shape.has_h0 else n - 1  # without h0 the first step has no previous state
    for (muls, u), count in shape.states.items():
        tally.add("mul", count * muls * steps_with_h, 2)
        if muls + u != 0:
            tally.add("add", count * steps_with_h, muls + u)
        if u and not shape.has_h0:
            tally.add("add", count, 1)  # t = 1: pre = add(u_1) alone
        if shape.squash:
            tally.add("lookup", count * n, 1)
    output_rows(tally, shape.rows, n)
    return tally, shape.constants


# ---- softmax attention -----------------------------------------------------------------------

@dataclass
class AttentionShape:
    """Query/key width, value width, how many q_i and k_i are the same expression, causality."""

    d_key: sympy.Expr
    d_value: sympy.Expr
    same: sympy.Expr
    causal: bool


def attention_shape(query: list, key: list, value: list, causal: bool) -> AttentionShape:
    return AttentionShape(len(query), len(value), sum(1 for q, kk in zip(query, key) if q == kk), causal)


def attention(shape: AttentionShape) -> tuple[Tally, sympy.Expr]:
    """Counts of compile_attention: scores, exp lookups, normaliser, weighted sums, divisions."""
    tally = Tally()
    visible = t if shape.causal else n
    dk, dv = shape.d_key, shape.d_value
    tally.add("mul", visible * dk, 2, over=((t, 1, n),))
    tally.edges -= shape.same * n  # j = t: mul(x, x) is one edge
    tally.add("add", visible, dk, over=((t, 1, n),))  # score
    tally.add("lookup", visible, 1, over=((t, 1, n),))  # exp
    tally.add("add", 1, visible, over=((t, 1, n),))  # normaliser
    tally.add("mul", dv * visible, 2, over=((t, 1, n),))
    tally.add("add", dv, visible, over=((t, 1, n),))  # numerator
    tally.add("div", dv * n, 2)
    return tally, sympy.Integer(0)
