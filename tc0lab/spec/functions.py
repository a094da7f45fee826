"""Scalar nonlinearities that specs may use, as sympy functions with numpy twins.

Every one-argument function that appears in a spec (exp, log, tanh, softplus, sigmoid,
silu, sgn, rsqrt, sqrt, relu, ...) compiles to a single `lookup` gate: any function of one
O(log n)-bit value is a depth-2 threshold circuit (a truth table as a DNF). `NUMPY` maps
each function name to its numpy implementation; the circuit evaluator and the numpy
reference both use it, so they agree by construction on what each name means.

The custom functions carry sympy assumptions (e.g. sigmoid is positive), which the
compiler uses to pick sound constructions (log-space products need positive factors), and
their derivatives (`fdiff`), which the witness solver's exact Jacobian uses.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import sympy


class softplus(sympy.Function):
    """softplus(z) = log(1 + exp(z)), Mamba's step-size map."""

    def _eval_is_positive(self):
        return self.args[0].is_extended_real

    def _eval_is_real(self):
        return self.args[0].is_extended_real

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _numpycode(self, printer):
        return f"numpy.logaddexp(0, {printer._print(self.args[0])})"


class sigmoid(sympy.Function):
    """sigmoid(z) = 1 / (1 + exp(-z)), a gate in (0, 1)."""

    def _eval_is_positive(self):
        return self.args[0].is_extended_real

    def _eval_is_real(self):
        return self.args[0].is_extended_real

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0]) * sigmoid(-self.args[0])

    def _numpycode(self, printer):
        return f"(1 / (1 + numpy.exp(-({printer._print(self.args[0])}))))"


class silu(sympy.Function):
    """silu(z) = z * sigmoid(z)."""

    def _eval_is_real(self):
        return self.args[0].is_extended_real

    def fdiff(self, argindex=1):
        z = self.args[0]
        return sigmoid(z) + z * sigmoid(z) * sigmoid(-z)

    def _numpycode(self, printer):
        arg = printer._print(self.args[0])
        return f"(({arg}) / (1 + numpy.exp(-({arg}))))"


class relu(sympy.Function):
    """relu(z) = max(z, 0)."""

    def _eval_is_real(self):
        return self.args[0].is_extended_real

    def _numpycode(self, printer):
        return f"numpy.maximum({printer._print(self.args[0])}, 0)"


class step(sympy.Function):
    """step(z) = 1 if z > 0 else 0: one threshold gate; hard selection (argmax, one-hot) is built from it.

    Its derivative is 0 wherever it exists, so the witness solver works on a smoothed twin
    (`smoothed`) and the verifier runs the true step.
    """

    @classmethod
    def eval(cls, z):
        if z.is_Number and z.is_real:
            return sympy.Integer(1) if z > 0 else sympy.Integer(0)
        return None

    def _eval_is_nonnegative(self):
        return True

    def _eval_is_real(self):
        return True

    def fdiff(self, argindex=1):
        return sympy.Integer(0)

    def _numpycode(self, printer):
        return f"numpy.greater({printer._print(self.args[0])}, 0).astype(float)"


def hardmax(scores: list) -> list:
    """One-hot of the largest score (ties: no winner), as products of steps: the entry i is
    prod_{k != i} step(s_i - s_k)."""
    return [sympy.Mul(*[step(s - other) for k, other in enumerate(scores) if k != i]) for i, s in enumerate(scores)]


SMOOTHING_GAIN = 4.0  # step(z) ~ sigmoid(gain z) in the solver's twin


def smoothed(expr):
    """`expr` with every step(z) replaced by sigmoid(SMOOTHING_GAIN z): a differentiable twin for solvers."""
    return expr.replace(step, lambda z: sigmoid(SMOOTHING_GAIN * z))


class rsqrt(sympy.Function):
    """rsqrt(z) = 1 / sqrt(z), used by normalisations."""

    def _eval_is_positive(self):
        return True if self.args[0].is_positive else None

    def _eval_is_extended_real(self):  # of a non-negative number: positive, or +oo at 0
        return True if self.args[0].is_nonnegative else None

    def fdiff(self, argindex=1):
        return -rsqrt(self.args[0]) ** 3 / 2

    def _numpycode(self, printer):
        return f"(1 / numpy.sqrt({printer._print(self.args[0])}))"


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


NUMPY: dict[str, Callable] = {
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sgn": np.sign,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "cos": np.cos,
    "sin": np.sin,
    "softplus": lambda z: np.logaddexp(0, z),
    "sigmoid": _sigmoid,
    "silu": lambda z: z * _sigmoid(z),
    "relu": lambda z: np.maximum(z, 0),
    "rsqrt": lambda z: 1 / np.sqrt(z),
    "step": lambda z: np.greater(z, 0).astype(float),
    "reciprocal": lambda z: 1 / z,
    "identity": lambda z: z,
}

# sympy function class -> lookup name; sympy.sign is spelled 'sgn' in the papers
SYMPY_TO_NAME: dict[type, str] = {
    sympy.exp: "exp", sympy.log: "log", sympy.tanh: "tanh", sympy.sign: "sgn",
    sympy.Abs: "abs", sympy.cos: "cos", sympy.sin: "sin",
    softplus: "softplus", sigmoid: "sigmoid", silu: "silu", relu: "relu", rsqrt: "rsqrt", step: "step",
}

NAME_TO_SYMPY: dict[str, Callable] = {name: cls for cls, name in SYMPY_TO_NAME.items()}
NAME_TO_SYMPY["identity"] = lambda z: z


def apply(name: str, expr: sympy.Expr) -> sympy.Expr:
    """Apply the nonlinearity called `name` to a sympy expression."""
    if name not in NAME_TO_SYMPY:
        raise ValueError(f"unknown nonlinearity {name!r}; known: {', '.join(sorted(NAME_TO_SYMPY))}")
    return NAME_TO_SYMPY[name](expr)


def mpmath_functions() -> dict[str, Callable]:
    """Every spec function by name, evaluated in mpmath (high precision); twins of NUMPY."""
    import mpmath

    def sigmoid_mp(z):
        return 1 / (1 + mpmath.exp(-z))

    return {"exp": mpmath.exp, "log": mpmath.log, "tanh": mpmath.tanh, "sgn": mpmath.sign, "sqrt": mpmath.sqrt,
            "abs": abs, "cos": mpmath.cos, "sin": mpmath.sin, "softplus": lambda z: mpmath.log(1 + mpmath.exp(z)),
            "sigmoid": sigmoid_mp, "silu": lambda z: z * sigmoid_mp(z),
            "relu": lambda z: z if mpmath.re(z) > 0 else 0 * z, "rsqrt": lambda z: 1 / mpmath.sqrt(z),
            "step": lambda z: mpmath.mpf(1) if z > 0 else mpmath.mpf(0), "reciprocal": lambda z: 1 / z, "identity": lambda z: z}


def mpmath_modules() -> list:
    """Modules for sympy.lambdify that evaluate every spec function in mpmath (high precision)."""
    table = mpmath_functions()
    custom = {name: table[name] for name in ("softplus", "sigmoid", "silu", "relu", "rsqrt", "step")}
    custom["sign"] = table["sgn"]
    return [custom, "mpmath"]


def lambdify_modules() -> list:
    """Modules for sympy.lambdify so that custom functions evaluate with numpy."""
    custom = {"softplus": NUMPY["softplus"], "sigmoid": NUMPY["sigmoid"],
              "silu": NUMPY["silu"], "relu": NUMPY["relu"], "rsqrt": NUMPY["rsqrt"],
              "step": NUMPY["step"], "sign": np.sign}
    return [custom, "numpy"]
