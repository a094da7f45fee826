"""The eigenvalue proof for transitions (I - R) D: D a positive diagonal, R symmetric, rank one, PSD, trace <= 1.

Delta-rule transitions have this form on each block of coordinates that A(x) never mixes:
alpha (I - beta k k^T) (D = alpha I, Gated DeltaNet), (I - beta k k^T) Diag(alpha) (KDA), with
R = beta k k^T. Then (I - R) D is similar to D^(1/2) (I - R) D^(1/2), which is symmetric and
positive semidefinite because I - R is (its eigenvalues are 1 and 1 - tr R >= 0). So every
eigenvalue of the transition is real and non-negative.

The form is read off the entries, never off a name:

  D       per column j, the product of the factors that every non-zero entry of the column
          shares and that sympy proves positive (exp(.), sigmoid(.), ...);
  R       I - M D^-1, entry by entry (the shared factors cancel exactly);
  checks  R - R^T expands to 0; for a pivot p with R_pp not identically 0, every
          R_ij R_pp - R_ip R_pj expands to 0 (rank one where R_pp != 0, a dense set as R_pp is
          analytic and non-zero at a random point, and, the eigenvalues being continuous,
          everywhere A(x) is defined); sympy proves R_pp >= 0 (so R = u u^T / R_pp
          is PSD) and 1 - tr R >= 0, as written, with every rsqrt(z) read as positive (it is
          where A(x) is defined), or after writing rsqrt(z) as z^(-1/2) and sigmoid(z) as
          1 / (1 + e^(-z)) and cancelling (a unit key k / |k| gives tr R = beta).

When every entry of D is also proven <= 1, the eigenvalues lie in [0, 1]: the symmetric form's
norm is at most max D times that of I - R, which is 1. A block that fails a check gives no proof
(the sampler in `eigen.py` then looks for a point).
"""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass

import numpy as np
import sympy

from tc0lab.check.signs import proven_in_unit_interval, proven_nonnegative
from tc0lab.spec.numeric import SparseMatrixFunction, coordinate_blocks

EVIDENCE = ("A(x) is, on each block of coordinates it never mixes, (I - R) D with D a positive diagonal and R "
            "symmetric, rank one, PSD and of trace <= 1 (sympy proves each), so it is similar to the PSD matrix "
            "D^(1/2) (I - R) D^(1/2)")


def _factors(entry: sympy.Expr) -> Counter:
    return Counter(sympy.Mul.make_args(entry))


def _column_scale(column: list[sympy.Expr]) -> Counter:
    """The positive factors every non-zero entry of the column shares (with multiplicity; none: the scale is 1)."""
    shared = functools.reduce(lambda a, b: a & b, (_factors(e) for e in column if e != 0))
    return Counter({factor: count for factor, count in shared.items() if factor.is_positive is True})


def _without(entry: sympy.Expr, scale: Counter) -> sympy.Expr:
    """entry / scale by removing the shared factors (sympy does not cancel exp(-u) exp(u) for a sum u)."""
    return sympy.Mul(*(factor ** count for factor, count in (_factors(entry) - scale).items())) if entry != 0 else entry


def _zero(expr: sympy.Expr) -> bool:
    return sympy.expand(expr) == 0


def _somewhere_nonzero(expr: sympy.Expr, seed: int = 0) -> bool:
    """expr is non-zero at a random point, so (being analytic) its zeros are nowhere dense: the rank-one identity
    R_ij R_pp = R_ip R_pj then gives R = u u^T / R_pp on a dense set, and the eigenvalues extend by continuity."""
    if _zero(expr):
        return False
    value = _at_random_point(sympy.Matrix([[expr]]), seed)[0, 0]
    return bool(np.isfinite(value) and abs(value) > NONZERO)


def _at_random_point(matrix: sympy.Matrix, seed: int) -> np.ndarray:
    symbols = sorted(matrix.free_symbols, key=str)
    with np.errstate(all="ignore"):
        return SparseMatrixFunction(matrix, symbols)(np.random.default_rng(seed).normal(size=len(symbols)))


NONZERO = 1e-9
PLAUSIBLE = 1e-8  # relative: a random point must show R symmetric and of rank <= 1 before anything is expanded


def _plausible(R: sympy.Matrix, seed: int = 0) -> bool:
    """R is symmetric and of rank <= 1 at a random point: a cheap filter, so that the symbolic checks (which prove
    the form) are only run where they can succeed (expanding the products of a DeltaProduct block takes a minute)."""
    matrix = _at_random_point(R, seed)
    if not np.all(np.isfinite(matrix)):
        return True  # undecided here: leave it to the proof
    scale = max(float(np.abs(matrix).max()), 1.0)
    singular = np.linalg.svd(matrix, compute_uv=False)
    return bool(np.abs(matrix - matrix.T).max() <= PLAUSIBLE * scale and (len(singular) < 2 or
                                                                          singular[1] <= PLAUSIBLE * scale))


def _proven_scales(block: sympy.Matrix) -> list[sympy.Expr] | None:
    """The diagonal D of a proven form (I - R) D of the block (module docstring), or None."""
    size = block.shape[0]
    shared = [_column_scale(list(block[:, j])) for j in range(size)]
    scales = [sympy.Mul(*(factor ** count for factor, count in column.items())) for column in shared]
    R = sympy.Matrix(size, size, lambda i, j: (1 if i == j else 0) - _without(block[i, j], shared[j]))
    if not _plausible(R):
        return None
    if not all(_zero(R[i, j] - R[j, i]) for i in range(size) for j in range(i + 1, size)):
        return None
    pivot = next((p for p in range(size) if _somewhere_nonzero(R[p, p])), None)
    if pivot is None:  # no diagonal entry of R is shown to be non-zero: only R = 0 (A = D diagonal) is proven
        return scales if all(_zero(R[i, j]) for i in range(size) for j in range(size)) else None
    if not all(_zero(R[i, j] * R[pivot, pivot] - R[i, pivot] * R[pivot, j]) for i in range(size) for j in range(size)):
        return None
    return scales if proven_nonnegative(R[pivot, pivot]) and proven_nonnegative(1 - R.trace()) else None


@dataclass(frozen=True)
class RankOneForm:
    """A(x) proven (I - R) D on every block; unit_interval: D <= 1 proven too, so every eigenvalue is in [0, 1]."""

    unit_interval: bool

    @property
    def evidence(self) -> str:
        bound = ("; every entry of D is proven <= 1, so the eigenvalues lie in [0, max D] within [0, 1]"
                 if self.unit_interval else "")
        return EVIDENCE + bound


def psd_similar(A: sympy.Matrix) -> RankOneForm | None:
    """The proven form of A (identical blocks are proven once), or None where a block fails a check."""
    blocks = {A.extract(indices, indices).as_immutable() for indices in coordinate_blocks(A)}
    scales = [_proven_scales(sympy.Matrix(block)) for block in blocks]
    if any(found is None for found in scales):
        return None
    return RankOneForm(all(proven_in_unit_interval(scale) for found in scales for scale in found))
