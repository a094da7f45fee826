"""Non-commuting input-dependent transition (IDS4, DeltaNet): a balanced tree of matrix products.

No 'prod' gate is sound for products of non-commuting matrices, so the best sound
construction is the parallel-prefix (scan) tree over the affine maps h -> A_t h + u_t:
composing (A_l, u_l) then (A_r, u_r) gives (A_r A_l, A_r u_l + u_r). We use Sklansky's
prefix tree: at level l, every position whose bit l is set composes with the prefix that
ends just before its block. Position t passes through popcount(t - 1) compositions, so the
depth is Theta(log n) (floor(log2 n) levels) and the size Theta(n log n) matrix products.
The first element includes h_0, so its prefixes are vectors and cost only matrix-vector work.
Structural zeros (sympy zeros of A(x), e.g. DeltaNet's block-diagonal layout) get no gate.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tc0lab.circuit.build import CircuitBuilder
from tc0lab.compiler.recurrence_terms import BoundRecurrence, output_rows, token_nodes, token_program

ZERO = -1  # a structural zero in the index arrays below


@dataclass
class Affine:
    """h -> matrix h + vector, as gate indices (ZERO: structurally zero); matrix None means a
    constant map (the prefix already includes h_0)."""

    matrix: np.ndarray | None  # (S, S)
    vector: np.ndarray  # (S,)


def _sums_of_products(builder: CircuitBuilder, a: np.ndarray, b: np.ndarray, extra: np.ndarray, ts: np.ndarray,
                      cell_names, role: str) -> np.ndarray:
    """For every cell c: sum_j a[c, j] * b[c, j] (+ extra[c]), skipping ZERO factors and terms.

    One bulk 'mul' for every product and one bulk 'add' per (fan-in, with extra); a cell with
    no term stays ZERO. Gate names (made only if the graph is built) are cell_names()[c] for
    the sum and cell_names()[c] + '.m<k>' for its k-th product. Returns (C,) gate indices.
    """
    present = (a != ZERO) & (b != ZERO)
    cells, js = np.nonzero(present)  # grouped by cell, j ascending
    counts = np.count_nonzero(present, axis=1)
    offsets = np.cumsum(counts) - counts

    def product_names() -> list[str]:
        names = cell_names()
        return [f"{names[c]}.m{k}" for c, k in zip(cells.tolist(), (np.arange(len(cells)) - offsets[cells]).tolist())]

    products = builder.add_gates("mul", product_names, np.stack([a[cells, js], b[cells, js]], axis=1),
                                 ts[cells], role + "*")
    product_index = np.arange(products.start, products.stop)
    has_extra = extra != ZERO
    result = np.full(len(a), ZERO, dtype=np.int64)
    for count in np.unique(counts):
        for with_extra in (False, True):
            group = np.nonzero((counts == count) & (has_extra == with_extra))[0]
            if not len(group) or (count == 0 and not with_extra):
                continue
            terms = product_index[offsets[group][:, None] + np.arange(count)]
            if with_extra:
                terms = np.concatenate([terms, extra[group][:, None]], axis=1)
            added = builder.add_gates("add", lambda group=group: [cell_names()[c] for c in group.tolist()], terms,
                                      ts[group], role)
            result[group] = np.arange(added.start, added.stop)
    return result


def compose_level(builder: CircuitBuilder, lefts: list[Affine], rights: list[Affine], labels: list[str],
                  ts: list[int]) -> list[Affine]:
    """`right after left` for every job: (A_r A_l, A_r u_l + u_r), all jobs at once.

    The jobs of one tree level are independent, so their products and sums are added in bulk.
    """
    jobs, size = len(rights), len(rights[0].vector)
    R = np.stack([r.matrix for r in rights])  # (J, S, S)
    positions = np.asarray(ts)
    memo: dict = {}

    def names(kind: str):
        def make() -> list[str]:
            if kind not in memo:
                if kind == "v":
                    memo[kind] = [f"{label}.v[{i}]" for label in labels for i in range(size)]
                else:
                    memo[kind] = [f"{labels[j]}.M[{i},{k}]" for j in with_matrix for i in range(size) for k in range(size)]
            return memo[kind]
        return make

    # vector: v[i] = sum_j R[i, j] u_l[j] + u_r[i]
    left_vectors = np.stack([left.vector for left in lefts])
    vectors = _sums_of_products(builder, R.reshape(jobs * size, size), np.repeat(left_vectors, size, axis=0),
                                np.stack([r.vector for r in rights]).reshape(-1), np.repeat(positions, size),
                                names("v"), "scan_v").reshape(jobs, size)
    # matrix: M[i, k] = sum_j R[i, j] L[j, k], for the jobs whose left map has a matrix
    with_matrix = [j for j, left in enumerate(lefts) if left.matrix is not None]
    matrices = {}
    if with_matrix:
        L = np.stack([lefts[j].matrix for j in with_matrix])  # (W, S, S)
        a = np.repeat(R[with_matrix][:, :, None, :], size, axis=2)  # (W, S_i, S_k, S_j): R[i, j]
        b = np.repeat(np.swapaxes(L, 1, 2)[:, None, :, :], size, axis=1)  # (W, S_i, S_k, S_j): L[j, k]
        products = _sums_of_products(builder, a.reshape(-1, size), b.reshape(-1, size), np.full(a.shape[0] * size * size, ZERO),
                                     np.repeat(positions[with_matrix], size * size), names("M"), "scan_M")
        matrices = dict(zip(with_matrix, products.reshape(len(with_matrix), size, size)))
    return [Affine(matrices.get(j), vectors[j]) for j in range(jobs)]


def compile_scan_tree(builder: CircuitBuilder, bound: BoundRecurrence, z: list[list[str]], layer: int) -> list[list[str]]:
    """Outputs (n rows of d_out nodes) of a linear recurrence with general A(x)."""
    n, S = len(z), bound.state_size
    compilers = token_nodes(builder, token_program(bound, layer), z)
    entries = builder.indices(compilers.rows([bound.A[i, j] for i in range(S) for j in range(S)]), ZERO)  # (n, S*S)
    us = builder.indices(compilers.rows(bound.u), ZERO)  # (n, S)
    elements = [Affine(entries[t].reshape(S, S), us[t]) for t in range(n)]
    builder.at(layer, 1)
    if bound.h0 is not None:
        h0 = builder.indices([[builder.const(v.item(), name=f"L{layer}.h0[r={r}]", role="h0") for r, v in enumerate(bound.h0)]], ZERO)[0]
        elements[0] = compose_level(builder, [Affine(None, h0)], [elements[0]], [f"L{layer}.scan[lv=0,t=1]"], [1])[0]
    else:
        elements[0] = Affine(None, elements[0].vector)
    prefixes = list(elements)
    level = 0
    while (1 << level) < n:
        # 0-based positions with bit `level` set compose with the prefix ending before their block
        moving = [i for i in range(n) if i >> level & 1]
        composed = compose_level(builder, [prefixes[((i >> level) << level) - 1] for i in moving], [prefixes[i] for i in moving],
                                 [f"L{layer}.scan[lv={level + 1},t={i + 1}]" for i in moving], [i + 1 for i in moving])
        for i, affine in zip(moving, composed):
            prefixes[i] = affine
        level += 1
    h_rows = [[v if v != ZERO else compilers[t - 1].const(0.0) for v in prefixes[t - 1].vector.tolist()]
              for t in range(1, n + 1)]
    return output_rows(builder, compilers, bound, h_rows, layer)
