"""The per-token quantities of a recurrence, bound to parameter values and compiled.

For token t of a layer this gives the nodes of A(x_t) (only structurally non-zero
entries), u_t = B(x_t) x_t, C(x_t) and D x_t. Every construction reads these, so the
per-token work is identical whichever rule handles the sequence dimension.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sympy

from tc0lab.circuit.build import CircuitBuilder
from tc0lab.compiler.expr_to_gates import TokenColumns, TokenProgram, bind
from tc0lab.spec.recurrence import Recurrence


@dataclass(eq=False)
class BoundRecurrence:
    """A recurrence with parameter values substituted (sympy matrices over inputs only)."""

    rec: Recurrence
    A: sympy.Matrix
    B_matrix: sympy.Matrix
    u: list  # B(x) x as expressions
    C: sympy.Matrix
    Dx: list  # D x as expressions
    h0: np.ndarray | None

    @property
    def state_size(self) -> int:
        return self.A.shape[0]

    def constant(self, matrix: sympy.Matrix) -> bool:
        return not (matrix.free_symbols & set(self.rec.inputs))

    @property
    def constant_B(self) -> bool:
        return self.constant(self.B_matrix)


def bind_recurrence(rec: Recurrence, values: dict) -> BoundRecurrence:
    """Substitute values into A, B, C, D and h0 (cached: compiles at several n reuse it)."""
    return _bind_cached(rec, tuple(values.items()))


@functools.lru_cache(maxsize=64)
def _bind_cached(rec: Recurrence, value_items: tuple) -> BoundRecurrence:
    values = dict(value_items)
    x = sympy.Matrix(rec.inputs)
    A = sympy.Matrix(rec.A.shape[0], rec.A.shape[1], bind(list(rec.A), values))
    B = sympy.Matrix(rec.B.shape[0], rec.B.shape[1], bind(list(rec.B), values))
    C = sympy.Matrix(rec.C.shape[0], rec.C.shape[1], bind(list(rec.C), values))
    D = sympy.Matrix(rec.D.shape[0], rec.D.shape[1], bind(list(rec.D), values))
    h0 = None
    if rec.h0 is not None:
        h0 = np.array([complex(e) for e in bind(list(rec.h0), values)])
        h0 = h0.real if not np.any(h0.imag) else h0
        h0 = None if not np.any(h0) else h0
    return BoundRecurrence(rec, A, B, list(B * x), C, list(D * x), h0)


def numeric(matrix: sympy.Matrix) -> np.ndarray:
    """A constant sympy matrix as numpy (complex only when needed)."""
    array = np.array([[complex(e) for e in row] for row in matrix.tolist()])
    return array.real if not np.any(array.imag) else array


@functools.lru_cache(maxsize=256)
def token_program(bound: BoundRecurrence, layer: int, parts: str = "AuCD", extra: tuple = ()) -> TokenProgram:
    """The per-token quantities a construction reads, compiled once for the layer.

    parts picks among A (transition entries), u (B(x) x), C and D (D x); `extra` adds more
    expressions (e.g. log-space bases). Nothing else is compiled, so no gate is dead.
    """
    chosen = {"A": list(bound.A), "u": list(bound.u), "C": list(bound.C), "D": list(bound.Dx)}
    exprs = [e for part in parts for e in chosen[part]] + list(extra)
    return TokenProgram(bound.rec.inputs, exprs, layer)


def token_nodes(builder: CircuitBuilder, program: TokenProgram, z: list[list[str]]) -> TokenColumns:
    """The program emitted at every position t = 1..n, reading the mixer inputs z[t - 1]."""
    return program.emit_all(builder, z)


def output_rows(builder: CircuitBuilder, compilers: TokenColumns, bound: BoundRecurrence,
                h_rows: list[list[str]], layer: int) -> list[list[str]]:
    """y_t = C(x_t) h_t + D x_t for every t (the sparsity of C and D is read from sympy once)."""
    c_columns = [[compilers.column(bound.C[o, s]) if bound.C[o, s] != 0 else None for s in range(bound.state_size)]
                 for o in range(bound.C.shape[0])]
    return outputs_from_columns(builder, compilers, c_columns, compilers.rows(bound.Dx), h_rows, layer)


def outputs_from_columns(builder: CircuitBuilder, compilers: TokenColumns, c_columns: list[list[list | None]],
                         dx: list[list], h_rows: list[list], layer: int) -> list[list[str]]:
    """y_t[o] = sum_s C_t[o, s] h_t[s] + dx_t[o]: one 'add' per output over a 'mul' per non-zero C entry.

    c_columns[o][s] is the column of C[o, s]'s nodes over t (None: structurally zero), dx[t - 1][o]
    the node of (D x_t)[o] (None: zero). The gates of all positions are added in bulk; the
    products of one output are summed in the order of s.
    """
    n = len(h_rows)
    ts = list(range(1, n + 1))
    builder.at(layer, None)
    rows: list[list[str]] = [[] for _ in range(n)]
    for o, row_columns in enumerate(c_columns):
        products = [builder.add_gates("mul", lambda o=o, s=s: [f"L{layer}.Ch[t={t},o={o},s={s}]" for t in ts],
                                      list(zip(column, [row[s] for row in h_rows])), ts, "Ch")
                    for s, column in enumerate(row_columns) if column is not None]
        terms = [list(column) for column in zip(*products)] if products else [[] for _ in ts]
        for t in ts:
            if dx[t - 1][o] is not None:
                terms[t - 1].append(dx[t - 1][o])
        if all(terms):
            names = builder.add_gates("add", lambda o=o: [f"L{layer}.y[t={t},o={o}]" for t in ts], [tuple(r) for r in terms],
                                      ts, "y")
        else:
            names = [compilers[t - 1].const(0.0) if not terms[t - 1] else
                     builder.at(layer, t).add(terms[t - 1], name=f"L{layer}.y[t={t},o={o}]", role="y") for t in ts]
        for row, name in zip(rows, names):
            row.append(name)
    return rows
