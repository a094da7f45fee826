"""Recurrences with complex parameters (LRU, GateLoop, RetNet's rotation, PD-SSM), in real form.

Several architectures are written over complex numbers: h_t = A(x_t) h_{t-1} + B(x_t) x_t
with complex A and B, read as y_t = Re(C(x_t) h_t + D x_t). `complex_recurrence` takes those
complex sympy matrices (built from real symbols and sympy.I) and returns the equivalent real
`Recurrence` on twice the state, so that every stage (reference, compiler, checker) runs it
unchanged. State coordinate r becomes the pair (2r, 2r + 1) = (Re h_r, Im h_r), and a complex
entry m = a + ib becomes the 2 x 2 block [[a, -b], [b, a]]: a complex diagonal A becomes
block-diagonal rotation-scalings, which commute, so the family stays commuting; its
eigenvalues are the complex entries and their conjugates.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import sympy

from tc0lab.spec.recurrence import Recurrence


def _factor_parts(factor: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """(Re, Im) of one factor. A factor without I is real: it is built from real symbols (where a
    square root of a negative number would make it complex, float arithmetic gives NaN anyway)."""
    if not factor.has(sympy.I):
        return factor, sympy.Integer(0)
    if factor == sympy.I:
        return sympy.Integer(0), sympy.Integer(1)
    if isinstance(factor, sympy.exp):  # e^{a + ib} = e^a (cos b + i sin b), with a, b read the same way
        a, b = _parts(factor.args[0])
        return sympy.exp(a) * sympy.cos(b), sympy.exp(a) * sympy.sin(b)
    if factor.is_Add:
        return _parts(factor)
    return factor.as_real_imag()


def _parts(entry) -> tuple[sympy.Expr, sympy.Expr]:
    """(Re, Im) of a complex expression over real symbols, term by term and factor by factor."""
    entry = sympy.sympify(entry)
    if not entry.has(sympy.I):
        return entry, sympy.Integer(0)
    real, imaginary = sympy.Integer(0), sympy.Integer(0)
    for term in sympy.Add.make_args(entry):
        a, b = sympy.Integer(1), sympy.Integer(0)
        for factor in sympy.Mul.make_args(term):
            c, e = _factor_parts(factor)
            a, b = a * c - b * e, a * e + b * c
        real, imaginary = real + a, imaginary + b
    return real, imaginary


def real_form(matrix: sympy.Matrix) -> sympy.Matrix:
    """The real 2m x 2n matrix of a complex m x n matrix acting on interleaved (Re, Im) pairs."""
    rows, columns = matrix.shape
    result = sympy.zeros(2 * rows, 2 * columns)
    for i in range(rows):
        for j in range(columns):
            if matrix[i, j] == 0:
                continue
            a, b = _parts(matrix[i, j])
            result[2 * i, 2 * j], result[2 * i, 2 * j + 1] = a, -b
            result[2 * i + 1, 2 * j], result[2 * i + 1, 2 * j + 1] = b, a
    return result


def _real_input_map(matrix: sympy.Matrix) -> sympy.Matrix:
    """Rows (Re, Im) of a complex S x d matrix that multiplies a real input."""
    rows, columns = matrix.shape
    result = sympy.zeros(2 * rows, columns)
    for i in range(rows):
        for j in range(columns):
            result[2 * i, j], result[2 * i + 1, j] = _parts(matrix[i, j])
    return result


def _real_readout(matrix: sympy.Matrix) -> sympy.Matrix:
    """Re(C h) = Re(C) Re(h) - Im(C) Im(h): the columns (Re C, -Im C) per state pair."""
    rows, columns = matrix.shape
    result = sympy.zeros(rows, 2 * columns)
    for i in range(rows):
        for j in range(columns):
            a, b = _parts(matrix[i, j])
            result[i, 2 * j], result[i, 2 * j + 1] = a, -b
    return result


def complex_recurrence(name: str, inputs, A: sympy.Matrix, B: sympy.Matrix, C: sympy.Matrix, D: sympy.Matrix,
                       param_arrays: Mapping[str, np.ndarray], h0: sympy.Matrix | None = None,
                       **options) -> Recurrence:
    """The real recurrence of h_t = A h_{t-1} + B x_t, y_t = Re(C h_t + D x_t) over complex matrices.

    `options` go to `Recurrence` (previous_inputs; a complex B_previous is converted like B).
    Parameters must be real symbols: write complex values as a + I b or exp(I theta).
    """
    if "B_previous" in options and options["B_previous"] is not None:
        options["B_previous"] = _real_input_map(options["B_previous"])
    if options.get("nonlinearity") is not None:
        raise ValueError("a complex recurrence must be linear: a nonlinearity of a complex state is not defined here")
    D_real = D.applyfunc(lambda entry: _parts(entry)[0])
    h0_real = _real_input_map(h0) if h0 is not None else None
    return Recurrence(name, tuple(inputs), real_form(A), _real_input_map(B), _real_readout(C), D_real,
                      param_arrays, h0=h0_real, **options)
