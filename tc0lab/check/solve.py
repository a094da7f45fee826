"""Solve for parameter values that make spec expressions equal target numbers.

The witness search and the Thm 5.1 construction both need parameters with, e.g.,
A(x_j) = P_j. Equations whose left side is a bare parameter symbol are assigned directly
(the RNN's A[i,j] = 40); the rest are solved by Levenberg-Marquardt from a random start,
with a finite-difference Jacobian. Parameters that appear in no equation keep their random
start values, which keeps the rest of the layer generic (e.g. an initial state with
distinct entries).

Saturating maps (sigmoid -> 1) have no finite exact solution; Gauss-Newton steps walk out
along the tail by about one unit per iteration until float64 rounds the value to the
target. Steps are capped at MAX_STEP per parameter: an uncapped step from a near-singular
Gauss-Newton model once moved a gate's weight by 2.5 million, into a flat region where the
solve stalled. The result reports the residual so callers can state how exact it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import sympy

from tc0lab.spec.numeric import by_name, numpy_function


MAX_STEP = 4.0  # largest change of any one parameter per iteration


@dataclass(frozen=True)
class Solution:
    values: dict  # {Symbol: float} for every parameter
    residual: float  # max |expr - target| at the solution
    iterations: int


def _assign_bare(equations, values: dict, unknowns: set) -> tuple[list, bool]:
    """Assign equations `symbol = target`; return the remaining equations and consistency."""
    assigned: dict = {}
    rest = []
    for expr, target in equations:
        if isinstance(expr, sympy.Symbol) and expr in unknowns:
            if expr in assigned and abs(assigned[expr] - target) > 1e-12:
                return [], False
            assigned[expr] = float(target)
        else:
            rest.append((expr, target))
    values.update(assigned)
    mapping = {s: sympy.Float(v) for s, v in assigned.items()}
    substituted = [(sympy.sympify(e).xreplace(mapping), t) for e, t in rest] if mapping else rest
    return substituted, True


def _levenberg_marquardt(residual, start: np.ndarray, max_iterations: int, tolerance: float):
    theta = start.copy()
    r = residual(theta)
    damping = 1e-3
    for iteration in range(max_iterations):
        if np.max(np.abs(r)) <= tolerance:
            return theta, r, iteration
        step_sizes = 1e-7 * np.maximum(1.0, np.abs(theta))
        jacobian = np.empty((len(r), len(theta)))
        for k, h in enumerate(step_sizes):
            shifted = theta.copy()
            shifted[k] += h
            jacobian[:, k] = (residual(shifted) - r) / h
        gram, gradient = jacobian.T @ jacobian, jacobian.T @ r
        improved = False
        for _ in range(12):
            lhs = gram + damping * np.diag(np.maximum(np.diag(gram), 1e-12))
            try:
                delta = np.linalg.solve(lhs, -gradient)
            except np.linalg.LinAlgError:
                delta = np.linalg.lstsq(lhs, -gradient, rcond=None)[0]
            largest = np.max(np.abs(delta))
            if largest > MAX_STEP:  # a near-singular model step can fling a gate into saturation
                delta *= MAX_STEP / largest
            candidate = residual(theta + delta)
            if np.all(np.isfinite(candidate)) and candidate @ candidate < r @ r:
                theta, r = theta + delta, candidate
                damping = max(damping / 10, 1e-12)
                improved = True
                break
            damping *= 10
        if not improved:
            return theta, r, iteration
    return theta, r, max_iterations


def solve_parameters(equations: Sequence[tuple[sympy.Expr, float]], parameters: Sequence[sympy.Symbol],
                     start: dict, max_iterations: int = 200, tolerance: float = 1e-14) -> Solution:
    """Parameter values making every `expr == target`, starting from `start` (all parameters)."""
    values = dict(start)
    unknowns = set(parameters)
    fixed = {s: sympy.Float(v) for s, v in values.items() if s not in unknowns}
    equations = [(sympy.sympify(e).xreplace(fixed) if fixed else sympy.sympify(e), t) for e, t in equations]
    rest, consistent = _assign_bare(equations, values, unknowns)
    if not consistent:
        return Solution(values, float("inf"), 0)
    rest = [(e, t) for e, t in rest if e.free_symbols & unknowns or not _close(e, t, tolerance)]
    if any(not (e.free_symbols & unknowns) for e, _ in rest):
        return Solution(values, float("inf"), 0)  # a constant entry that misses its target
    if not rest:
        return Solution(values, 0.0, 0)
    free = sorted(set().union(*(e.free_symbols for e, _ in rest)) & unknowns, key=by_name)
    targets = np.array([t for _, t in rest], dtype=float)
    function = numpy_function(free, [e for e, _ in rest])

    def residual(theta: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = np.real(np.array(function(*theta), dtype=complex)) - targets
        return np.where(np.isfinite(out), out, 1e6)

    theta, r, iterations = _levenberg_marquardt(residual, np.array([values[s] for s in free]),
                                                max_iterations, tolerance)
    values.update({s: float(v) for s, v in zip(free, theta)})
    return Solution(values, float(np.max(np.abs(r))), iterations)


def _close(expr: sympy.Expr, target: float, tolerance: float) -> bool:
    try:
        return abs(complex(expr) - target) <= tolerance
    except TypeError:
        return False
