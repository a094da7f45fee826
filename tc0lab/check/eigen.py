"""The eigenvalue rule: can a diagonal (or commuting) transition reach a negative value?

A diagonal linear layer whose transitions stay in (0, 1] cannot compute parity at
unbounded length with finite precision (Grazzi et al. 2025; Sarrof et al. 2024); one whose
entries reach -1 can, in one layer. The answer is decided from the expressions:

- sympy proves every diagonal entry positive (exp(...) of a real, a sigmoid, ...) -> False;
- otherwise a search evaluates A(x) at random inputs and parameters at growing scales and
  reports the first eigenvalue with negative real part it finds -> True, with the point;
- neither a proof nor a negative value -> None ("undecided"), said plainly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tc0lab.spec.numeric import point, random_values, transition_function
from tc0lab.spec.recurrence import Recurrence

SCALES = (1.0, 3.0, 10.0)
SAMPLES_PER_SCALE = 64


@dataclass(frozen=True)
class EigenvalueSign:
    negative: bool | None
    evidence: str


def _proved_positive(rec: Recurrence) -> bool:
    return all(rec.A[i, i].is_positive is True for i in range(rec.state_size))


def negative_eigenvalues(rec: Recurrence, kind: str, seed: int = 0) -> EigenvalueSign:
    """Whether some transition of a diagonal or commuting layer has an eigenvalue with Re < 0."""
    if kind not in ("diagonal", "commuting", "fixed"):
        return EigenvalueSign(None, "not applicable: the transitions do not share eigenvectors")
    if kind in ("diagonal", "fixed") and _is_diagonal_matrix(rec) and _proved_positive(rec):
        return EigenvalueSign(False, "sympy proves every diagonal entry of A(x) positive")
    A, rng = transition_function(rec), np.random.default_rng(seed)
    for scale in SCALES:
        for _ in range(SAMPLES_PER_SCALE):
            token = rng.normal(0.0, scale, size=rec.d_in)
            with np.errstate(all="ignore"):
                eigenvalues = np.linalg.eigvals(A(point(rec, token, random_values(rec, rng, scale))))
            negative = eigenvalues[np.isfinite(eigenvalues) & (eigenvalues.real < 0)]
            if len(negative):
                value = negative[np.argmin(negative.real)]
                shown = f"{value.real:.4g}" if abs(value.imag) < 1e-12 else f"{value:.4g}"
                return EigenvalueSign(True, f"eigenvalue {shown} at a random point (inputs and parameters ~ N(0, {scale:g}^2))")
    return EigenvalueSign(None, f"undecided: no proof of positivity, and no negative eigenvalue in "
                                f"{len(SCALES) * SAMPLES_PER_SCALE} random samples")


def _is_diagonal_matrix(rec: Recurrence) -> bool:
    rows, cols = rec.A.shape
    return all(rec.A[i, j] == 0 for i in range(rows) for j in range(cols) if i != j)
