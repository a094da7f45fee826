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

from tc0lab.circuit.build import CircuitBuilder
from tc0lab.compiler.recurrence_terms import BoundRecurrence, compile_vector, output_row, token_nodes, token_program
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
    """Outputs (n rows of d_out nodes) of a linear recurrence with diagonal A(x)."""
    n, S = len(z), bound.state_size
    logs = log_coefficients(bound)
    bases = tuple(base for _, base in logs) if logs else ()
    compilers = token_nodes(builder, token_program(bound, layer, "uCD" if logs else "AuCD", bases), z)
    us = [compile_vector(c, bound.u) for c in compilers]
    decay = _log_space_decays(builder, compilers, logs, layer) if logs else _product_decays(builder, bound, compilers, layer)
    outputs = []
    for t in range(1, n + 1):
        builder.at(layer, t)
        h_row = []
        for r in range(S):
            terms = []
            for j in range(1, t + 1):
                if us[j - 1][r] is None:
                    continue
                if j == t:  # the empty product: u_t enters as it is
                    terms.append(us[t - 1][r])
                else:
                    terms.append(builder.mul(decay(r, t, j), us[j - 1][r], name=f"L{layer}.au[t={t},j={j},r={r}]", role="au"))
            if bound.h0 is not None and bound.h0[r] != 0:
                h0 = builder.const(bound.h0[r].item(), name=f"L{layer}.h0[r={r}]", role="h0")
                builder.at(layer, t)
                terms.append(builder.mul(decay(r, t, 0), h0, name=f"L{layer}.ah0[t={t},r={r}]", role="au"))
            h_row.append(builder.add(terms, name=f"L{layer}.h[t={t},r={r}]", role="h") if terms
                         else compilers[t - 1].const(0.0))
        outputs.append(output_row(builder, compilers[t - 1], bound, h_row, layer, t))
    return outputs


def _log_space_decays(builder, compilers, logs, layer):
    """decay(r, t, j) = exp(c_r * (P_t - P_j)) with shared prefix sums P of each distinct base."""
    bases: dict = {}  # base expression -> index
    for _, base in logs:
        bases.setdefault(base, len(bases))
    base_nodes = {b: [c.compile(base) for c in compilers] for base, b in bases.items()}
    prefix: dict = {}
    differences: dict = {}
    decays: dict = {}

    def prefix_sum(b: int, t: int) -> str:
        if (b, t) not in prefix:
            builder.at(layer, t)
            prefix[b, t] = builder.add(base_nodes[b][:t], name=f"L{layer}.P[t={t},b={b}]", role="prefix")
        return prefix[b, t]

    def difference(b: int, t: int, j: int) -> str:
        if (b, t, j) not in differences:
            builder.at(layer, t)
            if j == 0:
                differences[b, t, j] = prefix_sum(b, t)
            else:
                differences[b, t, j] = builder.add([prefix_sum(b, t), prefix_sum(b, j)], (1, -1),
                                                   name=f"L{layer}.dP[t={t},j={j},b={b}]", role="dprefix")
        return differences[b, t, j]

    state_keys = [(bases[base], coefficient) for coefficient, base in logs]

    def decay(r: int, t: int, j: int) -> str:
        b, coefficient = state_keys[r]
        key = (b, coefficient, t, j)
        node = decays.get(key)
        if node is None:
            diff = difference(b, t, j)
            builder.at(layer, t)
            node = decays[key] = builder.lookup(diff, (("exp", coefficient),),
                                                name=f"L{layer}.decay[t={t},j={j},b={b},c={coefficient:.6g}]", role="decay")
        return node

    return decay


def _product_decays(builder, bound, compilers, layer):
    """decay(r, t, j) = prod_{k=j+1}^t a_k[r] as one 'prod' gate (shared between equal entries)."""
    entries = [[c.compile(bound.A[r, r]) for r in range(bound.state_size)] for c in compilers]
    decays: dict = {}

    def decay(r: int, t: int, j: int) -> str:
        factors = tuple(entries[k - 1][r] for k in range(j + 1, t + 1))
        if factors not in decays:
            builder.at(layer, t)
            decays[factors] = builder.prod(list(factors), name=f"L{layer}.decay[t={t},j={j},r={r}]", role="decay")
        return decays[factors]

    return decay
