"""Diagonal input-dependent transition (Mamba/S6, Mamba-2, GLA): products of scalars.

Illusion Thm 4.4: each state coordinate evolves alone, h_t[r] = sum_j (prod_{k=j+1}^t a_k[r]) u_j[r],
and an iterated product of commuting scalars is in TC0.
Two sound constructions, chosen from the entries' sympy assumptions:

  log space   when every a[r] is provably positive: a = exp(l) with l = c * base (Mamba's
              exp(Delta A): l = A * Delta), so prod a_k = exp(c * (P_t - P_j)) with prefix sums
              P_t = sum_{k<=t} base_k. Gates: 'add' (prefix), 'add' (difference, weights +1/-1),
              'lookup' exp. The prefix sums are shared by every state with the same base
              (Mamba's Delta per channel, Mamba-2's single Delta), which keeps size Theta(n^2).
  prod gates  otherwise (e.g. 2 exp(Delta A) - 1, which can be negative): one 'prod' of the
              t - j factors per (r, t, j): still constant depth, size Theta(n^3) in edges.
"""
from __future__ import annotations

import functools

import sympy

from tc0lab.circuit import nodes as K
from tc0lab.circuit.build import CircuitBuilder
from tc0lab.compiler.recurrence_terms import BoundRecurrence, output_rows, token_nodes, token_program
from tc0lab.spec.structure import positive_entries


@functools.lru_cache(maxsize=64)
def log_coefficients(bound: BoundRecurrence) -> list[tuple[float, sympy.Expr]] | None:
    """Per state: (c, base) with log a = c * base, or None when positivity is not provable."""
    if not positive_entries(bound.A):
        return None
    result = []
    for r in range(bound.state_size):
        entry = bound.A[r, r]
        log_entry = entry.args[0] if isinstance(entry, sympy.exp) else sympy.log(entry)
        coefficient, base = log_entry.as_coeff_Mul()
        result.append((float(coefficient), base))
    return result


def compile_diagonal(builder: CircuitBuilder, bound: BoundRecurrence, z: list[list[str]], layer: int) -> list[list[str]]:
    """Outputs (n rows of d_out nodes) of a linear recurrence with diagonal A(x).

    The Theta(n^2) gates (decays, their differences of prefix sums, decay * u terms) are
    added in bulk, with their names made only if the graph is built; tables indexed [t][j]
    hold their handles.
    """
    n, S = len(z), bound.state_size
    logs = log_coefficients(bound)
    bases = tuple(base for _, base in logs) if logs else ()
    compilers = token_nodes(builder, token_program(bound, layer, "uCD" if logs else "AuCD", bases), z)
    us = compilers.rows(bound.u)
    h0 = [None if bound.h0 is None or bound.h0[r] == 0 else
          builder.const(bound.h0[r].item(), name=f"L{layer}.h0[r={r}]", role="h0") for r in range(S)]
    # needs[r][j]: the term of u_j (j >= 1) or of h0 (j = 0) is not a structural zero
    needs = [[h0[r] is not None] + [us[j - 1][r] is not None for j in range(1, n + 1)] for r in range(S)]
    decays = (_log_space_decays(builder, compilers, logs, layer, needs) if logs
              else _product_decays(builder, bound, compilers, layer, needs))
    terms = []  # terms[r][t][j]: decay(r, t, j) * u_j[r] (h0 for j = 0), None when absent
    for r in range(S):
        cells = triangle(n, needs[r])
        handles = builder.add_gates(
            "mul", lambda r=r, cells=cells: [f"L{layer}.au[t={t},j={j},r={r}]" if j else f"L{layer}.ah0[t={t},r={r}]"
                                             for t, j in cells],
            [(decays[r][t][j], us[j - 1][r] if j else h0[r]) for t, j in cells], [t for t, _ in cells], "au")
        terms.append(table(n, cells, handles))
    h_rows = []
    for t in range(1, n + 1):
        builder.at(layer, t)
        h_row = []
        for r in range(S):
            row = terms[r][t]
            summands = [row[j] for j in range(1, t) if row[j] is not None]
            if us[t - 1][r] is not None:  # the empty product: u_t enters as it is
                summands.append(us[t - 1][r])
            if row[0] is not None:
                summands.append(row[0])
            h_row.append(builder.add(summands, name=f"L{layer}.h[t={t},r={r}]", role="h") if summands
                         else compilers[t - 1].const(0.0))
        h_rows.append(h_row)
    return output_rows(builder, compilers, bound, h_rows, layer)


def triangle(n: int, needed: list[bool]) -> list[tuple[int, int]]:
    """The cells (t, j), 1 <= t <= n and 0 <= j < t, whose j is needed."""
    return [(t, j) for t in range(1, n + 1) for j in range(t) if needed[j]]


def table(n: int, cells: list[tuple[int, int]], handles) -> list[list]:
    """rows[t][j] = the handle of cell (t, j), None elsewhere."""
    rows: list[list] = [[None] * t for t in range(n + 1)]
    for (t, j), handle in zip(cells, handles):
        rows[t][j] = handle
    return rows


def _log_space_decays(builder, compilers, logs, layer, needs) -> list[list[list]]:
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
                prefix[t] = builder.at(layer, t).add(base_nodes[:t], name=f"L{layer}.P[t={t},b={b}]", role="prefix")
        # differences[t][j] = P_t - P_j; j = 0 is P_t itself
        cells = triangle(n, [False] + base_needs[1:])
        handles = builder.add_gates("add", lambda b=b, cells=cells: [f"L{layer}.dP[t={t},j={j},b={b}]" for t, j in cells],
                                    [(prefix[t], prefix[j]) for t, j in cells], [t for t, _ in cells], "dprefix",
                                    {K.COEFFS: (1, -1)})
        differences = table(n, cells, handles)
        for t in range(1, n + 1):
            differences[t][0] = prefix[t] if base_needs[0] else None
        for key, flags in key_needs.items():
            if key[0] != b:
                continue
            cells = triangle(n, flags)
            label = f"b={b},c={key[1]:.6g}"
            handles = builder.add_gates(
                "lookup", lambda label=label, cells=cells: [f"L{layer}.decay[t={t},j={j},{label}]" for t, j in cells],
                [(differences[t][j],) for t, j in cells], [t for t, _ in cells], "decay", {K.FN: (("exp", key[1]),)})
            by_key[key] = table(n, cells, handles)
    return [by_key[key] for key in keys]


def _product_decays(builder, bound, compilers, layer, needs) -> list[list[list[str | None]]]:
    """decays[r][t][j] = prod_{k=j+1}^t a_k[r] as one 'prod' gate (shared between equal entries)."""
    n = len(compilers)
    entries = compilers.rows([bound.A[r, r] for r in range(bound.state_size)])
    shared: dict = {}
    tables = []
    for r in range(bound.state_size):
        table = [[None] * t for t in range(n + 1)]
        for t in range(1, n + 1):
            builder.at(layer, t)
            for j in range(t):
                if needs[r][j]:
                    factors = tuple(entries[k - 1][r] for k in range(j + 1, t + 1))
                    if factors not in shared:
                        shared[factors] = builder.prod(list(factors), name=f"L{layer}.decay[t={t},j={j},r={r}]",
                                                       role="decay")
                    table[t][j] = shared[factors]
        tables.append(table)
    return tables
