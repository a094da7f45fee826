"""Nonlinear recurrence (RNN-SSM, Elman): a sequential chain, depth Theta(n).

h_t = f(A(x_t) h_{t-1} + u_t): the nonlinearity blocks any reassociation, so the circuit
is the unrolled loop: per step a 'mul' per non-zero A entry, an 'add', and a 'lookup' of f.
(The linear layers could also be compiled this way; the compiler never does, because the
cheaper constructions are sound for them.)
"""
from __future__ import annotations

from tc0lab.circuit.build import CircuitBuilder
from tc0lab.compiler.recurrence_terms import BoundRecurrence, compile_vector, output_row, token_program


def compile_chain(builder: CircuitBuilder, bound: BoundRecurrence, z: list[list[str]], layer: int) -> list[list[str]]:
    """Outputs (n rows of d_out nodes) of h_t = f(A(x_t) h_{t-1} + B(x_t) x_t) (f may be None)."""
    S = bound.state_size
    squash = bound.rec.nonlinearity
    builder.at(layer, 1)
    h = None if bound.h0 is None else [builder.const(v.item(), name=f"L{layer}.h0[r={r}]", role="h0")
                                       for r, v in enumerate(bound.h0)]
    outputs = []
    program = token_program(bound, layer)
    for t, z_row in enumerate(z, start=1):
        compiler = program.emit(builder, t, z_row)
        u = compile_vector(compiler, bound.u)
        new_h = []
        for r in range(S):
            builder.at(layer, t)
            terms = []
            if h is not None:
                for s in range(S):
                    if bound.A[r, s] != 0:
                        terms.append(builder.mul(compiler.compile(bound.A[r, s]), h[s], name=f"L{layer}.Ah[t={t},r={r},s={s}]", role="Ah"))
            if u[r] is not None:
                terms.append(u[r])
            pre = builder.add(terms, name=f"L{layer}.pre[t={t},r={r}]", role="pre") if terms else compiler.const(0.0)
            new_h.append(builder.lookup(pre, ((squash, 1.0),), name=f"L{layer}.h[t={t},r={r}]", role="h") if squash else pre)
        h = new_h
        outputs.append(output_row(builder, compiler, bound, h, layer, t))
    return outputs
