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

from tc0lab.circuit.build import CircuitBuilder
from tc0lab.compiler.recurrence_terms import BoundRecurrence, compile_vector, output_row, token_nodes, token_program


@dataclass
class Affine:
    """h -> matrix h + vector; matrix None means a constant map (the prefix already includes h_0)."""

    matrix: list[list[str | None]] | None
    vector: list[str | None]


def _dot(builder: CircuitBuilder, pairs: list[tuple[str, str]], extra: str | None, name: str, role: str) -> str | None:
    terms = [builder.mul(a, b, name=f"{name}.m{k}", role=role + "*") for k, (a, b) in enumerate(pairs)]
    if extra is not None:
        terms.append(extra)
    return builder.add(terms, name=name, role=role) if terms else None


def compose(builder: CircuitBuilder, left: Affine, right: Affine, label: str) -> Affine:
    """right after left: (A_r A_l, A_r u_l + u_r), skipping structural zeros."""
    size = len(right.vector)
    vector = []
    for i in range(size):
        pairs = [(right.matrix[i][j], left.vector[j]) for j in range(size)
                 if right.matrix[i][j] is not None and left.vector[j] is not None]
        vector.append(_dot(builder, pairs, right.vector[i], f"{label}.v[{i}]", "scan_v"))
    if left.matrix is None:
        return Affine(None, vector)
    matrix = []
    for i in range(size):
        row = []
        for k in range(size):
            pairs = [(right.matrix[i][j], left.matrix[j][k]) for j in range(size)
                     if right.matrix[i][j] is not None and left.matrix[j][k] is not None]
            row.append(_dot(builder, pairs, None, f"{label}.M[{i},{k}]", "scan_M"))
        matrix.append(row)
    return Affine(matrix, vector)


def compile_scan_tree(builder: CircuitBuilder, bound: BoundRecurrence, z: list[list[str]], layer: int) -> list[list[str]]:
    """Outputs (n rows of d_out nodes) of a linear recurrence with general A(x)."""
    n, S = len(z), bound.state_size
    compilers = token_nodes(builder, token_program(bound, layer), z)
    elements = []
    for t, compiler in enumerate(compilers, start=1):
        builder.at(layer, t)
        matrix = [compile_vector(compiler, [bound.A[i, j] for j in range(S)]) for i in range(S)]
        elements.append(Affine(matrix, compile_vector(compiler, bound.u)))
    builder.at(layer, 1)
    h0 = None if bound.h0 is None else [builder.const(v.item(), name=f"L{layer}.h0[r={r}]", role="h0")
                                        for r, v in enumerate(bound.h0)]
    start = Affine(None, h0 if h0 is not None else [None] * S)
    elements[0] = compose(builder, start, elements[0], f"L{layer}.scan[lv=0,t=1]") if h0 is not None \
        else Affine(None, elements[0].vector)
    prefixes = list(elements)
    level = 0
    while (1 << level) < n:
        for i in range(n):  # 0-based positions; bit `level` set -> compose with the left block's prefix
            if i >> level & 1:
                left_end = ((i >> level) << level) - 1
                builder.at(layer, i + 1)
                prefixes[i] = compose(builder, prefixes[left_end], prefixes[i], f"L{layer}.scan[lv={level + 1},t={i + 1}]")
        level += 1
    outputs = []
    for t in range(1, n + 1):
        h_row = [v if v is not None else compilers[t - 1].const(0.0) for v in prefixes[t - 1].vector]
        outputs.append(output_row(builder, compilers[t - 1], bound, h_row, layer, t))
    return outputs
