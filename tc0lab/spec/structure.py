"""Structure analysis of a recurrence's transition A(x): the facts every rule keys on.

Used by the compiler (to pick the cheapest sound construction) and by the checker (to pick
the verdict). Everything is decided from the sympy matrices:

    fixed       A has no input symbol                 -> LTI kernel   (Illusion Thm 4.2)
    diagonal    every off-diagonal entry is 0         -> scalar prods (Thm 4.4)
    commuting   [A(x), A(x')] = 0 for two independent copies of the input symbols (Thm 4.6)
    general     none of the above (non-commuting)     -> scan tree, witness search

The commutator test first evaluates at random points (a non-zero value disproves
commutation for certain), then tries to prove the zero symbolically with simplify.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from tc0lab.spec.functions import lambdify_modules
from tc0lab.spec.recurrence import Recurrence


@dataclass(frozen=True)
class Structure:
    kind: str  # 'fixed' | 'diagonal' | 'commuting' | 'general'
    nonlinear: bool  # the update is wrapped in a nonlinearity
    commutator_proof: str  # how 'commuting' was established, or why not
    reason: str


def depends_on_input(matrix: sympy.Matrix, inputs) -> bool:
    """True when some entry of the matrix mentions an input symbol."""
    return bool(matrix.free_symbols & set(inputs))


def _numeric_samples(matrix: sympy.Matrix, inputs, trials: int = 3, seed: int = 0) -> tuple[list, list]:
    """Evaluate the matrix at random inputs x and x' sharing the same random parameters."""
    parameters = sorted(matrix.free_symbols - set(inputs), key=str)
    inputs = list(inputs)
    function = sympy.lambdify(inputs + parameters, matrix, modules=lambdify_modules())
    rng = np.random.default_rng(seed)
    first, second = [], []
    for _ in range(trials):
        theta = list(rng.normal(0, 1, size=len(parameters)))
        first.append(np.asarray(function(*rng.normal(0, 1, size=len(inputs)), *theta), dtype=complex))
        second.append(np.asarray(function(*rng.normal(0, 1, size=len(inputs)), *theta), dtype=complex))
    return first, second


def is_diagonal(matrix: sympy.Matrix, inputs=()) -> bool:
    """True when every off-diagonal entry is identically zero (numeric screen, then simplify)."""
    rows, cols = matrix.shape
    off_diagonal = [(i, j) for i in range(rows) for j in range(cols) if i != j and matrix[i, j] != 0]
    if not off_diagonal:
        return True
    samples, _ = _numeric_samples(matrix, inputs, trials=2)
    if any(abs(sample[i, j]) > 1e-12 for sample in samples for i, j in off_diagonal):
        return False
    return all(sympy.simplify(matrix[i, j]) == 0 for i, j in off_diagonal)


def _primed(inputs) -> dict:
    return {s: sympy.Symbol(f"{s.name}'", real=True) for s in inputs}


def commutator(rec: Recurrence) -> sympy.Matrix:
    """[A(x), A(x')] with x' an independent copy of the input symbols."""
    A = rec.A
    A_primed = A.xreplace(_primed(rec.inputs))
    return A * A_primed - A_primed * A


def commutator_numerically_zero(rec: Recurrence, trials: int = 3, seed: int = 0, tol: float = 1e-9) -> bool:
    """[A(x), A(x')] at random inputs and parameters; False is a certain 'no'."""
    first, second = _numeric_samples(rec.A, rec.inputs, trials, seed)
    for a, b in zip(first, second):
        difference = a @ b - b @ a
        if np.max(np.abs(difference)) > tol * max(1.0, np.max(np.abs(a)) * np.max(np.abs(b))):
            return False
    return True


def commutator_symbolically_zero(rec: Recurrence) -> bool:
    """Try to prove [A(x), A(x')] = 0 with simplify (and trigsimp for rotations)."""
    for entry in commutator(rec):
        if entry == 0:
            continue
        simplified = sympy.simplify(sympy.expand(entry))
        if simplified != 0 and sympy.trigsimp(simplified) != 0:
            return False
    return True


def analyze(rec: Recurrence) -> Structure:
    """Classify A(x) as fixed, diagonal, commuting or general, with the evidence."""
    nonlinear = rec.nonlinearity is not None
    if not depends_on_input(rec.A, rec.inputs):
        return Structure("fixed", nonlinear, "constant matrices commute with themselves",
                         "A does not depend on the input")
    if is_diagonal(rec.A, rec.inputs):
        return Structure("diagonal", nonlinear, "diagonal matrices commute",
                         "A(x) is diagonal for every input")
    if not commutator_numerically_zero(rec):
        return Structure("general", nonlinear, "the commutator is non-zero at a random point",
                         "A(x) and A(x') do not commute")
    if commutator_symbolically_zero(rec):
        return Structure("commuting", nonlinear, "sympy simplifies [A(x), A(x')] to 0",
                         "A(x) and A(x') commute for all inputs")
    return Structure("general", nonlinear,
                     "the commutator vanishes at random points but sympy could not prove it zero",
                     "commutation unproven")


def positive_entries(matrix: sympy.Matrix) -> bool:
    """True when sympy can prove every diagonal entry positive (log-space products are sound)."""
    return all(matrix[i, i].is_positive is True for i in range(matrix.shape[0]))
