"""Structure analysis of a recurrence's transition A(x): the facts every rule keys on.

Used by the compiler (to pick the cheapest sound construction) and by the checker (to pick
the verdict). Everything is decided from the sympy matrices:

    fixed       A has no input symbol                 -> LTI kernel   (Illusion Thm 4.2)
    diagonal    every off-diagonal entry is 0         -> scalar prods (Thm 4.4)
    triangular  the coordinates can be ordered so that each reads only itself and earlier
                ones (A is triangular after a permutation; shears, unipotent families)
                                                      -> back-substitution, one scalar
                                                         recurrence per coordinate
    commuting   [A(x), A(x')] = 0 for two independent copies of the input symbols (Thm 4.6
                when the family is diagonalisable)
    general     none of the above (non-commuting)     -> scan tree, witness search

The tests evaluate A(x) numerically first (`tc0lab.spec.numeric`, only the structurally
non-zero entries): a non-zero off-diagonal entry or commutator at a random point disproves
for certain; only then does sympy try to prove the zero symbolically with simplify.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from tc0lab.spec.numeric import point, random_values, transition_function
from tc0lab.spec.recurrence import Recurrence


@dataclass(frozen=True)
class Structure:
    kind: str  # 'fixed' | 'diagonal' | 'triangular' | 'commuting' | 'general'
    nonlinear: bool  # the update is wrapped in a nonlinearity
    commutator_proof: str  # how 'commuting' was established, or why not
    reason: str
    up_to_rounding: bool = False  # 'commuting' only up to the rounding of float constants


def depends_on_input(matrix: sympy.Matrix, inputs) -> bool:
    """True when some entry of the matrix mentions an input symbol."""
    return bool(matrix.free_symbols & set(inputs))


def triangular_order(A: sympy.Matrix) -> tuple[int, ...] | None:
    """An order of the state coordinates in which each reads only itself and earlier ones.

    Coordinate i reads coordinate j when A[i, j] is structurally non-zero. The order exists
    exactly when the read graph has no cycle other than self-loops (A is triangular after a
    permutation); then order[0] reads only itself, order[1] reads order[0] and itself, and so
    on. None when two coordinates read each other (directly or through others).
    """
    size = A.shape[0]
    reads = [{j for j in range(size) if j != i and A[i, j] != 0} for i in range(size)]
    order: list[int] = []
    placed: set[int] = set()
    while len(order) < size:
        ready = [i for i in range(size) if i not in placed and reads[i] <= placed]
        if not ready:
            return None
        order.extend(ready)
        placed.update(ready)
    return tuple(order)


def _samples(rec: Recurrence, count: int, seed: int) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    return [point(rec, rng.normal(0.0, 1.0, size=rec.d_in), random_values(rec, rng)) for _ in range(count)]


def is_diagonal(rec: Recurrence, seed: int = 0) -> bool:
    """True when every off-diagonal entry of A(x) is identically zero (numeric screen, then simplify)."""
    rows, cols = rec.A.shape
    off_diagonal = [rec.A[i, j] for i in range(rows) for j in range(cols) if i != j and rec.A[i, j] != 0]
    if not off_diagonal:
        return True
    A = transition_function(rec)
    for values in _samples(rec, 3, seed):
        matrix = A(values)
        if np.any(np.abs(matrix - np.diag(np.diag(matrix))) > 1e-12):
            return False
    return all(sympy.simplify(entry) == 0 for entry in off_diagonal)


def _primed(inputs) -> dict:
    return {s: sympy.Symbol(f"{s.name}'", real=True) for s in inputs}


def commutator(rec: Recurrence) -> sympy.Matrix:
    """[A(x), A(x')] with x' an independent copy of the input symbols."""
    A = rec.A
    A_primed = A.xreplace(_primed(rec.inputs))
    return A * A_primed - A_primed * A


def numeric_commutator(rec: Recurrence, trials: int = 3, seed: int = 0) -> float:
    """The largest |[A(x), A(x')]| entry over random inputs and parameters, relative to |A|^2."""
    A = transition_function(rec)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(trials):
        values = random_values(rec, rng)
        left = A(point(rec, rng.normal(0.0, 1.0, size=rec.d_in), values))
        right = A(point(rec, rng.normal(0.0, 1.0, size=rec.d_in), values))
        scale = max(1.0, float(np.max(np.abs(left))) * float(np.max(np.abs(right))))
        worst = max(worst, float(np.max(np.abs(left @ right - right @ left))) / scale)
    return worst


def commutator_symbolically_zero(rec: Recurrence) -> bool:
    """Try to prove [A(x), A(x')] = 0 with simplify (and trigsimp for rotations)."""
    for entry in commutator(rec):
        if entry == 0:
            continue
        simplified = sympy.simplify(sympy.expand(entry))
        if simplified != 0 and sympy.trigsimp(simplified) != 0:
            return False
    return True


ROUNDING = 1e-15  # relative size of a float constant's rounding that is still read as zero (a few eps)


def _coefficients(expr: sympy.Expr) -> list[float]:
    """The numeric coefficients of an expression expanded into a sum of monomials."""
    return [abs(complex(c)) for c in sympy.expand(expr).as_coefficients_dict().values()]


def commuting_up_to_rounding(rec: Recurrence, max_size: int = 8) -> tuple[bool, str]:
    """Whether [A(x), A(x')] expands to a sum whose every coefficient is rounding-sized.

    A family written with float constants (W diag(a(x)) W^-1 with a float W) commutes only up to
    the rounding of those constants, so sympy cannot simplify the commutator to 0. Expanded into
    monomials in the input functions and parameters, each coefficient is an exact number; when
    every one is below ROUNDING times the square of A's largest coefficient, the family is the
    commuting one its constants round, and the evidence says so.
    """
    if rec.state_size > max_size:
        return False, f"not tried: the state size {rec.state_size} is above {max_size}"
    scale = max((c for entry in rec.A if entry != 0 for c in _coefficients(entry)), default=1.0) ** 2
    largest = max((c for entry in commutator(rec) if entry != 0 for c in _coefficients(entry)), default=0.0)
    if largest <= ROUNDING * max(scale, 1.0):
        return True, (f"commuting up to the rounding of the spec's float constants: every coefficient of the "
                      f"expanded [A(x), A(x')] is at most {largest:.2g} (relative bound {ROUNDING:g}); "
                      "sympy could not simplify it to an exact 0")
    return False, f"a coefficient of the expanded commutator is {largest:.3g}, above rounding size"


def rotation_pairs(A: sympy.Matrix) -> bool:
    """Whether A is block diagonal in the coordinate pairs (2r, 2r + 1) with every block [[a, -b], [b, a]]:
    a complex diagonal in the real form of `complex_form` (the blocks are complex numbers, so
    they commute). Checked entry by entry on the expressions, so it is a proof, not a sample."""
    size = A.shape[0]
    if size % 2 or size < 2:
        return False
    for i in range(size):
        for j in range(size):
            if i // 2 != j // 2 and A[i, j] != 0:
                return False
    return all(sympy.expand(A[2 * r, 2 * r] - A[2 * r + 1, 2 * r + 1]) == 0
               and sympy.expand(A[2 * r, 2 * r + 1] + A[2 * r + 1, 2 * r]) == 0 for r in range(size // 2))


def analyze(rec: Recurrence, seed: int = 0) -> Structure:
    """Classify A(x) as fixed, diagonal, commuting or general, with the evidence.

    Cheap refutations come first (a non-zero numeric value is a certain "no"); sympy is asked
    for a proof only when every numeric sample agrees.
    """
    nonlinear = rec.nonlinearity is not None
    if not depends_on_input(rec.A, rec.inputs):
        return Structure("fixed", nonlinear, "constant matrices commute with themselves",
                         "A contains no input symbol")
    if is_diagonal(rec, seed):
        return Structure("diagonal", nonlinear, "diagonal matrices commute",
                         "every off-diagonal entry of A(x) is 0")
    if triangular_order(rec.A) is not None:
        return Structure("triangular", nonlinear, "not needed: each coordinate is a scalar recurrence whose input "
                         "reads only earlier coordinates", "A(x) is triangular after a permutation of the coordinates")
    if rotation_pairs(rec.A):
        return Structure("commuting", nonlinear, "A(x) is block diagonal with rotation-scaling blocks [[a, -b], [b, a]] "
                         "(a complex diagonal in real form), and complex numbers commute",
                         "A(x) and A(x') commute for all inputs")
    size = numeric_commutator(rec, seed=seed)
    if size > 1e-9:
        return Structure("general", nonlinear, f"[A(x), A(x')] is non-zero at random inputs (max entry {size:.3g})",
                         "A(x) and A(x') do not commute")
    if commutator_symbolically_zero(rec):
        return Structure("commuting", nonlinear,
                         "sympy simplifies [A(x), A(x')] to 0 over two independent copies of the input symbols",
                         "A(x) and A(x') commute for all inputs")
    rounded, evidence = commuting_up_to_rounding(rec)
    if rounded:
        return Structure("commuting", nonlinear, evidence, "A(x) and A(x') commute up to float rounding",
                         up_to_rounding=True)
    return Structure("general", nonlinear, f"[A(x), A(x')] vanishes at random points (max entry {size:.3g}), but "
                     f"commutation is unproven: sympy could not simplify it to 0, and {evidence}",
                     "commutation unproven (not shown to be non-commuting either)")


def positive_entries(matrix: sympy.Matrix) -> bool:
    """True when sympy can prove every diagonal entry positive (log-space products are sound)."""
    return all(matrix[i, i].is_positive is True for i in range(matrix.shape[0]))
