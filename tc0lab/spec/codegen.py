"""Compile sympy expressions to one numpy function, sharing repeated subexpressions.

`sympy.lambdify(..., cse=True)` spends most of its time in sympy's printer (which orders
every sum's terms) and in `cse`; for the checker's witness systems that was about a third of a
cold `tc0lab check`. This module writes the Python source directly from the expression trees:
every distinct subtree (sympy expressions are hashable, and equal trees hash equal) becomes
one local variable, so a subexpression used by many entries is computed once. It supports
the node kinds specs are made of (numbers, symbols, +, *, powers, and the functions in
`tc0lab.spec.functions`); anything else raises `Unsupported`, and `numeric.numpy_function`
then falls back to lambdify. Tests compare it with lambdify on every zoo matrix and on random
expressions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import sympy

from tc0lab.spec import functions


class Unsupported(Exception):
    """An expression node this generator does not translate."""


_FUNCTIONS: dict[type, Callable] = {cls: functions.NUMPY[name] for cls, name in functions.SYMPY_TO_NAME.items()}
_FUNCTIONS.update({sympy.re: np.real, sympy.im: np.imag, sympy.conjugate: np.conj})
_REDUCTIONS: dict[type, Callable] = {sympy.Max: np.maximum, sympy.Min: np.minimum}
ACCURATE_DIGITS = 40


def _constant(expr: sympy.Expr) -> str | None:
    """The literal of a closed-form number; None when sympy cannot evaluate it (softplus(0))."""
    try:
        value = complex(expr)
    except TypeError:
        return None
    return repr(value.real) if value.imag == 0 else repr(value)


@dataclass(frozen=True)
class _Backend:
    """What the generated source calls: numpy (float64) or mpmath (ACCURATE_DIGITS digits)."""

    functions: dict
    reductions: dict
    sqrt: Callable
    constant: Callable  # closed-form number -> a literal (str), a value to bind, or None


def _mpmath_constant(expr: sympy.Expr):
    import mpmath
    try:
        value = complex(expr)  # only to refuse what sympy cannot evaluate
    except TypeError:
        return None
    exact = sympy.N(expr, ACCURATE_DIGITS + 10)
    real, imag = exact.as_real_imag()
    with mpmath.workdps(ACCURATE_DIGITS + 10):  # an mpf keeps the precision it was made at
        return mpmath.mpc(str(real), str(imag)) if value.imag else mpmath.mpf(str(real))


def _mpmath_backend() -> _Backend:
    import mpmath
    table = functions.mpmath_functions()
    found = {cls: table[name] for cls, name in functions.SYMPY_TO_NAME.items()}
    found.update({sympy.re: mpmath.re, sympy.im: mpmath.im, sympy.conjugate: mpmath.conj})
    return _Backend(found, {sympy.Max: max, sympy.Min: min}, mpmath.sqrt, _mpmath_constant)


_NUMPY = _Backend(_FUNCTIONS, _REDUCTIONS, np.sqrt, _constant)


def _complex_softplus(z):
    """log(1 + exp(z)) for complex z without overflow (numpy's logaddexp is real-only)."""
    z = np.asarray(z, dtype=complex)
    return np.where(z.real > 0, z + np.log1p(np.exp(-z)), np.log1p(np.exp(z)))


# Complex-step differentiation needs every function to be complex-analytic: abs, sign, relu,
# step, max/min and re/im/conj are not, so they are left out (generation raises Unsupported).
_ANALYTIC = ("exp", "log", "tanh", "cos", "sin", "sigmoid", "silu", "rsqrt", "softplus")
_COMPLEX_STEP = _Backend({cls: (_complex_softplus if name == "softplus" else functions.NUMPY[name])
                          for cls, name in functions.SYMPY_TO_NAME.items() if name in _ANALYTIC},
                         {}, np.sqrt, _constant)


def complex_step_function(symbols: Sequence[sympy.Symbol], exprs: Sequence[sympy.Expr]) -> Callable:
    """Like `numpy_source_function`, for complex arguments: every node is complex-analytic, so
    Im f(theta + i h e_k) / h is d f / d theta_k to rounding (no difference quotient). Raises
    Unsupported for a non-analytic node (abs, sign, relu, step, max, min, re, im)."""
    return numpy_source_function(symbols, exprs, _COMPLEX_STEP)


def mpmath_source_function(symbols: Sequence[sympy.Symbol], exprs: Sequence[sympy.Expr]) -> Callable:
    """Like `numpy_source_function`, evaluated in mpmath: call it with mpf arguments inside
    `mpmath.workdps(ACCURATE_DIGITS)`; constants are bound at ACCURATE_DIGITS + 10 digits."""
    return numpy_source_function(symbols, exprs, _mpmath_backend())


class _Writer:
    def __init__(self, symbols: Sequence[sympy.Symbol], backend: "_Backend | None" = None):
        self.names: dict[sympy.Basic, str] = {s: f"a{i}" for i, s in enumerate(symbols)}
        self.lines: list[str] = []
        self.namespace: dict[str, object] = {}
        self.backend = backend or _NUMPY

    def _callable(self, function: Callable) -> str:
        name = f"f{id(function)}"
        self.namespace[name] = function
        return name

    def _assign(self, expr: sympy.Basic, source: str) -> str:
        name = f"t{len(self.lines)}"
        self.lines.append(f"    {name} = {source}")
        self.names[expr] = name
        return name

    def name_of(self, root: sympy.Basic) -> str:
        """The variable holding `root`, writing the lines for every new subtree (iteratively)."""
        stack: list[tuple[sympy.Basic, bool]] = [(root, False)]
        while stack:
            expr, children_done = stack.pop()
            if expr in self.names:
                continue
            if expr.is_Symbol:
                raise Unsupported(f"symbol {expr} is not an argument")
            if expr.is_number and not expr.free_symbols:
                constant = self.backend.constant(expr)
                if constant is not None:
                    self._assign(expr, constant if isinstance(constant, str) else self._callable(constant))
                    continue
            if not children_done:
                stack.append((expr, True))
                stack.extend((arg, False) for arg in expr.args if arg not in self.names)
                continue
            self._assign(expr, self._operation(expr, [self.names[arg] for arg in expr.args]))
        return self.names[root]

    def _operation(self, expr: sympy.Basic, args: list[str]) -> str:
        if expr.is_Add:
            return " + ".join(args)
        if expr.is_Mul:
            return " * ".join(args)
        if expr.is_Pow:
            base, exponent = args
            power = expr.args[1]
            if power == sympy.Rational(1, 2):
                return f"{self._callable(self.backend.sqrt)}({base})"
            if power == -sympy.Rational(1, 2):
                return f"1 / {self._callable(self.backend.sqrt)}({base})"
            if power == -1:
                return f"1 / {base}"
            if power == 2:
                return f"{base} * {base}"
            return f"{base} ** {exponent}"
        if type(expr) in self.backend.functions and len(args) == 1:
            return f"{self._callable(self.backend.functions[type(expr)])}({args[0]})"
        if type(expr) in self.backend.reductions:
            reduce = self._callable(self.backend.reductions[type(expr)])
            source = args[0]
            for arg in args[1:]:
                source = f"{reduce}({source}, {arg})"
            return source
        raise Unsupported(f"no numpy translation for {type(expr).__name__}")


def numpy_source_function(symbols: Sequence[sympy.Symbol], exprs: Sequence[sympy.Expr],
                          backend: "_Backend | None" = None) -> Callable:
    """f(*values) -> [value of each expr], like sympy.lambdify(symbols, list(exprs)).

    Raises Unsupported when an expression holds a node kind this module does not translate.
    """
    writer = _Writer(symbols, backend)
    outputs = [writer.name_of(sympy.sympify(e)) for e in exprs]
    arguments = ", ".join(f"a{i}" for i in range(len(symbols)))
    source = "\n".join([f"def generated({arguments}):", *writer.lines, f"    return [{', '.join(outputs)}]"])
    namespace = dict(writer.namespace)
    exec(compile(source, "<tc0lab.spec.codegen>", "exec"), namespace)
    return namespace["generated"]
