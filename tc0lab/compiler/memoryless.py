"""Nonlinear update with A = 0: h_t = f(B(x_t) x_t) is a position-wise map, constant depth.

When every entry of A is structurally zero, h_{t-1} is never read, so the nonlinearity does
not chain positions together: h_t[r] = f(u_t[r]) is one 'lookup' per state coordinate and
position (f(0) as a constant where u_t[r] is structurally 0), and y_t = C(x_t) h_t + D x_t.
Threshold depth is the per-token depth plus a lookup, constant in n; size Theta(S n).
(A linear layer with A = 0 is the LTI kernel with only the lag-0 term, also flat.)
"""
from __future__ import annotations

from tc0lab.circuit.build import CircuitBuilder, gate_extra
from tc0lab.compiler.recurrence_terms import BoundRecurrence, output_rows, token_nodes, token_program
from tc0lab.spec.functions import NUMPY


def compile_memoryless(builder: CircuitBuilder, bound: BoundRecurrence, z: list[list[str]], layer: int) -> list[list[str]]:
    """Outputs (n rows of d_out nodes) of h_t = f(B(x_t) x_t), y_t = C(x_t) h_t + D x_t."""
    squash = bound.rec.nonlinearity
    if squash is None or any(entry != 0 for entry in bound.A):
        raise ValueError("the memoryless construction needs a nonlinear update whose A is structurally zero")
    n = len(z)
    ts = list(range(1, n + 1))
    compilers = token_nodes(builder, token_program(bound, layer, "uCD"), z)
    us = compilers.rows(bound.u)
    columns = []
    for r in range(bound.state_size):
        if us[0][r] is None:
            columns.append([compilers.const(float(NUMPY[squash](0.0)))] * n)
            continue
        columns.append(builder.at(layer, None).add_gates(
            "lookup", lambda r=r: [f"L{layer}.h[t={t},r={r}]" for t in ts], [(row[r],) for row in us], ts, "h",
            gate_extra("lookup", stages=((squash, 1.0),))))
    return output_rows(builder, compilers, bound, [list(row) for row in zip(*columns)], layer)
