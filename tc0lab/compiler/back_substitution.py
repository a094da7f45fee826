"""Triangular input-dependent transition (shears, unipotent and upper-triangular families): back-substitution.

When the state coordinates can be ordered so that each reads only itself and earlier ones
(`tc0lab.spec.structure.triangular_order`: A(x) is triangular after a permutation; the
family need not commute), coordinate r is a SCALAR linear recurrence

    h_t[r] = a_t[r] h_{t-1}[r] + v_t[r],   v_t[r] = u_t[r] + sum_{k earlier} A_t[r, k] h_{t-1}[k]

(h_0 included), whose input v reads only coordinates already built. Argument: group the
coordinates by their level in the read graph (level 0 reads only itself; level l reads some
coordinate of level l - 1 and none above). For one level, v is one 'mul' per read entry and
one 'add' over the built h of lower levels, and the scalar recurrence is the diagonal
construction's decay sum (`diagonal_decay.decay_sums`: log space when a[r] is provably
positive, 'prod' gates otherwise; h_t[r] = v_t[r] when a[r] is structurally 0). Each level
adds a constant to the depth, so the threshold depth grows with the length of the
dependency chain (at most the state size S), never with n: constant depth in n, size
Theta(S n^2) gates (Theta(S n^3) edges where 'prod' gates are used). This is the monotone-path-sum argument (an entry of a product of
triangular matrices sums over monotone index paths) organised level by level.
"""
from __future__ import annotations

from tc0lab.circuit.build import CircuitBuilder, Node
from tc0lab.compiler.diagonal_decay import (decay_expressions, diagonal_entries, initial_state_nodes, log_coefficients,
                                            recurrence_columns, sympy_decays)
from tc0lab.compiler.expr_to_gates import TokenColumns
from tc0lab.compiler.recurrence_terms import BoundRecurrence, output_rows, token_nodes, token_program
from tc0lab.spec.structure import triangular_order


def dependency_levels(bound: BoundRecurrence) -> list[list[int]]:
    """Coordinates grouped by level: each reads (besides itself) only coordinates of lower levels."""
    order = triangular_order(bound.A)
    if order is None:
        raise ValueError("A(x) is not triangular under any ordering of the coordinates")
    level: dict[int, int] = {}
    for r in order:
        level[r] = 1 + max((level[k] for k in reads(bound, r)), default=-1)
    return [[r for r in order if level[r] == value] for value in range(max(level.values()) + 1)]


def reads(bound: BoundRecurrence, r: int) -> list[int]:
    """The other coordinates that coordinate r reads: k != r with A[r, k] structurally non-zero."""
    return [k for k in range(bound.state_size) if k != r and bound.A[r, k] != 0]


def compile_triangular(builder: CircuitBuilder, bound: BoundRecurrence, z: list[list[str]], layer: int) -> list[list[str]]:
    """Outputs (n rows of d_out nodes) of a linear recurrence whose A(x) is triangular after a permutation."""
    S, n = bound.state_size, len(z)
    levels = dependency_levels(bound)
    decaying = [[r for r in group if bound.A[r, r] != 0] for group in levels]
    off_diagonal = [bound.A[r, k] for r in range(S) for k in reads(bound, r)]
    decay_exprs = [e for group in decaying for e in decay_expressions(diagonal_entries(bound, group))]
    compilers = token_nodes(builder, token_program(bound, layer, "uCD", tuple(off_diagonal + decay_exprs)), z)
    us = compilers.rows(bound.u)
    h0 = initial_state_nodes(builder, bound.h0, layer) or [None] * S
    h_columns: dict[int, list[Node]] = {}  # coordinate -> its node at t = 1..n
    for index, group in enumerate(levels):
        v = [_inputs(builder, bound, compilers, us, h0, h_columns, r, layer) for r in group]
        entries = diagonal_entries(bound, decaying[index])
        tag = f",lv={index}" if log_coefficients(entries) else ""
        columns = recurrence_columns(builder, layer, [list(row) for row in zip(*v)], [h0[r] for r in group], group,
                                     [bound.A[r, r] != 0 for r in group],
                                     sympy_decays(builder, compilers, entries, layer, decaying[index], tag), compilers)
        h_columns.update(zip(group, columns))
    h_rows = [[h_columns[r][t] for r in range(S)] for t in range(n)]
    return output_rows(builder, compilers, bound, h_rows, layer)


def _inputs(builder: CircuitBuilder, bound: BoundRecurrence, compilers: TokenColumns, us: list[list], h0: list,
            h_columns: dict[int, list[Node]], r: int, layer: int) -> list[Node | None]:
    """v_t[r] = u_t[r] + sum_k A_t[r, k] h_{t-1}[k] over the earlier coordinates k, for t = 1..n (None: zero)."""
    n = len(us)
    terms: list[list[Node]] = [[] if us[t][r] is None else [us[t][r]] for t in range(n)]
    for k in reads(bound, r):
        previous = [h0[k]] + h_columns[k][:n - 1]  # h_{t-1}[k] for t = 1..n
        cells = [t for t in range(n) if previous[t] is not None]
        entry = compilers.column(bound.A[r, k])
        products = builder.at(layer, None).add_gates(
            "mul", lambda k=k, cells=cells: [f"L{layer}.Ah[t={t + 1},r={r},k={k}]" for t in cells],
            [(entry[t], previous[t]) for t in cells], [t + 1 for t in cells], "Ah")
        for t, product in zip(cells, products):
            terms[t].append(product)
    return [None if not summands else summands[0] if len(summands) == 1 else
            builder.at(layer, t + 1).add(summands, name=f"L{layer}.v[t={t + 1},r={r}]", role="v")
            for t, summands in enumerate(terms)]
