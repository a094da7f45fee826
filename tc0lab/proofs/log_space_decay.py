"""Claim: a product of Mamba decays is one exponential of a sum (the log-space form)."""
from __future__ import annotations

import sympy

STATEMENT = "prod_{k=1}^{n} exp(Delta_k A) = exp(A sum_k Delta_k) for real Delta_k and A (symbolic, n <= 6)."
CITATION = "Gu & Dao, Mamba (2023), Sec. 3.3 (selective scan); the log-space form exp(A sum Delta_k) is the compiler's lookup(add) construction"
SKETCH = "exp(u) exp(v) = exp(u + v) for commuting scalars; sympy powsimp combines the product."


def check(n: int = 6) -> dict:
    A = sympy.Symbol("A", real=True)
    deltas = sympy.symbols(f"Delta1:{n + 1}", real=True)
    failures = []
    for length in range(1, n + 1):
        product = sympy.Mul(*(sympy.exp(d * A) for d in deltas[:length]))
        single = sympy.exp(A * sum(deltas[:length]))
        if sympy.simplify(sympy.powsimp(product) - single) != 0:
            failures.append(length)
    return {"holds": not failures, "n": n, "failed_lengths": failures}
