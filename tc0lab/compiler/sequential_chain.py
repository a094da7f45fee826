"""Nonlinear recurrence (RNN-SSM, Elman): a sequential chain, depth Theta(n).

h_t = f(A(x_t) h_{t-1} + u_t): the nonlinearity blocks any reassociation, so the circuit
is the unrolled loop: per step a 'mul' per non-zero A entry, an 'add', and a 'lookup' of f.
(The linear layers could also be compiled this way; the compiler never does, because the
cheaper constructions are sound for them.)
"""
from __future__ import annotations

from tc0lab.circuit.build import CircuitBuilder
from tc0lab.compiler.recurrence_terms import BoundRecurrence, output_rows, token_program


def compile_chain(builder: CircuitBuilder, bound: BoundRecurrence, z: list[list[str]], layer: int) -> list[list[str]]:
    """Outputs (n rows of d_out nodes) of h_t = f(A(x_t) h_{t-1} + B(x_t) x_t) (f may be None)."""
    S = bound.state_size
    squash = bound.rec.nonlinearity
    builder.at(layer, 1)
    h = None if bound.h0 is None else [builder.const(v.item(), name=f"L{layer}.h0[r={r}]", role="h0")
                                       for r, v in enumerate(bound.h0)]
    program = token_program(bound, layer)
    compilers = program.emit_all(builder, z)  # the per-token terms do not depend on h
    support = [[s for s in range(S) if bound.A[r, s] != 0] for r in range(S)]  # sympy read once
    A = [{s: compilers.column(bound.A[r, s]) for s in support[r]} for r in range(S)]  # A[r][s][t - 1]: the node
    us = compilers.rows(bound.u)
    h_rows = []
    for t, compiler in enumerate(compilers, start=1):
        u = us[t - 1]
        new_h = []
        builder.at(layer, t)
        for r in range(S):
            terms = [] if h is None else [builder.mul(A[r][s][t - 1], h[s], name=f"L{layer}.Ah[t={t},r={r},s={s}]", role="Ah")
                                          for s in support[r]]
            if u[r] is not None:
                terms.append(u[r])
            pre = builder.add(terms, name=f"L{layer}.pre[t={t},r={r}]", role="pre") if terms else compiler.const(0.0)
            builder.at(layer, t)
            new_h.append(builder.lookup(pre, ((squash, 1.0),), name=f"L{layer}.h[t={t},r={r}]", role="h") if squash else pre)
        h = new_h
        h_rows.append(h)
    return output_rows(builder, compilers, bound, h_rows, layer)
