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
from tc0lab.compiler.recurrence_terms import BoundRecurrence, output_rows, token_nodes, token_program


@dataclass
class Affine:
    """h -> matrix h + vector; matrix None means a constant map (the prefix already includes h_0)."""

    matrix: list[list[str | None]] | None
    vector: list[str | None]


def compose_many(builder: CircuitBuilder, jobs: list[tuple[Affine, Affine, str, int]]) -> list[Affine]:
    """`right after left` for every (left, right, label, t) job: (A_r A_l, A_r u_l + u_r).

    The jobs of one tree level are independent, so all their products go in one bulk add and
    their sums in one bulk add per fan-in. Structural zeros (None) get no gate; a dot product
    with no terms is a structural zero itself.
    """
    products: dict[str, list] = {"scan_v*": [], "scan_M*": []}  # role -> [(label, k, (a, b), t)]
    sums: list[tuple] = []  # (role, label, [(product role, position)], extra, t)

    def dot(pairs: list[tuple], extra, label: str, role: str, t: int) -> int | None:
        """The position in `sums` of sum_k pairs[k][0] * pairs[k][1] (+ extra), or None for a zero."""
        gates = products[role + "*"]
        refs = [(role + "*", len(gates) + k) for k in range(len(pairs))]
        gates += [(label, k, pair, t) for k, pair in enumerate(pairs)]
        if not refs and extra is None:
            return None
        sums.append((role, label, refs, extra, t))
        return len(sums) - 1

    shapes = []
    for left, right, label, t in jobs:
        size, R, L = len(right.vector), right.matrix, left.matrix
        columns = [[j for j in range(size) if R[i][j] is not None] for i in range(size)]  # non-zeros of A_r's rows
        vector = [dot([(R[i][j], left.vector[j]) for j in columns[i] if left.vector[j] is not None],
                      right.vector[i], f"{label}.v[{i}]", "scan_v", t) for i in range(size)]
        matrix = None
        if L is not None:
            matrix = [[None] * size for _ in range(size)]
            for i in range(size):
                for k in range(size):
                    pairs = [(R[i][j], L[j][k]) for j in columns[i] if L[j][k] is not None]
                    if pairs:
                        matrix[i][k] = dot(pairs, None, f"{label}.M[{i},{k}]", "scan_M", t)
        shapes.append((matrix, vector))
    made = {role: builder.add_gates("mul", lambda gates=gates: [f"{label}.m{k}" for label, k, _, _ in gates],
                                    [g[2] for g in gates], [g[3] for g in gates], role)
            for role, gates in products.items()}
    groups: dict[tuple[str, int], list] = {}  # (role, fan-in) -> [(position in sums, label, terms, t)]
    for position, (role, label, refs, extra, t) in enumerate(sums):
        terms = tuple(made[r][i] for r, i in refs) + (() if extra is None else (extra,))
        groups.setdefault((role, len(terms)), []).append((position, label, terms, t))
    handles: list = [None] * len(sums)
    for (role, _), gates in groups.items():
        added = builder.add_gates("add", lambda gates=gates: [g[1] for g in gates], [g[2] for g in gates],
                                  [g[3] for g in gates], role)
        for gate, handle in zip(gates, added):
            handles[gate[0]] = handle

    def resolve(position: int | None):
        return None if position is None else handles[position]

    return [Affine(None if matrix is None else [[resolve(p) for p in row] for row in matrix], [resolve(p) for p in vector])
            for matrix, vector in shapes]


def compose(builder: CircuitBuilder, left: Affine, right: Affine, label: str) -> Affine:
    """right after left: (A_r A_l, A_r u_l + u_r), skipping structural zeros."""
    return compose_many(builder, [(left, right, label, builder.t)])[0]


def compile_scan_tree(builder: CircuitBuilder, bound: BoundRecurrence, z: list[list[str]], layer: int) -> list[list[str]]:
    """Outputs (n rows of d_out nodes) of a linear recurrence with general A(x)."""
    n, S = len(z), bound.state_size
    compilers = token_nodes(builder, token_program(bound, layer), z)
    entries = compilers.rows([bound.A[i, j] for i in range(S) for j in range(S)])  # by column: sympy once
    elements = [Affine([flat[i * S:(i + 1) * S] for i in range(S)], u) for flat, u in zip(entries, compilers.rows(bound.u))]
    builder.at(layer, 1)
    h0 = None if bound.h0 is None else [builder.const(v.item(), name=f"L{layer}.h0[r={r}]", role="h0")
                                        for r, v in enumerate(bound.h0)]
    start = Affine(None, h0 if h0 is not None else [None] * S)
    elements[0] = compose(builder, start, elements[0], f"L{layer}.scan[lv=0,t=1]") if h0 is not None \
        else Affine(None, elements[0].vector)
    prefixes = list(elements)
    level = 0
    while (1 << level) < n:
        # 0-based positions with bit `level` set compose with the prefix ending before their block
        moving = [i for i in range(n) if i >> level & 1]
        composed = compose_many(builder, [(prefixes[((i >> level) << level) - 1], prefixes[i],
                                           f"L{layer}.scan[lv={level + 1},t={i + 1}]", i + 1) for i in moving])
        for i, affine in zip(moving, composed):
            prefixes[i] = affine
        level += 1
    h_rows = [[v if v is not None else compilers[t - 1].const(0.0) for v in prefixes[t - 1].vector]
              for t in range(1, n + 1)]
    return output_rows(builder, compilers, bound, h_rows, layer)
