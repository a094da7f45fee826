"""Commuting A(x) with a constant eigenbasis: diagonalise at compile time, compile the diagonal recurrence.

Theorem. Let A(x) A(x0) = A(x0) A(x) for every input x, and let A(x0) have S distinct
eigenvalues, with eigenvectors W (columns). Then W^-1 A(x) W is diagonal for every x.
Proof: for an eigenvector w of A(x0) with eigenvalue mu, A(x0) (A(x) w) = A(x) A(x0) w =
mu A(x) w, so A(x) w lies in the mu-eigenspace of A(x0), which is one-dimensional because
the eigenvalues are distinct: A(x) w = lambda(x) w. (Equivalently: whatever commutes with a
matrix of distinct eigenvalues is a polynomial in it.)

With h' = W^-1 h the recurrence becomes diagonal: h'_t = Lambda(x_t) h'_{t-1} + W^-1 B(x_t) x_t,
y_t = C(x_t) W h'_t + D x_t, h'_0 = W^-1 h_0, where lambda_i(x) = (W^-1 A(x) W)_ii =
sum_{j,k} (W^-1)_ij W_ki A(x)_jk is a fixed linear combination of A's entries. That is the
diagonal construction (`diagonal_decay.decay_sums`, 'prod' gates since lambda may be complex
or negative): constant threshold depth in n (iterated products of complex numbers are
iterated products of their moduli and sums of their angles, in TC0 like real ones).

How each hypothesis is established, at compile time and with the parameter values bound:
  commutation   by `tc0lab.spec.structure.analyze` (sympy simplifies [A(x), A(x')] to 0);
                the compiler then refutes it numerically too: W^-1 A(x) W must be diagonal
                at further random inputs, or the basis is not used.
  distinctness  x0 is a random dyadic rational input; M = A(x0) as computed in float64 is
                converted exactly to sympy Rationals and the discriminant of its
                characteristic polynomial is computed exactly: non-zero proves that M has
                distinct eigenvalues. A(x0) itself differs from M by the rounding of its
                entries, |E| <= ROUNDING (1 + |M|); by Bauer-Fike every eigenvalue moves by
                at most cond(W) |E|, so when the smallest gap exceeds twice that (checked),
                the eigenvalues of A(x0) are distinct too.
W is numeric (complex for complex eigenvalues). When A(x0) is real, its complex eigenvectors
are taken in conjugate pairs, adjacent, and every constant of one member is the exact
conjugate of the other's, so the two coordinates are computed as exact mirror images and
each output's sum cancels their imaginary parts exactly: y is real, as the reference is.
The off-diagonal entries of W^-1 A(x) W are zero by the theorem and are dropped; weights
below NEGLIGIBLE times the largest of their row are dropped as rounding residue.
A complex diagonal in real form (rotation-scaling 2 x 2 blocks, `structure.rotation_pairs`) needs
none of this: the basis (1, -i)/sqrt 2, (1, i)/sqrt 2 of each block diagonalises every such
matrix, repeated eigenvalues included.
If no x0 among a few gives distinct eigenvalues (e.g. a commuting family that cannot be
diagonalised, or one with a repeated eigenvalue), `diagonalising_basis` says why and the
compiler uses the scan tree instead.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sympy

from tc0lab.circuit.build import CircuitBuilder, Node
from tc0lab.compiler.diagonal_decay import initial_state_nodes, product_decays, recurrence_columns
from tc0lab.compiler.recurrence_terms import (BoundRecurrence, numeric, outputs_from_columns, token_nodes,
                                              token_program)
from tc0lab.spec.numeric import SparseMatrixFunction
from tc0lab.spec.structure import rotation_pairs

ATTEMPTS = 3  # generic points x0 tried before giving up
ROUNDING = 1e-12  # bound on |A(x0) - M| / (1 + |M|): entries computed to far better than this
NEGLIGIBLE = 1e-13  # relative size below which a basis weight is rounding residue
RESIDUAL = 1e-8  # largest off-diagonal of W^-1 A(x) W (relative to cond(W) (1 + |A(x)|)) the check accepts


@dataclass(frozen=True)
class Eigenbasis:
    """W (eigenvectors of A(x0) as columns), its inverse, and each column's conjugate partner."""

    W: np.ndarray
    W_inv: np.ndarray
    partner: tuple[int, ...]  # partner[i]: the column conjugate to column i (i itself: a real column)
    point: tuple[float, ...]  # x0


@dataclass(frozen=True)
class BasisSearch:
    basis: Eigenbasis | None
    reason: str  # how the basis was proven, or why none was found


def rotation_basis(size: int) -> Eigenbasis:
    """The exact basis of block-diagonal rotation-scalings: per pair, (1, -i)/sqrt 2 and its conjugate
    ([[a, -b], [b, a]] (1, -i) = (a + ib)(1, -i)), for every A(x) of that form at once."""
    pair = np.array([[1.0, 1.0], [-1.0j, 1.0j]]) / np.sqrt(2.0)
    W = np.kron(np.eye(size // 2), pair)
    partner = tuple(i + 1 if i % 2 == 0 else i - 1 for i in range(size))
    return Eigenbasis(W, mirror_rows(np.linalg.inv(W), partner), partner, ())


@functools.lru_cache(maxsize=64)
def diagonalising_basis(bound: BoundRecurrence, seed: int = 0) -> BasisSearch:
    """A constant basis W with W^-1 A(x) W diagonal for all x, proven as the module docstring says, or why not."""
    if rotation_pairs(bound.rec.A):
        return BasisSearch(rotation_basis(bound.state_size),
                           "A(x) is block diagonal with rotation-scaling blocks [[a, -b], [b, a]] (a complex diagonal "
                           "in real form): the constant basis (1, -i)/sqrt 2, (1, i)/sqrt 2 of each block diagonalises "
                           "every A(x), whatever its eigenvalues")
    matrix = SparseMatrixFunction(bound.A, bound.rec.inputs)
    rng = np.random.default_rng(seed)
    failures = []
    for _ in range(ATTEMPTS):
        x0 = rng.integers(-24, 25, size=bound.rec.d_in) / 16  # dyadic: exact as float and as a Rational
        M = matrix(x0)
        if not np.all(np.isfinite(M)):
            failures.append(f"A(x0) is not finite at x0 = {x0.tolist()}")
            continue
        if exact_discriminant(M) == 0:
            failures.append(f"A(x0) has a repeated eigenvalue at x0 = {x0.tolist()} (exact discriminant 0)")
            continue
        basis = eigenbasis(M, tuple(x0.tolist()))
        problem = _separation_problem(M, basis) or _residual_problem(matrix, basis, rng)
        if problem:
            failures.append(problem)
            continue
        return BasisSearch(basis, f"A(x0) at x0 = {list(basis.point)} has distinct eigenvalues (exact discriminant of the "
                                  f"characteristic polynomial of its float64 value is non-zero, and the eigenvalue gap "
                                  f"exceeds the Bauer-Fike bound of its rounding), so every A(x) commuting with it is "
                                  f"diagonal in its eigenbasis")
    return BasisSearch(None, "no constant eigenbasis proven: " + "; ".join(failures))


def exact_discriminant(M: np.ndarray) -> sympy.Expr:
    """The discriminant of det(lambda I - M), computed exactly over the Rationals of M's float entries."""
    size = M.shape[0]
    entries = [sympy.Rational(float(v.real)) + sympy.I * sympy.Rational(float(v.imag)) if np.iscomplexobj(M)
               else sympy.Rational(float(v)) for v in M.flat]
    return sympy.Matrix(size, size, entries).charpoly(sympy.Symbol("lambda")).discriminant()


def eigenbasis(M: np.ndarray, point: tuple[float, ...]) -> Eigenbasis:
    """Eigenvectors of M; for a real M, real columns and conjugate pairs of adjacent columns, exactly mirrored."""
    values, vectors = np.linalg.eig(M)
    if np.iscomplexobj(M) and np.any(M.imag):
        return Eigenbasis(vectors, np.linalg.inv(vectors), tuple(range(len(values))), point)
    columns, partner = [], []
    for i in np.argsort(-values.imag, kind="stable"):  # upper members first, in numpy's order
        if values[i].imag == 0:
            columns.append(vectors[:, i].real / np.linalg.norm(vectors[:, i].real))
            partner.append(len(partner))
        elif values[i].imag > 0:
            first = len(partner)
            columns += [vectors[:, i], vectors[:, i].conj()]
            partner += [first + 1, first]
    W = np.stack(columns, axis=1)
    W_inv = mirror_rows(np.linalg.inv(W), partner)
    return Eigenbasis(W, W_inv, tuple(partner), point)


def mirror_rows(matrix: np.ndarray, partner) -> np.ndarray:
    """Rows made exact conjugates of their partner's (real where the partner is the row itself)."""
    result = matrix.copy()
    for i, j in enumerate(partner):
        if i == j:
            result[i] = result[i].real if np.iscomplexobj(result) else result[i]
        elif i < j:
            result[i] = (matrix[i] + matrix[j].conj()) / 2
            result[j] = result[i].conj()
    return result


def _separation_problem(M: np.ndarray, basis: Eigenbasis) -> str | None:
    """Why the rounding of A(x0) might merge two eigenvalues (Bauer-Fike), or None."""
    values = np.linalg.eigvals(M)
    gap = min((abs(a - b) for i, a in enumerate(values) for b in values[i + 1:]), default=np.inf)
    shift = np.linalg.cond(basis.W) * ROUNDING * (1 + np.linalg.norm(M, 2))
    if not gap > 2 * shift:
        return f"the eigenvalues of A(x0) at x0 = {list(basis.point)} are too close (gap {gap:.3g}) for its rounding"
    return None


def _residual_problem(matrix: SparseMatrixFunction, basis: Eigenbasis, rng: np.random.Generator) -> str | None:
    """A random input where W^-1 A(x) W is not diagonal (so A does not commute at these values), or None."""
    condition = np.linalg.cond(basis.W)
    for _ in range(3):
        x = rng.normal(0.0, 1.0, size=len(basis.point))
        A = matrix(x)
        if not np.all(np.isfinite(A)):
            continue
        D = basis.W_inv @ A @ basis.W
        off = np.max(np.abs(D - np.diag(np.diag(D)))) if D.shape[0] > 1 else 0.0
        if off > RESIDUAL * condition * (1 + np.max(np.abs(A))):
            return f"W^-1 A(x) W is not diagonal at a random x (off-diagonal {off:.3g})"
    return None


def eigenvalue_weights(basis: Eigenbasis) -> np.ndarray:
    """weights[i, j * S + k] = (W^-1)_ij W_ki, so that lambda_i(x) = sum_{j,k} weights[i, jS+k] A(x)_jk."""
    S = basis.W.shape[0]
    weights = np.einsum("ij,ki->ijk", basis.W_inv, basis.W).reshape(S, S * S)
    return mirror_rows(weights, basis.partner)


def compile_diagonalised(builder: CircuitBuilder, bound: BoundRecurrence, z: list[list[str]], layer: int) -> list[list[str]]:
    """Outputs (n rows of d_out nodes) of a linear recurrence with commuting A(x), in A(x0)'s eigenbasis."""
    basis = diagonalising_basis(bound).basis
    if basis is None:
        raise ValueError(f"no proven eigenbasis for {bound.rec.name!r}: {diagonalising_basis(bound).reason}")
    S, n = bound.state_size, len(z)
    constant_C = bound.constant(bound.C)
    compilers = token_nodes(builder, token_program(bound, layer, "AuD" if constant_C else "AuCD"), z)
    eigenvalues = as_rows(linear_combinations(builder, layer, eigenvalue_weights(basis), compilers.rows(list(bound.A)),
                                              "lambda"), n)
    inputs = as_rows(linear_combinations(builder, layer, basis.W_inv, compilers.rows(bound.u), "u_eig"), n)
    h0 = initial_state_nodes(builder, _initial_state(bound, basis), layer, "h0_eig") or [None] * S
    memory = [eigenvalues[0][i] is not None for i in range(S)]
    decaying = [i for i in range(S) if memory[i]]
    columns = recurrence_columns(builder, layer, inputs, h0, range(S), memory,
                                 product_decays(builder, [[row[i] for i in decaying] for row in eigenvalues], layer,
                                                decaying), compilers)
    h_rows = [list(row) for row in zip(*columns)]
    C_columns = (_constant_output_weights(builder, bound, basis, layer, n) if constant_C else
                 [linear_combinations(builder, layer, basis.W.T, compilers.rows(list(bound.C[o, :])), f"C_eig[o={o}]")
                  for o in range(bound.C.shape[0])])
    return outputs_from_columns(builder, compilers, C_columns, compilers.rows(bound.Dx), h_rows, layer)


def _initial_state(bound: BoundRecurrence, basis: Eigenbasis) -> np.ndarray | None:
    """h'_0 = W^-1 h_0 (paired entries exact conjugates when h_0 is real)."""
    if bound.h0 is None:
        return None
    h0 = basis.W_inv @ bound.h0
    return mirror_rows(h0[:, None], basis.partner)[:, 0] if not np.iscomplexobj(bound.h0) else h0


def _constant_output_weights(builder: CircuitBuilder, bound: BoundRecurrence, basis: Eigenbasis, layer: int,
                             n: int) -> list[list[list | None]]:
    """C' = C W as one const per entry (columns over t); paired columns exact conjugates when C is real."""
    C = numeric(bound.C)
    weights = C @ basis.W
    if not np.iscomplexobj(C):
        weights = mirror_rows(weights.T, basis.partner).T
    kept = ~negligible(weights)
    return [[[builder.const(scalar(weights[o, s]), name=f"L{layer}.C_eig[o={o},s={s}]", role="basis")] * n
             if kept[o, s] else None for s in range(weights.shape[1])] for o in range(weights.shape[0])]


def negligible(weights: np.ndarray) -> np.ndarray:
    """Entries below NEGLIGIBLE times the largest of their row (rounding residue of zeros)."""
    scale = np.max(np.abs(weights), axis=1, keepdims=True) if weights.size else weights
    return np.abs(weights) <= NEGLIGIBLE * scale


def scalar(value: complex) -> complex | float:
    """A Python float when the value is real, else a complex."""
    return float(value.real) if np.imag(value) == 0 else complex(value)


def linear_combinations(builder: CircuitBuilder, layer: int, weights: np.ndarray, sources: list[list[Node | None]],
                        label: str) -> list[list[Node] | None]:
    """columns[r][t - 1] = sum_k weights[r, k] sources[t - 1][k]: a 'mul' by a const per kept weight, one 'add'.

    A structurally zero source (None, the same at every t) and a negligible weight get no gate;
    a weight of exactly 1 reads the source directly. columns[r] is None where nothing is kept.
    """
    n = len(sources)
    ts = list(range(1, n + 1))
    present = [k for k in range(weights.shape[1]) if sources[0][k] is not None]
    dropped = negligible(weights)
    builder.at(layer, None)
    columns: list[list[Node] | None] = []
    for r in range(weights.shape[0]):
        terms = []
        for k in (k for k in present if not dropped[r, k]):
            source = [row[k] for row in sources]
            if weights[r, k] == 1:
                terms.append(source)
                continue
            weight = builder.const(scalar(weights[r, k]), name=f"L{layer}.{label}.w[r={r},k={k}]", role="basis")
            terms.append(builder.add_gates("mul", lambda r=r, k=k: [f"L{layer}.{label}.wx[t={t},r={r},k={k}]" for t in ts],
                                           [(weight, node) for node in source], ts, label))
        if len(terms) > 1:
            terms = [builder.add_gates("add", lambda r=r: [f"L{layer}.{label}[t={t},r={r}]" for t in ts],
                                       list(zip(*terms)), ts, label)]
        columns.append(list(terms[0]) if terms else None)
    return columns


def as_rows(columns: list[list[Node] | None], n: int) -> list[list[Node | None]]:
    """rows[t - 1][r] from columns[r][t - 1] (None columns give None entries)."""
    return [[None if column is None else column[t] for column in columns] for t in range(n)]
