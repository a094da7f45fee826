"""Diagonal input-dependent transition (Mamba/S6, Mamba-2, GLA): products of scalars.

Illusion Thm 4.4: each state coordinate evolves alone, h_t[r] = sum_j (prod_{k=j+1}^t a_k[r]) u_j[r],
and an iterated product of commuting scalars is in TC0.
Two sound constructions, chosen from the entries' sympy assumptions:

  log space   when every a[r] is provably positive: a = exp(l) with l = c * base (Mamba's
              exp(Delta A): l = A * Delta), so prod a_k = exp(c * (P_t - P_j)) with prefix sums
              P_t = sum_{k<=t} base_k. Gates: 'add' (prefix), 'add' (difference, weights +1/-1),
              'lookup' exp. The prefix sums are shared by every state with the same base
              (Mamba's Delta per channel, Mamba-2's single Delta), which keeps size Theta(n^2).
  prod gates  otherwise (e.g. 2 exp(Delta A) - 1, which can be negative, or complex entries):
              one 'prod' of the t - j factors per (r, t, j): still constant depth, size
              Theta(n^3) in edges.

`decay_sums` is the scalar machinery on its own: h_t[r] = a_t[r] h_{t-1}[r] + v_t[r] for
given input nodes v and decay tables. The diagonal construction feeds it v = u = B(x) x;
the triangular construction (`back_substitution.py`) feeds it, coordinate group by group,
v = u + (the already built earlier coordinates read through A); the diagonalised
construction (`diagonalised.py`) feeds it the recurrence in the eigenbasis.
A coordinate whose a[r] is structurally 0 has no memory: h_t[r] = v_t[r].
"""
from __future__ import annotations

import functools
from typing import Callable, Sequence

import numpy as np
import sympy

from tc0lab.circuit import nodes as K
from tc0lab.circuit.build import CircuitBuilder, Node
from tc0lab.compiler.expr_to_gates import TokenColumns
from tc0lab.compiler.recurrence_terms import BoundRecurrence, output_rows, token_nodes, token_program
from tc0lab.spec.structure import positive_entries

DecayTables = list[list[list]]  # tables[state][t][j]: the node of prod_{k=j+1}^t a_k (None: not needed)
DecayMaker = Callable[[list[list[bool]]], DecayTables]  # needs[state][j] -> the decay tables


@functools.lru_cache(maxsize=64)
def log_coefficients(entries: tuple[sympy.Expr, ...]) -> list[tuple[float, sympy.Expr]] | None:
    """Per entry: (c, base) with log a = c * base, or None when positivity is not provable."""
    if not entries or not positive_entries(sympy.diag(*entries)):
        return None
    result = []
    for entry in entries:
        log_entry = entry.args[0] if isinstance(entry, sympy.exp) else sympy.log(entry)
        coefficient, base = log_entry.as_coeff_Mul()
        result.append((float(coefficient), base))
    return result


def diagonal_entries(bound: BoundRecurrence, states: Sequence[int] | None = None) -> tuple[sympy.Expr, ...]:
    """A[r, r] for the given states (all by default)."""
    return tuple(bound.A[r, r] for r in (range(bound.state_size) if states is None else states))


def decay_expressions(entries: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    """What the per-token program must compile for these entries' decays: the log-space bases, or the entries."""
    logs = log_coefficients(entries)
    return tuple(base for _, base in logs) if logs else entries


def sympy_decays(builder: CircuitBuilder, compilers: TokenColumns, entries: tuple[sympy.Expr, ...], layer: int,
                 states: Sequence[int], tag: str = "") -> DecayMaker:
    """Decay tables for non-zero sympy entries: log space when provably positive, else prod gates.

    `compilers` must hold `decay_expressions(entries)`; `tag` keeps gate names of several
    calls in one layer apart.
    """
    logs = log_coefficients(entries)
    if logs:
        return lambda needs: _log_space_decays(builder, compilers, logs, layer, needs, tag)
    return product_decays(builder, compilers.rows(list(entries)), layer, states)


def initial_state_nodes(builder: CircuitBuilder, h0, layer: int, label: str = "h0") -> list[Node | None]:
    """One const per non-zero entry of h0 (None for a zero entry, or when h0 is None)."""
    if h0 is None:
        return []
    return [None if value == 0 else builder.const(value.item(), name=f"L{layer}.{label}[r={r}]", role="h0")
            for r, value in enumerate(h0)]


def compile_diagonal(builder: CircuitBuilder, bound: BoundRecurrence, z: list[list[str]], layer: int) -> list[list[str]]:
    """Outputs (n rows of d_out nodes) of a linear recurrence with diagonal A(x)."""
    S = bound.state_size
    memory = [bound.A[r, r] != 0 for r in range(S)]
    decaying = [r for r in range(S) if memory[r]]
    entries = diagonal_entries(bound, decaying)
    logs = log_coefficients(entries)
    extra = decay_expressions(entries) if logs else ()
    compilers = token_nodes(builder, token_program(bound, layer, "uCD" if logs else "AuCD", extra), z)
    h0 = initial_state_nodes(builder, bound.h0, layer) or [None] * S
    columns = recurrence_columns(builder, layer, compilers.rows(bound.u), h0, range(S), memory,
                                 sympy_decays(builder, compilers, entries, layer, decaying), compilers)
    return output_rows(builder, compilers, bound, [list(row) for row in zip(*columns)], layer)


def recurrence_columns(builder: CircuitBuilder, layer: int, v_rows: list[list[Node | None]], h0: list[Node | None],
                       states: Sequence[int], memory: Sequence[bool], make_decays: DecayMaker,
                       compilers: TokenColumns) -> list[list[Node]]:
    """columns[i][t - 1] = h_t of the state labelled states[i]: its decay sum where memory[i] (a != 0),
    v_t itself where not (a = 0: h_t = v_t, 0 when v is structurally absent).

    `make_decays` serves the states with memory, in order.
    """
    kept = [i for i in range(len(states)) if memory[i]]
    sums = decay_sums(builder, layer, [[row[i] for i in kept] for row in v_rows], [h0[i] for i in kept], make_decays,
                      [states[i] for i in kept], compilers) if kept else []
    by_state = dict(zip(kept, map(list, zip(*sums))))
    return [by_state[i] if i in by_state else [v if v is not None else compilers.const(0.0) for v in (row[i] for row in v_rows)]
            for i in range(len(states))]


def decay_sums(builder: CircuitBuilder, layer: int, v_rows: list[list[Node | None]], h0: list[Node | None],
               make_decays: DecayMaker, states: Sequence[int], compilers: TokenColumns) -> list[list[Node]]:
    """h_t[r] = sum_{j=1}^t decay(r, t, j) v_j[r] + decay(r, t, 0) h0[r] for the given states.

    v_rows[t - 1][i] is the input node of states[i] at t (None: structurally zero), h0[i] its
    initial value (None: zero). The Theta(n^2) gates (decays, decay * v terms) are added in
    bulk, with their names made only if the graph is built; tables indexed [t][j] hold their
    handles. Returns rows h[t - 1][i].
    """
    n = len(v_rows)
    # needs[i][j]: the term of v_j (j >= 1) or of h0 (j = 0) is not a structural zero
    needs = [[h0[i] is not None] + [v_rows[j - 1][i] is not None for j in range(1, n + 1)] for i in range(len(states))]
    decays = make_decays(needs)
    terms = []  # terms[i][t][j]: decay(i, t, j) * v_j (h0 for j = 0), None when absent
    for i, r in enumerate(states):
        cells = triangle(n, needs[i])
        handles = builder.add_gates(
            "mul", lambda r=r, cells=cells: [f"L{layer}.au[t={t},j={j},r={r}]" if j else f"L{layer}.ah0[t={t},r={r}]"
                                             for t, j in cells],
            [(decays[i][t][j], v_rows[j - 1][i] if j else h0[i]) for t, j in cells], [t for t, _ in cells], "au")
        terms.append(table(n, cells, handles))
    h_rows = []
    for t in range(1, n + 1):
        builder.at(layer, t)
        h_row = []
        for i, r in enumerate(states):
            row = terms[i][t]
            summands = [row[j] for j in range(1, t) if row[j] is not None]
            if v_rows[t - 1][i] is not None:  # the empty product: v_t enters as it is
                summands.append(v_rows[t - 1][i])
            if row[0] is not None:
                summands.append(row[0])
            h_row.append(builder.add(summands, name=f"L{layer}.h[t={t},r={r}]", role="h") if summands
                         else compilers.const(0.0))
        h_rows.append(h_row)
    return h_rows


def triangle(n: int, needed: list[bool]) -> list[tuple[int, int]]:
    """The cells (t, j), 1 <= t <= n and 0 <= j < t, whose j is needed."""
    return [(t, j) for t in range(1, n + 1) for j in range(t) if needed[j]]


def table(n: int, cells: list[tuple[int, int]], handles) -> list[list]:
    """rows[t][j] = the handle of cell (t, j), None elsewhere."""
    rows: list[list] = [[None] * t for t in range(n + 1)]
    for (t, j), handle in zip(cells, handles):
        rows[t][j] = handle
    return rows


def _log_space_decays(builder, compilers, logs, layer, needs, tag="") -> DecayTables:
    """Every needed decay exp(c_r * (P_t - P_j)), over shared prefix sums P of each distinct base.

    Returns decays[r][t][j] (None where state r needs no such term). States with the same
    (base, c) share their decay gates; bases shared by several c share prefix sums and their
    differences.
    """
    n = len(compilers)
    bases: dict = {}  # base expression -> index b
    keys = [(bases.setdefault(base, len(bases)), coefficient) for coefficient, base in logs]
    key_needs: dict = {}  # (b, c) -> needs[j] of any state with that key
    for r, key in enumerate(keys):
        key_needs[key] = [a or b for a, b in zip(key_needs.get(key, needs[r]), needs[r])]
    by_key: dict = {}
    for base, b in bases.items():
        base_needs = [any(flags[j] for key, flags in key_needs.items() if key[0] == b) for j in range(n + 1)]
        # P_t is read by the differences (as P_t and as P_j) and alone by the j = 0 decays
        used = [False] * (n + 1)
        for t in range(1, n + 1):
            used[t] = base_needs[0] or any(base_needs[1:t]) or (base_needs[t] and t < n)
        base_nodes = compilers.column(base)
        prefix = [None] * (n + 1)
        for t in range(1, n + 1):
            if used[t]:
                prefix[t] = builder.at(layer, t).add(base_nodes[:t], name=f"L{layer}.P[t={t},b={b}{tag}]", role="prefix")
        # differences[t][j] = P_t - P_j; j = 0 is P_t itself
        cells = triangle(n, [False] + base_needs[1:])
        handles = builder.add_gates("add", lambda b=b, cells=cells: [f"L{layer}.dP[t={t},j={j},b={b}{tag}]" for t, j in cells],
                                    [(prefix[t], prefix[j]) for t, j in cells], [t for t, _ in cells], "dprefix",
                                    {K.COEFFS: (1, -1)})
        differences = table(n, cells, handles)
        for t in range(1, n + 1):
            differences[t][0] = prefix[t] if base_needs[0] else None
        for key, flags in key_needs.items():
            if key[0] != b:
                continue
            cells = triangle(n, flags)
            label = f"b={b},c={key[1]:.6g}{tag}"
            handles = builder.add_gates(
                "lookup", lambda label=label, cells=cells: [f"L{layer}.decay[t={t},j={j},{label}]" for t, j in cells],
                [(differences[t][j],) for t, j in cells], [t for t, _ in cells], "decay", {K.FN: (("exp", key[1]),)})
            by_key[key] = table(n, cells, handles)
    return [by_key[key] for key in keys]


def product_decays(builder: CircuitBuilder, entry_rows: list[list[Node | None]], layer: int,
                   states: Sequence[int]) -> DecayMaker:
    """Decay tables as 'prod' gates: decays[i][t][j] = prod_{k=j+1}^t a_k[states[i]].

    entry_rows[t - 1][i] is the node of a_t[states[i]]. States whose entries are the same
    nodes share their gates, and so do cells whose factors are the same nodes (a constant
    entry: one gate per length t - j).
    """
    def make(needs: list[list[bool]]) -> DecayTables:
        n = len(entry_rows)
        columns = builder.indices([list(row) for row in entry_rows]).T if n else np.zeros((len(states), 0), np.int64)
        groups: dict[bytes, list[int]] = {}
        for i in range(len(states)):
            groups.setdefault(columns[i].tobytes(), []).append(i)
        tables: DecayTables = [[] for _ in states]
        for members in groups.values():
            namer = {j: states[next(i for i in members if needs[i][j])] for j in range(n + 1)
                     if any(needs[i][j] for i in members)}
            column = columns[members[0]]
            build = _distinct_factor_products if len(set(column.tolist())) == n else _shared_factor_products
            rows = build(builder, column, namer, layer)
            for i in members:
                tables[i] = rows
        return tables
    return make


def _distinct_factor_products(builder: CircuitBuilder, column: np.ndarray, namer: dict[int, int],
                              layer: int) -> list[list]:
    """One 'prod' per needed cell, added in bulk per length m = t - j (the factors are distinct nodes)."""
    n = len(column)
    rows: list[list] = [[None] * t for t in range(n + 1)]
    for m in range(1, n + 1):
        windows = np.lib.stride_tricks.sliding_window_view(column, m)  # row j: the factors a_{j+1} .. a_{j+m}
        js = [j for j in range(n - m + 1) if j in namer]
        if not js:
            continue
        handles = builder.at(layer, None).add_gates(
            "prod", lambda m=m, js=js: [f"L{layer}.decay[t={j + m},j={j},r={namer[j]}]" for j in js],
            windows[js], [j + m for j in js], "decay")
        for j, handle in zip(js, handles):
            rows[j + m][j] = handle
    return rows


def _shared_factor_products(builder: CircuitBuilder, column: np.ndarray, namer: dict[int, int],
                            layer: int) -> list[list]:
    """One 'prod' per distinct tuple of factors (a node repeats in the column, e.g. a constant entry)."""
    n = len(column)
    entries = column.tolist()
    shared: dict = {}
    rows: list[list] = [[None] * t for t in range(n + 1)]
    for t in range(1, n + 1):
        builder.at(layer, t)
        for j in range(t):
            if j in namer:
                factors = tuple(entries[j:t])
                if factors not in shared:
                    shared[factors] = builder.prod(list(factors), name=f"L{layer}.decay[t={t},j={j},r={namer[j]}]",
                                                   role="decay")
                rows[t][j] = shared[factors]
    return rows
