"""The eigenvalue rules: can a transition have a negative real eigenvalue, or a non-real one?

Both questions are about what a linear layer can learn, not about TC0 membership:

- a layer whose transitions only have eigenvalues in [0, 1] cannot compute parity at
  unbounded length with finite precision; a negative real eigenvalue (e.g. -1) lets one
  layer do it (Grazzi et al. 2025, Thm 1; Sarrof et al. 2024);
- counting modulo m, for m not a power of two, needs non-real eigenvalues (rotations;
  Grazzi et al. 2025, Thm 2).

Each answer is True, False or None (undecided), decided from the expressions:

- False by proof: when A(x) is triangular after a permutation of the coordinates (diagonal
  included), its eigenvalues are its diagonal entries, and sympy proves each entry
  non-negative (no negative eigenvalue) or real (no non-real one); a real symmetric A(x)
  has only real eigenvalues.
- True by a found point: A(x) evaluated at random inputs and parameters at growing scales
  has an eigenvalue that is negative and real (or non-real) by more than the eigenvalue's
  own error bound, `eigenvalue_tolerance`: by Bauer-Fike, a computed eigenvalue of a
  diagonalisable matrix A = V diag V^-1 is within cond(V) * |E| of an exact one for a
  perturbation E; LAPACK's backward error is |E| <= c * eps * |A|. A sample whose V is
  singular (a defective matrix) decides nothing.
- None: neither a proof nor a point, said plainly with the number of samples.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tc0lab.spec.numeric import point, random_values, transition_function
from tc0lab.spec.recurrence import Recurrence
from tc0lab.spec.structure import triangular_order

SCALES = (1.0, 3.0, 10.0)
SAMPLES_PER_SCALE = 64
BACKWARD_ERROR_FACTOR = 64.0  # c in |E| <= c * eps * |A| (generous for small dense matrices)


@dataclass(frozen=True)
class EigenvalueAnswers:
    negative: bool | None  # can a transition have a real eigenvalue < 0?
    negative_evidence: str
    non_real: bool | None  # can a transition have an eigenvalue with a non-zero imaginary part?
    non_real_evidence: str


def eigenvalue_tolerance(matrix: np.ndarray) -> tuple[np.ndarray, float]:
    """The eigenvalues of `matrix` and a bound on their error (inf for a defective matrix)."""
    eigenvalues, vectors = np.linalg.eig(matrix)
    with np.errstate(all="ignore"):
        condition = np.linalg.cond(vectors)
    norm = max(float(np.linalg.norm(matrix, 2)), np.finfo(float).tiny)
    bound = BACKWARD_ERROR_FACTOR * np.finfo(float).eps * norm * condition
    return eigenvalues, float(bound) if np.isfinite(bound) else float("inf")


def _diagonal_entries(rec: Recurrence) -> list | None:
    """The eigenvalues as expressions, when A is triangular after a permutation."""
    return [rec.A[i, i] for i in range(rec.state_size)] if triangular_order(rec.A) is not None else None


def _symmetric_real(rec: Recurrence) -> bool:
    return rec.A == rec.A.T and all(entry.is_extended_real is True for entry in rec.A)


def _proofs(rec: Recurrence) -> tuple[str | None, str | None]:
    """Evidence strings for 'no negative eigenvalue' and 'no non-real eigenvalue', where provable."""
    entries = _diagonal_entries(rec)
    no_negative = no_non_real = None
    if entries is not None:
        if all(e.is_nonnegative is True for e in entries):
            no_negative = "A(x) is triangular (after a permutation) and sympy proves every diagonal entry >= 0"
        if all(e.is_extended_real is True for e in entries):
            no_non_real = "A(x) is triangular (after a permutation) and sympy proves every diagonal entry real"
    if no_non_real is None and _symmetric_real(rec):
        no_non_real = "A(x) is real and symmetric"
    return no_negative, no_non_real


def _shown(value: complex) -> str:
    return f"{value.real:.4g}" if value.imag == 0 else f"{value:.4g}"


def _search(rec: Recurrence, want_negative: bool, want_non_real: bool, seed: int) -> tuple[str | None, str | None]:
    """Points where an eigenvalue is negative real / non-real by more than its error bound."""
    A, rng = transition_function(rec), np.random.default_rng(seed)
    negative = non_real = None
    for scale in SCALES:
        for _ in range(SAMPLES_PER_SCALE):
            if not ((want_negative and negative is None) or (want_non_real and non_real is None)):
                return negative, non_real
            token = rng.normal(0.0, scale, size=rec.d_in)
            with np.errstate(all="ignore"):
                matrix = A(point(rec, token, random_values(rec, rng, scale)))
            if not np.all(np.isfinite(matrix)):
                continue
            eigenvalues, tolerance = eigenvalue_tolerance(matrix)
            where = f"at a random point (inputs and parameters ~ N(0, {scale:g}^2); error bound {tolerance:.2g})"
            real = eigenvalues[np.abs(eigenvalues.imag) <= tolerance]
            below = real[real.real < -tolerance]
            if want_negative and negative is None and len(below):
                negative = f"real eigenvalue {_shown(complex(below.real.min()))} {where}"
            off_axis = eigenvalues[np.abs(eigenvalues.imag) > tolerance]
            if want_non_real and non_real is None and len(off_axis):
                non_real = f"eigenvalue {_shown(complex(off_axis[np.argmax(np.abs(off_axis.imag))]))} {where}"
    return negative, non_real


def eigenvalue_answers(rec: Recurrence, seed: int = 0) -> EigenvalueAnswers:
    """Both eigenvalue answers for a linear recurrence (not applicable to a nonlinear update)."""
    if rec.nonlinearity is not None:
        text = "not applicable: the update is nonlinear"
        return EigenvalueAnswers(None, text, None, text)
    no_negative, no_non_real = _proofs(rec)
    negative, non_real = _search(rec, no_negative is None, no_non_real is None, seed)
    samples = len(SCALES) * SAMPLES_PER_SCALE
    undecided = (f"undecided: no proof, and no eigenvalue of that kind beyond its error bound in {samples} "
                 "random samples")
    return EigenvalueAnswers(
        False if no_negative else (True if negative else None), no_negative or negative or undecided,
        False if no_non_real else (True if non_real else None), no_non_real or non_real or undecided)
