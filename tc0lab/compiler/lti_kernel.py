"""Fixed transition (LTI: S4, S4D): a convolution with a kernel computed at compile time.

Illusion Thm 4.2: when A does not depend on the input, h_t = sum_j A^{t-j} u_j + A^t h_0,
and the powers A^k are constants the circuit generator computes (the uniformity argument).
With C constant too, y_t = sum_j (C A^{t-j}) u_j + C A^t h_0 + D x_t, and when B is constant
as well the kernel folds to K_k = C A^k B applied to the raw inputs. Either way every output
is one 'add' over 'mul' gates: depth constant in n, size Theta(n^2).
Structural zeros of the kernel (e.g. the off-diagonal of S4D) get no gate. "Structural" is
decided on the boolean sparsity pattern of A, B and C, never on float values, so a kernel
entry that merely underflows to 0.0 at a large lag still gets its gate.
"""
from __future__ import annotations

import numpy as np

from tc0lab.circuit.build import CircuitBuilder
from tc0lab.compiler.recurrence_terms import (BoundRecurrence, numeric, output_rows,
                                              token_nodes, token_program)


def _powers(A: np.ndarray, count: int) -> list[np.ndarray]:
    powers = [np.eye(A.shape[0], dtype=A.dtype)]
    for _ in range(count - 1):
        powers.append(A @ powers[-1])
    return powers


def _patterns(A: np.ndarray, count: int) -> list[np.ndarray]:
    """Boolean sparsity patterns of A^0 .. A^(count-1), from the pattern of A alone."""
    step = (A != 0).astype(np.int64)
    patterns = [np.eye(A.shape[0], dtype=bool)]
    for _ in range(count - 1):
        patterns.append((step @ patterns[-1].astype(np.int64)) > 0)
    return patterns


def _mask(left: np.ndarray, middle: np.ndarray, right: np.ndarray | None = None) -> np.ndarray:
    """Pattern of left @ middle (@ right) as booleans."""
    result = (left.astype(np.int64) @ middle.astype(np.int64)) > 0
    return result if right is None else (result.astype(np.int64) @ right.astype(np.int64)) > 0


def compile_fixed(builder: CircuitBuilder, bound: BoundRecurrence, z: list[list[str]], layer: int) -> list[list[str]]:
    """Outputs (n rows of d_out nodes) of a linear recurrence with constant A."""
    n = len(z)
    A = numeric(bound.A)
    powers, patterns = _powers(A, n + 1), _patterns(A, n + 1)
    if bound.constant(bound.C):
        C = numeric(bound.C)
        parts = "D" if _kernel_reads_inputs(bound, z) else "uD"
        compilers = token_nodes(builder, token_program(bound, layer, parts), z)
        CA = [C @ P for P in powers]
        CA_pattern = [_mask(C != 0, P) for P in patterns]
        return _folded_outputs(builder, bound, z, compilers, CA, CA_pattern, layer)
    compilers = token_nodes(builder, token_program(bound, layer, "uCD"), z)
    return _state_then_output(builder, bound, compilers, powers, patterns, layer)


def _kernel_reads_inputs(bound: BoundRecurrence, z: list[list[str]]) -> bool:
    """With B constant, fold it into the kernel when the input is no wider than the state."""
    return bound.constant_B and len(z[0]) <= bound.state_size


def _lagged_products(builder: CircuitBuilder, layer: int, kernels: list[np.ndarray], masks: list[np.ndarray],
                     sources: list[list[str | None]], const_name: str, product_name: str,
                     product_role: str) -> list[list[list]]:
    """terms[t][o]: the gates kernels[t-j][o, i] * sources[j][i] for j <= t where masks[t-j][o, i].

    One constant per (lag k, o, i) that some term uses, and all the products in one bulk add
    (Theta(n^2) of them, named only if the graph is built).
    `const_name` and `product_name` are format strings over (k, o, i) and (t, j, o, i).
    """
    n, rows = len(sources), kernels[0].shape[0]
    # input i first appears at position first[i]; lag k reaches it when first[i] + k <= n
    first = [next((j for j in range(1, n + 1) if sources[j - 1][i] is not None), n + 1) for i in range(len(sources[0]))]
    used = [[[i for i in range(len(first)) if masks[k][o, i] and first[i] + k <= n] for o in range(rows)] for k in range(n)]
    constants = [[{i: builder.at(layer, None).const(kernels[k][o, i].item(), name=const_name.format(k, o, i), role="kernel")
                   for i in used[k][o]} for o in range(rows)] for k in range(n)]
    labels, args, ts, spans = [], [], [], []  # spans: (t, o, first, last) positions in this block
    for t in range(1, n + 1):
        for o in range(rows):
            cells = [(j, i, constants[t - j][o][i], sources[j - 1][i]) for j in range(1, t + 1)
                     for i in used[t - j][o] if sources[j - 1][i] is not None]
            spans.append((t, o, len(args), len(args) + len(cells)))
            labels += [(t, j, o, i) for j, i, _, _ in cells]
            args += [(constant, source) for _, _, constant, source in cells]
            ts += [t] * len(cells)
    handles = builder.at(layer, None).add_gates("mul", lambda: [product_name.format(*label) for label in labels],
                                                args, ts, product_role)
    terms = [[[] for _ in range(rows)] for _ in range(n + 1)]
    for t, o, first, last in spans:
        terms[t][o] = list(handles[first:last])
    return terms


def _folded_outputs(builder, bound, z, compilers, CA, CA_pattern, layer):
    use_inputs = _kernel_reads_inputs(bound, z)
    sources = z if use_inputs else compilers.rows(bound.u)
    if use_inputs:
        B = numeric(bound.B_matrix)
        kernels = [M @ B for M in CA]
        masks = [_mask(M, B != 0) for M in CA_pattern]
    else:
        kernels, masks = CA, CA_pattern
    terms = _lagged_products(builder, layer, kernels, masks, sources, f"L{layer}.K[k={{}},o={{}},i={{}}]",
                             f"L{layer}.Kx[t={{}},j={{}},o={{}},i={{}}]", "Kx")
    outputs = []
    dxs = compilers.rows(bound.Dx)
    for t in range(1, len(z) + 1):
        builder.at(layer, t)
        dx = dxs[t - 1]
        row = []
        for o in range(kernels[0].shape[0]):
            summands = terms[t][o]
            if bound.h0 is not None and _mask(CA_pattern[t], bound.h0[:, None] != 0)[o, 0]:
                summands.append(builder.const((CA[t] @ bound.h0)[o].item(), name=f"L{layer}.CAh0[t={t},o={o}]", role="kernel"))
            if dx[o] is not None:
                summands.append(dx[o])
            builder.at(layer, t)
            row.append(builder.add(summands, name=f"L{layer}.y[t={t},o={o}]", role="y") if summands
                       else compilers[t - 1].const(0.0))
        outputs.append(row)
    return outputs


def _state_then_output(builder, bound, compilers, powers, patterns, layer):
    """C depends on the input: materialise h_t = sum_j A^{t-j} u_j, then y_t = C(x_t) h_t + D x_t."""
    S = bound.state_size
    us = compilers.rows(bound.u)
    terms = _lagged_products(builder, layer, powers, patterns, us, f"L{layer}.Apow[k={{}},s={{}},r={{}}]",
                             f"L{layer}.Au[t={{}},j={{}},s={{}},r={{}}]", "Au")
    h_rows = []
    for t in range(1, len(compilers) + 1):
        builder.at(layer, t)
        h_row = []
        for s in range(S):
            summands = terms[t][s]
            if bound.h0 is not None and _mask(patterns[t], bound.h0[:, None] != 0)[s, 0]:
                summands.append(builder.const((powers[t] @ bound.h0)[s].item(), name=f"L{layer}.Ah0[t={t},s={s}]", role="kernel"))
            builder.at(layer, t)
            h_row.append(builder.add(summands, name=f"L{layer}.h[t={t},s={s}]", role="h") if summands
                         else compilers[t - 1].const(0.0))
        h_rows.append(h_row)
    return output_rows(builder, compilers, bound, h_rows, layer)
