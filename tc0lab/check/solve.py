"""Solve for parameter values that make spec expressions equal target numbers.

The witness search and the Thm 5.1 construction both need parameters with, e.g.,
A(x_j) = P_j. Equations whose left side is a bare parameter symbol are assigned directly
(the RNN's A[i,j] = 40); the rest are solved by Levenberg-Marquardt from a random start.
The first pass uses a forward-difference Jacobian, which is cheap; when it stalls, the solve
continues with an exact Jacobian: sympy differentiates each equation by each symbol it
mentions, and the derivatives are compiled to numpy like the equations (a difference is
kept only for a derivative sympy leaves unevaluated). Differences fail exactly where
witnesses live: in a saturated gate, sigma'(z) ~ 1e-9 is below a difference quotient's
rounding, while the exact derivative still points the way out along the tail. (Exact from
the start would be simpler, but differentiating a DeltaNet's normalised keys costs seconds
that the cheap pass does not need; the witness search's multi-token words, whose expanded
products cost tens of seconds to differentiate, use the difference pass alone.) Parameters that appear in no equation keep their random
start values, which keeps the rest of the layer generic (e.g. an initial state with
distinct entries).

Saturating maps (sigmoid -> 1) have no finite exact solution; Gauss-Newton steps walk out
along the tail by about one unit per iteration until float64 rounds the value to the
target. Steps are capped at MAX_STEP per parameter: an uncapped step from a near-singular
Gauss-Newton model once moved a gate's weight by 2.5 million, into a flat region where the
solve stalled. The result reports the residual so callers can state how exact it is.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import sympy

from tc0lab.spec.codegen import Unsupported, complex_step_function
from tc0lab.spec.numeric import by_name, numpy_function


MAX_STEP = 4.0  # largest change of any one parameter per iteration
EXACT_ABOVE = 1e-13  # a difference-Jacobian solve that ends above this residual goes on with the exact one
ACCEPTED = 1e-12  # a solution counts when every equation holds to this (float rounding, not an approximation)


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


class _Jacobian:
    """d(expr_r)/d(theta_k) for every equation r and unknown k, exact where sympy can say."""

    def __init__(self, exprs: list, free: list, exact: bool = True):
        rows, cols, derivatives, self.numeric_columns = [], [], [], set()
        if not exact:
            self.numeric_columns = set(range(len(free)))
            exprs = []
        for r, expr in enumerate(exprs):
            for k, symbol in enumerate(free):
                if symbol not in expr.free_symbols:
                    continue
                derivative = sympy.diff(expr, symbol)
                if derivative.has(sympy.Derivative):
                    self.numeric_columns.add(k)
                    continue
                rows.append(r)
                cols.append(k)
                derivatives.append(derivative)
        self.shape = (len(exprs) if exact else 0, len(free))
        self.rows, self.cols = np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)
        self.function = numpy_function(free, derivatives) if derivatives else None

    def __call__(self, theta: np.ndarray, residual, r: np.ndarray) -> np.ndarray:
        jacobian = np.zeros((len(r), self.shape[1]))
        if self.function is not None:
            with np.errstate(all="ignore"):
                values = np.real(np.array(self.function(*theta), dtype=complex))
            jacobian[self.rows, self.cols] = np.where(np.isfinite(values), values, 0.0)
        columns = sorted(self.numeric_columns)  # fallback: forward differences for those columns
        if columns:
            steps = 1e-7 * np.maximum(1.0, np.abs(theta[columns]))
            shifted = np.repeat(theta[None, :], len(columns), axis=0)
            shifted[np.arange(len(columns)), columns] += steps
            jacobian[:, columns] = ((_residuals(residual, shifted) - r[None, :]) / steps[:, None]).T
        return jacobian


def _residuals(residual, thetas: np.ndarray) -> np.ndarray:
    """residual at each row of thetas: one vectorised call when the residual has `many`, else a loop."""
    many = getattr(residual, "many", None)
    if many is not None:
        try:
            out = many(thetas)
            if out.shape == (len(thetas), out.shape[1]):
                return out
        except (TypeError, ValueError):
            pass
    return np.array([residual(theta) for theta in thetas])


class _ComplexStepJacobian:
    """d(expr_r)/d(theta_k) = Im expr_r(theta + i h e_k) / h, all k in one vectorised call.

    Exact to rounding for complex-analytic expressions (there is no difference to cancel, so a
    saturated gate's sigma'(z) ~ 1e-9 comes out right), and it costs one evaluation per
    unknown instead of sympy's symbolic derivatives, which take minutes for a product of two
    normalised Householder factors.
    """

    STEP = 1e-30

    def __init__(self, exprs: list, free: list):
        self.function = complex_step_function(free, exprs)
        self.size = len(free)

    def __call__(self, theta: np.ndarray, residual, r: np.ndarray) -> np.ndarray:
        points = theta[None, :] + 1j * self.STEP * np.eye(self.size)
        with np.errstate(all="ignore"):
            entries = [np.asarray(e, dtype=complex) for e in self.function(*points.T)]
            columns = np.stack(np.broadcast_arrays(*entries, np.empty(self.size)), axis=0)[:-1]
        jacobian = columns.imag / self.STEP
        return np.where(np.isfinite(jacobian), jacobian, 0.0)


@functools.lru_cache(maxsize=32)
def _exact_jacobian(exprs: tuple, free: tuple) -> _Jacobian | _ComplexStepJacobian:
    """One exact Jacobian per equation system (restarts from other random starts reuse it):
    by complex steps when every node is analytic, else sympy's derivatives."""
    try:
        return _ComplexStepJacobian(list(exprs), list(free))
    except Unsupported:
        return _Jacobian(list(exprs), list(free))


def _levenberg_marquardt(residual, jacobian_of, start: np.ndarray, max_iterations: int, tolerance: float):
    theta = start.copy()
    r = residual(theta)
    damping = 1e-3
    for iteration in range(max_iterations):
        if np.max(np.abs(r)) <= tolerance:
            return theta, r, iteration
        jacobian = jacobian_of(theta, residual, r)
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
                     start: dict, max_iterations: int = 200, tolerance: float = 1e-14,
                     exact_fallback: bool = True) -> Solution:
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

    def many(thetas: np.ndarray) -> np.ndarray:
        """The residual at every row of thetas in one call (numpy broadcasts the generated code)."""
        with np.errstate(all="ignore"):
            entries = [np.asarray(e, dtype=complex) for e in function(*thetas.T)]
            out = np.real(np.stack(np.broadcast_arrays(*entries, np.empty(len(thetas))), axis=1)[:, :-1]) - targets
        return np.where(np.isfinite(out), out, 1e6)

    residual.many = many

    exprs = [e for e, _ in rest]
    theta, r, iterations = _levenberg_marquardt(residual, _Jacobian(exprs, free, exact=False),
                                                np.array([values[s] for s in free]), max_iterations, tolerance)
    if exact_fallback and np.max(np.abs(r)) > EXACT_ABOVE:
        theta, r, more = _levenberg_marquardt(residual, _exact_jacobian(tuple(exprs), tuple(free)), theta,
                                              max_iterations, tolerance)
        iterations += more
    values.update({s: float(v) for s, v in zip(free, theta)})
    return Solution(values, float(np.max(np.abs(r))), iterations)


def _close(expr: sympy.Expr, target: float, tolerance: float) -> bool:
    try:
        return abs(complex(expr) - target) <= tolerance
    except TypeError:
        return False
