"""Claim: DeltaNet's beta = 2 transitions are reflections that generate S5."""
from __future__ import annotations

import sympy
from sympy.combinatorics import Permutation, PermutationGroup

STATEMENT = ("With beta = 2 and k = (e_i - e_{i+1})/sqrt(2), I - beta k k^T is exactly the transposition "
             "(i i+1); the four of them on 5 points generate S5 (order 120, not solvable).")
CITATION = "Grazzi et al. 2025 (negative eigenvalues); Yang et al. 2024 (DeltaNet); Barrington 1989"
SKETCH = "I - 2 u u^T with u = (e_i - e_j)/sqrt 2 swaps e_i and e_j and fixes their complement; adjacent transpositions generate S_n."


def check(points: int = 5) -> dict:
    generators, exact = [], True
    for i in range(points - 1):
        k = (sympy.eye(points)[:, i] - sympy.eye(points)[:, i + 1]) / sympy.sqrt(2)
        reflection = sympy.eye(points) - 2 * k * k.T
        transposition = sympy.eye(points).permute([(i, i + 1)], orientation="rows")
        exact &= sympy.simplify(reflection - transposition) == sympy.zeros(points)
        generators.append(Permutation(i, i + 1, size=points))
    group = PermutationGroup(generators)
    order, solvable = int(group.order()), bool(group.is_solvable)
    holds = exact and order == sympy.factorial(points) and not solvable
    return {"holds": holds, "reflections_exact": exact, "order": order, "solvable": solvable}
