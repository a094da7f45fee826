"""Witness search for non-commuting linear layers: transitions that are permutation matrices.

Everything is read off the spec's matrices; no architecture name is used. The search works
on one block R of state coordinates that A never mixes with the rest (the whole state for a
dense A, one value channel for DeltaNet), and on basis-vector input tokens e_i.

1. Direct: at random parameters, are some A(e_i)[R, R] already permutation matrices (a layer
   whose inputs select among fixed permutations)?
2. Targeted: pick target permutations on the first 5 points of R that generate a
   non-solvable group, S5 = <(0 1), (0 1 2 3 4)>, S5 = <(0 1), (1 2), (2 3), (3 4)> or
   A5 = <(0 1 2), (0 1 2 3 4)>, and solve A(e_{i_j})[R, R] = P_j (and the token's write
   b(e_i)[R] = 0) for the parameters (`solve.solve_parameters`).
   A target P is skipped when rank(P - I) exceeds the generic rank of A(x)[R, R] - I: a
   rank can only drop at special points, so such a P is unreachable (DeltaNet's
   I - beta k k^T has rank 1, so only transpositions remain; reflections generate S_n).
3. A start: the initial state h0, or one extra basis token read first, whose state must
   tell all group elements apart (checked later by the codebook).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np
import sympy
from sympy.combinatorics import Permutation, PermutationGroup

from tc0lab.spec.numeric import by_name, coordinate_blocks, point, random_values, transition_function, write_function
from tc0lab.check.solve import solve_parameters
from tc0lab.check.verify import Machine
from tc0lab.spec.recurrence import Recurrence

WITNESS_POINTS = 5  # S5 and A5 act on 5 points: the smallest non-solvable groups

TARGET_SETS: tuple[tuple[str, tuple[tuple[int, ...], ...]], ...] = (
    ("S5 from a transposition and a 5-cycle", ((1, 0, 2, 3, 4), (1, 2, 3, 4, 0))),
    ("S5 from adjacent transpositions", ((1, 0, 2, 3, 4), (0, 2, 1, 3, 4), (0, 1, 3, 2, 4), (0, 1, 2, 4, 3))),
    ("A5 from a 3-cycle and a 5-cycle", ((1, 2, 0, 3, 4), (1, 2, 3, 4, 0))),
)


@dataclass(frozen=True, eq=False)
class Candidate:
    """Parameters and tokens whose transitions on `block` are the permutations `maps`."""

    values: dict
    token_indices: tuple[int, ...]
    block: tuple[int, ...]
    start_indices: tuple[int, ...]  # basis tokens read once first (empty: start from h0)
    maps: list[np.ndarray]  # array forms on the block's local points 0..|R|-1
    method: str
    max_deviation: float


def _basis(d: int, i: int) -> np.ndarray:
    token = np.zeros(d)
    token[i] = 1.0
    return token


def as_permutation(matrix: np.ndarray, tolerance: float = 1e-9) -> np.ndarray | None:
    """The array form pi (P[pi(i), i] = 1) if `matrix` is a permutation matrix, else None."""
    if np.iscomplexobj(matrix):
        if np.max(np.abs(matrix.imag)) > tolerance:
            return None
        matrix = matrix.real
    rounded = np.round(matrix)
    if np.max(np.abs(matrix - rounded)) > tolerance or np.any((rounded != 0) & (rounded != 1)):
        return None
    if not (np.all(rounded.sum(axis=0) == 1) and np.all(rounded.sum(axis=1) == 1)):
        return None
    return np.argmax(rounded, axis=0)


def group_of(maps: list[np.ndarray]) -> PermutationGroup:
    return PermutationGroup([Permutation(list(map(int, m))) for m in maps])


def generic_rank(rec: Recurrence, block: tuple[int, ...], seed: int = 0) -> int:
    """rank(A(x)[R, R] - I) at random points: the most any transition can move."""
    A, rng, index = transition_function(rec), np.random.default_rng(seed), np.array(block)
    ranks = [np.linalg.matrix_rank(A(point(rec, rng.normal(size=rec.d_in), random_values(rec, rng)))[np.ix_(index, index)]
                                   - np.eye(len(block)), tol=1e-8) for _ in range(3)]
    return int(max(ranks))


def _write_free(rec: Recurrence, block: tuple[int, ...], token: np.ndarray, seed: int) -> bool:
    b, rng = write_function(rec), np.random.default_rng(seed)
    return all(np.max(np.abs(b(point(rec, token, random_values(rec, rng)))[list(block), 0])) == 0 for _ in range(2))


def _direct(rec: Recurrence, block: tuple[int, ...], seed: int) -> Candidate | None:
    """Tokens whose transitions are already permutations at random parameters."""
    values = random_values(rec, np.random.default_rng(seed))
    A, index = transition_function(rec), np.array(block)
    found: dict[bytes, tuple[int, np.ndarray]] = {}
    for i in range(rec.d_in):
        token = _basis(rec.d_in, i)
        perm = as_permutation(A(point(rec, token, values))[np.ix_(index, index)])
        if perm is not None and np.any(perm != np.arange(len(perm))) and _write_free(rec, block, token, seed):
            found.setdefault(perm.tobytes(), (i, perm))
    if len(found) < 2:
        return None
    indices, maps = zip(*found.values())
    group = group_of(list(maps))
    if group.is_solvable:
        return None
    return Candidate(values, tuple(indices), block, (), list(maps),
                     "the inputs e_i select permutation matrices at generic parameters", 0.0)


def _target_matrix(images: tuple[int, ...], size: int) -> np.ndarray:
    perm = np.arange(size)
    perm[:len(images)] = images
    matrix = np.zeros((size, size))
    matrix[perm, np.arange(size)] = 1.0
    return matrix


def _equations(rec: Recurrence, block: tuple[int, ...], token: np.ndarray, target: np.ndarray, write_free: bool):
    """(expr, target) pairs for A(token)[R, R] = target and, if needed, b(token)[R] = 0."""
    substitution = {x: sympy.Float(v) if v else sympy.Integer(0) for x, v in zip(rec.inputs, token)}
    equations = []
    for a, row in enumerate(block):
        for c, col in enumerate(block):
            entry = rec.A[row, col]
            equations.append((entry.xreplace(substitution) if entry != 0 else sympy.Integer(0), float(target[a, c])))
    if not write_free:
        write = rec.B * sympy.Matrix(token)
        equations += [(write[row].xreplace(substitution), 0.0) for row in block]
    return equations


def _start_equations(rec: Recurrence, block: tuple[int, ...], token_index: int):
    """b(e_s)[R] = a unit vector with distinct entries: a start state no permutation fixes."""
    direction = np.arange(1.0, len(block) + 1.0)
    direction /= np.linalg.norm(direction)
    token = _basis(rec.d_in, token_index)
    substitution = {x: sympy.Float(v) if v else sympy.Integer(0) for x, v in zip(rec.inputs, token)}
    write = rec.B * sympy.Matrix(token)
    return [(write[row].xreplace(substitution), float(value)) for row, value in zip(block, direction)]


def _targeted(rec: Recurrence, block: tuple[int, ...], seed: int, restarts: int = 2) -> Candidate | None:
    rank = generic_rank(rec, block, seed)
    free = {i: _write_free(rec, block, _basis(rec.d_in, i), seed) for i in range(rec.d_in)}
    preferred = sorted(range(rec.d_in), key=lambda i: not free[i])
    A, index = transition_function(rec), np.array(block)
    for description, images in TARGET_SETS:
        targets = [_target_matrix(p, len(block)) for p in images]
        if max(np.linalg.matrix_rank(t - np.eye(len(block))) for t in targets) > rank:
            continue
        chosen = preferred[:len(targets)]
        # without an initial state, one more token must write a state to permute
        writers = [i for i in range(rec.d_in) if i not in chosen and not free[i]] if rec.h0 is None else []
        if len(chosen) < len(targets) or (rec.h0 is None and not writers):
            continue
        starts = tuple(writers[:1])
        equations = list(chain.from_iterable(
            _equations(rec, block, _basis(rec.d_in, i), t, free[i]) for i, t in zip(chosen, targets)))
        if any(not e.free_symbols and abs(complex(e) - t) > 1e-12 for e, t in equations):
            continue  # a structurally constant entry cannot reach its target
        for restart in range(restarts):
            start = random_values(rec, np.random.default_rng(seed + 1000 * (restart + 1)))
            solution = solve_parameters(equations, sorted(rec.parameters(), key=by_name), start)
            if solution.residual > 1e-9:
                continue
            if starts:  # then the start write, moving only parameters the witness leaves free
                used = set().union(*(sympy.sympify(e).free_symbols for e, _ in equations))
                start_equations = _start_equations(rec, block, starts[0])
                unused = sorted(rec.parameters() - used, key=by_name)
                written = solve_parameters(start_equations, unused, solution.values)
                if written.residual > 1e-9:
                    continue
                solution = written
            matrices = [A(point(rec, _basis(rec.d_in, i), solution.values))[np.ix_(index, index)] for i in chosen]
            maps = [as_permutation(m) for m in matrices]
            if any(m is None for m in maps):
                continue
            deviation = max(float(np.max(np.abs(m - t))) for m, t in zip(matrices, targets))
            return Candidate(solution.values, tuple(chosen), block, starts, maps,
                             f"solved A(e_i)[R, R] = P_i for the parameters ({description}; "
                             f"{solution.iterations} Levenberg-Marquardt iterations)", deviation)
    return None


def _starts(rec: Recurrence, candidate: Candidate) -> list[np.ndarray]:
    """Start-token options: none (when h0 is given), then each unused basis token."""
    if candidate.start_indices:
        return [np.array([_basis(rec.d_in, i) for i in candidate.start_indices])]
    options = [np.zeros((0, rec.d_in))] if rec.h0 is not None else []
    unused = [i for i in range(rec.d_in) if i not in candidate.token_indices]
    return options + [_basis(rec.d_in, i)[None, :] for i in unused]


def find_candidates(rec: Recurrence, seed: int = 0, max_blocks: int = 2):
    """Yield (Candidate, Machine) pairs to verify, most direct first."""
    blocks = [tuple(b) for b in coordinate_blocks(rec.A) if len(b) >= WITNESS_POINTS][:max_blocks]
    for block in blocks:
        for finder in (_direct, _targeted):
            candidate = finder(rec, block, seed)
            if candidate is None:
                continue
            tokens = np.array([_basis(rec.d_in, i) for i in candidate.token_indices])
            for start in _starts(rec, candidate):
                yield candidate, Machine(rec, candidate.values, tokens, start, block)
            break
