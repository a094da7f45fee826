"""Claim: a fixed (LTI) recurrence equals its convolution with the kernel K_k = C A^k B."""
from __future__ import annotations

import sympy

STATEMENT = ("For fixed A, B, C (LTI), h_t = A h_{t-1} + B x_t, y_t = C h_t equals "
             "y_t = sum_{j<=t} C A^{t-j} B x_j, for every t <= n (symbolic, generic 2x2 A).")
CITATION = "Gu et al., S4 (ICLR 2022), Sec. 2.3; Illusion of State Thm 4.2 (the kernel is a constant)"
SKETCH = "Unroll: h_t = sum_j A^{t-j} B x_j by induction on t; apply C. Checked by sympy expand."


def check(n: int = 6, state: int = 2) -> dict:
    A = sympy.Matrix(state, state, lambda i, j: sympy.Symbol(f"a{i}{j}"))
    B = sympy.Matrix(state, 1, lambda i, _: sympy.Symbol(f"b{i}"))
    C = sympy.Matrix(1, state, lambda _, j: sympy.Symbol(f"c{j}"))
    x = sympy.symbols(f"x1:{n + 1}")
    h = sympy.zeros(state, 1)
    mismatches = []
    for t in range(1, n + 1):
        h = A * h + B * x[t - 1]
        recurrent = (C * h)[0]
        convolution = sum(((C * A ** (t - j) * B)[0] * x[j - 1] for j in range(1, t + 1)), sympy.Integer(0))
        if sympy.expand(recurrent - convolution) != 0:
            mismatches.append(t)
    return {"holds": not mismatches, "n": n, "state": state, "mismatched_t": mismatches}
