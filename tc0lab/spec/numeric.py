"""Fast numeric views of a spec's matrices: A(x) and the write b(x) = B(x) x, at given values.

The structure analysis and the checker evaluate A(x) at many inputs and parameter values (to refute commutation, to
search for witnesses, to run them). Lambdifying a whole symbolic matrix is slow for layers
like DeltaNet, so only the structurally non-zero entries are compiled (with common
subexpression elimination) and scattered back into a dense array.

The values come from the spec's own sympy matrices: nothing here knows an architecture.
"""
from __future__ import annotations

import functools
from typing import Mapping, Sequence

import numpy as np
import sympy

from tc0lab.spec.codegen import Unsupported, mpmath_source_function, numpy_source_function
from tc0lab.spec.functions import lambdify_modules, mpmath_modules
from tc0lab.spec.recurrence import Recurrence


def numpy_function(symbols: Sequence[sympy.Symbol], exprs: Sequence[sympy.Expr]):
    """f(*values) -> [value of each expr], with repeated subexpressions computed once.

    The source is written by `codegen` (fast: no sympy printer, no cse); a node kind it does
    not translate falls back to sympy.lambdify with cse. Parameter symbols have names like
    'A[0,1]' that are not Python identifiers, and lambdify's renaming of them is quadratic
    in their number (seconds for a few thousand); renaming them once to plain identifiers
    here makes the same function.
    """
    try:
        return numpy_source_function(symbols, exprs)
    except Unsupported:
        pass
    plain = [sympy.Symbol(f"_s{i}", real=True) for i in range(len(symbols))]
    renamed = [sympy.sympify(e).xreplace(dict(zip(symbols, plain))) for e in exprs]
    return sympy.lambdify(plain, renamed, modules=lambdify_modules(), cse=True, dummify=False)


def by_name(symbol: sympy.Symbol) -> str:
    """Sort key for symbols: their name (what str() gives for a Symbol, without the printer's cost)."""
    return symbol.name


@functools.lru_cache(maxsize=64)
def parameter_symbols(rec: Recurrence) -> tuple[sympy.Symbol, ...]:
    """Every parameter symbol of the spec, in a fixed (sorted-by-name) order."""
    return tuple(sorted(rec.parameters(), key=by_name))


class SparseMatrixFunction:
    """A sympy matrix compiled to numpy: only its structurally non-zero entries.

    Entries that are a bare symbol or a number are gathered directly (an RNN's A is a matrix
    of parameter symbols: lambdifying 5,625 of them would take minutes); only compound
    entries are lambdified, over just the symbols they mention.
    """

    def __init__(self, matrix: sympy.Matrix, symbols: Sequence[sympy.Symbol]):
        self.shape = matrix.shape
        self.symbols = tuple(symbols)
        position = {s: i for i, s in enumerate(self.symbols)}
        flat = list(matrix)
        nonzero = [i for i, entry in enumerate(flat) if entry != 0]
        bare = [i for i in nonzero if flat[i] in position]
        numbers = [i for i in nonzero if flat[i].is_number]
        simple = set(bare) | set(numbers)
        compound = [i for i in nonzero if i not in simple]
        self.bare, self.bare_source = np.array(bare, dtype=np.int64), np.array([position[flat[i]] for i in bare], dtype=np.int64)
        self.numbers = np.array(numbers, dtype=np.int64)
        self.number_values = np.array([complex(flat[i]) for i in numbers])
        self.compound = np.array(compound, dtype=np.int64)
        used = sorted(set().union(*(flat[i].free_symbols for i in compound)), key=by_name) if compound else []
        self.compound_source = np.array([position[s] for s in used], dtype=np.int64)
        self._function = numpy_function(used, [flat[i] for i in compound]) if compound else None

    def __call__(self, values: Sequence[float]) -> np.ndarray:
        """The matrix at one point (values in the order of `symbols`); complex if needed."""
        values = np.asarray(values)
        entries = ([np.asarray(v) for v in self._function(*values[self.compound_source])]
                   if self._function is not None else [])
        complex_valued = any(np.iscomplexobj(e) for e in entries) or np.any(np.imag(self.number_values))
        out = np.zeros(self.shape[0] * self.shape[1], dtype=complex if complex_valued else float)
        out[self.bare] = values[self.bare_source]
        out[self.numbers] = self.number_values if complex_valued else self.number_values.real
        if len(entries):
            out[self.compound] = np.array(entries, dtype=out.dtype).reshape(-1)
        return out.reshape(self.shape)


@functools.lru_cache(maxsize=64)
def transition_function(rec: Recurrence) -> SparseMatrixFunction:
    """A(x) as a function of (inputs..., parameters...)."""
    return SparseMatrixFunction(rec.A, rec.inputs + parameter_symbols(rec))


@functools.lru_cache(maxsize=64)
def write_function(rec: Recurrence) -> SparseMatrixFunction:
    """b(x) = B(x) x (a column) as a function of (inputs..., parameters...)."""
    return SparseMatrixFunction(rec.B * sympy.Matrix(rec.inputs), rec.inputs + parameter_symbols(rec))


def parameter_values(rec: Recurrence, values: Mapping[sympy.Symbol, float]) -> list[float]:
    """Every parameter's value, in the order of `parameter_symbols` (compute once, reuse per token)."""
    return [values[s] for s in parameter_symbols(rec)]


def point(rec: Recurrence, token: Sequence[float], values: Mapping[sympy.Symbol, float] | list[float]) -> list[float]:
    """Arguments for the compiled functions: the token, then every parameter's value
    (`values` may be the list from `parameter_values`)."""
    return list(np.asarray(token, dtype=float)) + (values if isinstance(values, list) else parameter_values(rec, values))


def random_values(rec: Recurrence, rng: np.random.Generator, scale: float = 1.0) -> dict:
    """Independent N(0, scale^2) values for every parameter symbol."""
    return {s: float(rng.normal(0.0, scale)) for s in parameter_symbols(rec)}


ACCURATE_DIGITS = 40


@functools.lru_cache(maxsize=64)
def _accurate_entries(flat: tuple, symbols: tuple) -> tuple[list[int], list[int], object]:
    """The compound entries (bare symbols and numbers are exact in float64) as one mpmath function
    of just the symbols they use: (entry positions, argument positions, function)."""
    compound = [i for i, entry in enumerate(flat) if entry != 0 and not entry.is_Symbol and not entry.is_number]
    if not compound:
        return [], [], None
    used = set().union(*(flat[i].free_symbols for i in compound))
    arguments = [k for k, s in enumerate(symbols) if s in used]
    chosen, exprs = [symbols[k] for k in arguments], [flat[i] for i in compound]
    try:
        return compound, arguments, mpmath_source_function(chosen, exprs)
    except Unsupported:
        plain = [sympy.Symbol(f"_s{k}", real=True) for k in arguments]  # lambdify renames other names slowly
        renamed = [e.xreplace(dict(zip(chosen, plain))) for e in exprs]
        return compound, arguments, sympy.lambdify(plain, renamed, modules=mpmath_modules(), dummify=False)


def accurate_matrix(matrix: sympy.Matrix, symbols: Sequence[sympy.Symbol], values: Sequence[float],
                    rounded: np.ndarray) -> np.ndarray:
    """`rounded` (the float evaluation of the matrix at `values`) with every compound entry recomputed
    at ACCURATE_DIGITS digits (mpmath) and rounded once: a reference for the float evaluation, which
    cancellation can spoil. Bare symbols and numbers are exact already."""
    import mpmath
    compound, arguments, function = _accurate_entries(tuple(matrix), tuple(symbols))
    out = np.array(rounded, dtype=complex).reshape(-1)
    if compound:
        with mpmath.workdps(ACCURATE_DIGITS):
            out[compound] = [complex(e) for e in function(*[mpmath.mpf(float(values[k])) for k in arguments])]
    return out.reshape(matrix.shape)


def coordinate_blocks(matrix: sympy.Matrix) -> list[list[int]]:
    """Groups of state coordinates that A never mixes (connected components of its pattern).

    Coordinates in different blocks evolve independently, so a witness may live in one block.
    """
    size = matrix.shape[0]
    parent = list(range(size))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(size):
        for j in range(size):
            if i != j and matrix[i, j] != 0:
                parent[find(i)] = find(j)
    blocks: dict[int, list[int]] = {}
    for i in range(size):
        blocks.setdefault(find(i), []).append(i)
    return sorted(blocks.values(), key=lambda block: block[0])
