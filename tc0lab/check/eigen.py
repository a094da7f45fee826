"""The eigenvalue rules: can a transition have a negative real eigenvalue, or a non-real one?

Both questions are about what a linear layer can learn, not about TC0 membership:

- a layer whose transitions only have eigenvalues in [0, 1] cannot compute parity at
  unbounded length with finite precision; a negative real eigenvalue (e.g. -1) lets one
  layer do it (Grazzi et al. 2025, Thm 1; Sarrof et al. 2024);
- counting modulo m, for m not a power of two, needs non-real eigenvalues (rotations;
  Grazzi et al. 2025, Thm 2).

Each answer is True, False or None (undecided), decided from the expressions. A third answer,
whether every eigenvalue lies in [0, 1] (the range the RWKV-7 paper's comparison table
tabulates), is True by proof only, and False when a negative or non-real one is found:

- False by proof: when A(x) is triangular after a permutation of the coordinates (diagonal
  included), its eigenvalues are its diagonal entries, and sympy proves each entry
  non-negative (no negative eigenvalue; `signs.py`), in [0, 1], or real (no non-real one); a real symmetric A(x)
  has only real eigenvalues; an A(x) that is (I - R) D on each block, D a positive diagonal
  and R a symmetric rank-one PSD matrix of trace <= 1 (the delta rule with beta <= 1 and
  unit keys), has only real non-negative ones (`rank_one_eigen.py`).
- True by a found point: A(x) evaluated at random inputs and parameters at growing scales
  has an eigenvalue that is negative and real (or non-real) by more than the eigenvalue's
  own error bound, `eigenvalue_tolerance`: by Bauer-Fike, a computed eigenvalue of a
  diagonalisable matrix A = V diag V^-1 is within cond(V) * |E| of an exact one for a
  perturbation E; LAPACK's backward error is |E| <= c * eps * |A|. A sample whose V is
  singular (a defective matrix) decides nothing. The entries of A(x) themselves carry the
  rounding of their float evaluation, which cancellation can make much larger than
  eps * |A| (exp(x + 40) - e^40 exp(x) is 0, but not in float64), and LAPACK's balancing
  can make the error of a tiny eigenvalue far larger than the bound suggests (W diag(a) W^-1
  with a ~ 1e-14 gave -9e-13). So every finding is re-decided before it is reported (for
  states up to ALWAYS_CONFIRMED_SIZE; larger ones when the margin is below CONFIRM_BELOW):
  the entries at 40 significant digits, rounded once, and the eigenvalues in mpmath, with
  the Bauer-Fike bound of that rounding.
- None: neither a proof nor a point, said plainly with the number of samples.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from tc0lab.check.rank_one_eigen import psd_similar
from tc0lab.check.signs import proven_in_unit_interval, proven_nonnegative
from tc0lab.spec.numeric import accurate_matrix, parameter_symbols, point, random_values, transition_function
from tc0lab.spec.recurrence import Recurrence
from tc0lab.spec.structure import triangular_order

SCALES = (1.0, 3.0, 10.0)
SAMPLES_PER_SCALE = 64
BACKWARD_ERROR_FACTOR = 64.0  # c in |E| <= c * eps * |A| (generous for small dense matrices)
CONFIRM_BELOW = 1e-6  # findings with a smaller margin (relative to |A|) are re-evaluated accurately
ACCURATE_DIGITS = 40
MAX_ACCURATE_SIZE = 32  # larger matrices: a small-margin finding is not confirmed (stays undecided)
ALWAYS_CONFIRMED_SIZE = 12  # up to this state size, every finding is re-decided at 40 digits


@dataclass(frozen=True)
class EigenvalueAnswers:
    negative: bool | None  # can a transition have a real eigenvalue < 0?
    negative_evidence: str
    non_real: bool | None  # can a transition have an eigenvalue with a non-zero imaginary part?
    non_real_evidence: str
    # does every eigenvalue of every transition lie in [0, 1]? True by proof only; False when a negative or
    # non-real one is found (values above 1 are not searched for)
    unit_interval: bool | None = None
    unit_interval_evidence: str = "not decided"


def eigenvalue_tolerance(matrix: np.ndarray) -> tuple[np.ndarray, float]:
    """The eigenvalues of `matrix` and a bound on their error (inf for a defective matrix)."""
    eigenvalues, vectors = np.linalg.eig(matrix)
    with np.errstate(all="ignore"):
        condition = np.linalg.cond(vectors, "fro")  # >= the 2-norm condition: a valid, cheaper bound
    norm = max(float(np.linalg.norm(matrix)), np.finfo(float).tiny)  # Frobenius >= spectral
    bound = BACKWARD_ERROR_FACTOR * np.finfo(float).eps * norm * condition
    return eigenvalues, float(bound) if np.isfinite(bound) else float("inf")


def _diagonal_entries(rec: Recurrence) -> list | None:
    """The eigenvalues as expressions, when A is triangular after a permutation."""
    return [rec.A[i, i] for i in range(rec.state_size)] if triangular_order(rec.A) is not None else None


def _symmetric_real(rec: Recurrence) -> bool:
    return rec.A == rec.A.T and all(entry.is_extended_real is True for entry in rec.A)


def _proofs(rec: Recurrence) -> tuple[str | None, str | None, str | None]:
    """Evidence strings for 'no negative eigenvalue', 'no non-real eigenvalue' and 'every eigenvalue in [0, 1]',
    where provable."""
    entries = _diagonal_entries(rec)
    no_negative = no_non_real = unit = None
    triangular = "A(x) is triangular (after a permutation) and sympy proves every diagonal entry"
    if entries is not None:
        if all(proven_nonnegative(e) for e in entries):
            no_negative = f"{triangular} >= 0"
            if all(proven_in_unit_interval(e) for e in entries):
                unit = f"{triangular} in [0, 1]"
        if all(e.is_extended_real is True for e in entries):
            no_non_real = f"{triangular} real"
    if no_non_real is None and _symmetric_real(rec):
        no_non_real = "A(x) is real and symmetric"
    if no_negative is None or no_non_real is None or unit is None:
        form = psd_similar(rec.A)
        if form is not None:
            no_negative, no_non_real = no_negative or form.evidence, no_non_real or form.evidence
            unit = unit or (form.evidence if form.unit_interval else None)
    return no_negative, no_non_real, unit


def _shown(value: complex) -> str:
    return f"{value.real:.4g}" if value.imag == 0 else f"{value:.4g}"


def _accurate_eigenvalues(rec: Recurrence, arguments: list[float]) -> tuple[np.ndarray, float]:
    """The eigenvalues of A(x) and their error bound: entries at ACCURATE_DIGITS digits, rounded once
    to float64, then eigenvalues in mpmath at the same precision. What remains is the entries'
    rounding (|E| <= eps |A|), which moves an eigenvalue by at most cond(V) |E| (Bauer-Fike)."""
    import mpmath
    rounded = transition_function(rec)(arguments)
    entries = accurate_matrix(rec.A, rec.inputs + parameter_symbols(rec), arguments, rounded)
    with mpmath.workdps(ACCURATE_DIGITS):
        eigenvalues = mpmath.eig(mpmath.matrix(entries.tolist()), left=False, right=False)
        values = np.array([complex(e) for e in eigenvalues])
    return values, eigenvalue_tolerance(entries)[1]


def _findings(matrix: np.ndarray) -> tuple[complex | None, complex | None, float, float]:
    """(most negative real eigenvalue, most non-real one, their margins relative to |A|, bound)."""
    eigenvalues, tolerance = eigenvalue_tolerance(matrix)
    scale = max(float(np.linalg.norm(matrix)), 1.0)
    real = eigenvalues[np.abs(eigenvalues.imag) <= tolerance]
    below = real[real.real < -tolerance]
    off_axis = eigenvalues[np.abs(eigenvalues.imag) > tolerance]
    negative = complex(below.real.min()) if len(below) else None
    non_real = complex(off_axis[np.argmax(np.abs(off_axis.imag))]) if len(off_axis) else None
    margins = (abs(negative.real) / scale if negative else 0.0, abs(non_real.imag) / scale if non_real else 0.0)
    return negative, non_real, min(margins[0], margins[1]) if negative and non_real else max(margins), tolerance


def _confirmed(rec: Recurrence, arguments: list[float], kind: int) -> tuple[complex | None, float]:
    """Re-decide a finding at ACCURATE_DIGITS digits: the eigenvalue of that kind (or None), and the bound."""
    if rec.state_size > MAX_ACCURATE_SIZE:
        return None, float("inf")
    try:
        eigenvalues, bound = _accurate_eigenvalues(rec, arguments)
    except (TypeError, ValueError, ZeroDivisionError, ArithmeticError):
        return None, float("inf")
    if kind == 0:
        real = eigenvalues[(np.abs(eigenvalues.imag) <= bound) & (eigenvalues.real < -bound)]
        return (complex(real.real.min()) if len(real) else None), bound
    off_axis = eigenvalues[np.abs(eigenvalues.imag) > bound]
    return (complex(off_axis[np.argmax(np.abs(off_axis.imag))]) if len(off_axis) else None), bound


def _samples_per_scale(rec: Recurrence) -> int:
    """Fewer samples for large states (each is an eigendecomposition of the whole transition)."""
    return SAMPLES_PER_SCALE if rec.state_size <= 64 else 4


def _search(rec: Recurrence, want_negative: bool, want_non_real: bool, seed: int) -> tuple[str | None, str | None]:
    """Points where an eigenvalue is negative real / non-real by more than its error bound."""
    A, rng = transition_function(rec), np.random.default_rng(seed)
    found: list[str | None] = [None, None]
    wanted = [want_negative, want_non_real]
    labels = ("real eigenvalue", "eigenvalue")
    for scale in SCALES:
        for _ in range(_samples_per_scale(rec)):
            if not any(w and f is None for w, f in zip(wanted, found)):
                return found[0], found[1]
            arguments = point(rec, rng.normal(0.0, scale, size=rec.d_in), random_values(rec, rng, scale))
            with np.errstate(all="ignore"):
                matrix = A(arguments)
            if not np.all(np.isfinite(matrix)):
                continue
            negative, non_real, margin, tolerance = _findings(matrix)
            for kind, value in enumerate((negative, non_real)):
                if value is None or not wanted[kind] or found[kind] is not None:
                    continue
                how = f"error bound {tolerance:.2g}"
                if margin < CONFIRM_BELOW or rec.state_size <= ALWAYS_CONFIRMED_SIZE:
                    value, tolerance = _confirmed(rec, arguments, kind)
                    how = f"confirmed at {ACCURATE_DIGITS} digits (entries and eigenvalues), bound {tolerance:.2g}"
                if value is not None:
                    found[kind] = (f"{labels[kind]} {_shown(value)} at a random point (inputs and parameters ~ "
                                   f"N(0, {scale:g}^2); {how})")
    return found[0], found[1]


def eigenvalue_answers(rec: Recurrence, seed: int = 0) -> EigenvalueAnswers:
    """Both eigenvalue answers for a linear recurrence (not applicable to a nonlinear update)."""
    with threadpool_limits(1):  # many small eigenproblems: BLAS threads only contend
        return _answers(rec, seed)


def _answers(rec: Recurrence, seed: int) -> EigenvalueAnswers:
    if rec.nonlinearity is not None:
        text = "not applicable: the update is nonlinear"
        return EigenvalueAnswers(None, text, None, text, None, text)
    no_negative, no_non_real, unit = _proofs(rec)
    negative, non_real = _search(rec, no_negative is None, no_non_real is None, seed)
    samples = len(SCALES) * _samples_per_scale(rec)
    undecided = (f"undecided: no proof, and no eigenvalue of that kind beyond its error bound in {samples} "
                 "random samples")
    outside = negative or non_real
    return EigenvalueAnswers(
        False if no_negative else (True if negative else None), no_negative or negative or undecided,
        False if no_non_real else (True if non_real else None), no_non_real or non_real or undecided,
        True if unit else (False if outside else None),
        unit or outside or "undecided: no proof that every eigenvalue lies in [0, 1] (values above 1 are not searched for)")
