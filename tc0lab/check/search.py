"""Witness search for non-commuting linear layers: transitions that generate a non-solvable group.

Everything is read off the spec's matrices; no architecture name is used. The search works
on one block R of state coordinates that A never mixes with the rest (the whole state for a
dense A, one value channel for DeltaNet), and on basis-vector input tokens e_i.

1. Direct: at random parameters, do the transitions A(e_i)[R, R] generate a finite
   non-solvable group? Permutation matrices are read as such; other matrices are closed
   numerically and classified through their action on a generic orbit (matrix_groups.py).
2. Targeted: solve A(e_{i_j})[R, R] = T_j (and the token's write b(e_i)[R] = 0) for the
   parameters, for target sets T that generate S5 or A5 in dimension 5, 4 or 3
   (targets.py), with an exact Jacobian (`solve.solve_parameters`).
   A target T is skipped when rank(T - I) exceeds the generic rank of A(x)[R, R] - I: a
   rank can only drop at special points, so such a T is unreachable (DeltaNet's
   I - beta k k^T has rank 1, so only reflections remain; reflections generate S_n).
3. A start: the initial state h0, or one extra basis token read first, whose state must
   tell all group elements apart (checked later, through the outputs, by the verifier).

The search is refused for a state larger than MAX_SEARCH_STATE (the equations grow as
|R|^2 per token and the Jacobian as their number times the parameters'); every step it
takes, skips or fails is logged, so an "open" verdict says what was searched.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain

import numpy as np
import sympy

from tc0lab.check.matrix_groups import Action, group_name, permutation_action
from tc0lab.check.solve import solve_parameters
from tc0lab.check.targets import target_sets
from tc0lab.check.verify import Machine
from tc0lab.spec.numeric import by_name, coordinate_blocks, point, random_values, transition_function, write_function
from tc0lab.spec.recurrence import Recurrence

SMALLEST_BLOCK = 2  # a finite non-solvable matrix group needs at least 2 dimensions (complex) / 3 (real)
MAX_SEARCH_STATE = 64  # larger states: the search is refused (say so, and check a narrower width)
START_SCALES = (0.3, 1.0)  # solver starts alternate: small parameters keep gates out of saturation


@dataclass(frozen=True, eq=False)
class Candidate:
    """Parameters and tokens whose transitions on `block` generate the group of `action`."""

    values: dict
    token_indices: tuple[int, ...]
    block: tuple[int, ...]
    start_indices: tuple[int, ...]  # basis tokens read once first (empty: start from h0)
    action: Action  # the generators as permutations of a faithful action
    method: str
    max_deviation: float

    @property
    def maps(self) -> list[np.ndarray]:
        return self.action.maps


@dataclass
class SearchLog:
    """What the search did, in words: every step taken, skipped or failed."""

    lines: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.lines.append(text)


def _basis(d: int, i: int) -> np.ndarray:
    token = np.zeros(d)
    token[i] = 1.0
    return token


def generic_rank(rec: Recurrence, block: tuple[int, ...], seed: int = 0) -> int:
    """rank(A(x)[R, R] - I) at random points: the most any transition can move."""
    A, rng, index = transition_function(rec), np.random.default_rng(seed), np.array(block)
    ranks = [np.linalg.matrix_rank(A(point(rec, rng.normal(size=rec.d_in), random_values(rec, rng)))[np.ix_(index, index)]
                                   - np.eye(len(block)), tol=1e-8) for _ in range(3)]
    return int(max(ranks))


def _write_free(rec: Recurrence, block: tuple[int, ...], token: np.ndarray, seed: int) -> bool:
    b, rng = write_function(rec), np.random.default_rng(seed)
    return all(np.max(np.abs(b(point(rec, token, random_values(rec, rng)))[list(block), 0])) == 0 for _ in range(2))


def _non_solvable(action: Action | None) -> bool:
    return action is not None and not group_name(action)[2]


def _direct(rec: Recurrence, block: tuple[int, ...], seed: int, log: SearchLog) -> Candidate | None:
    """Tokens whose transitions at random parameters already generate a finite non-solvable group."""
    values = random_values(rec, np.random.default_rng(seed))
    A, index = transition_function(rec), np.array(block)
    tokens = [i for i in range(rec.d_in) if _write_free(rec, block, _basis(rec.d_in, i), seed)]
    matrices = [A(point(rec, _basis(rec.d_in, i), values))[np.ix_(index, index)] for i in tokens]
    moving = [(i, m) for i, m in zip(tokens, matrices) if not np.allclose(m, np.eye(len(block)), atol=1e-12)]
    if len(moving) < 2:
        log.add(f"direct: fewer than two write-free basis tokens move the block ({len(moving)})")
        return None
    action = permutation_action([m for _, m in moving], seed)
    if not _non_solvable(action):
        log.add("direct: the basis tokens' transitions at random parameters generate "
                + ("no finite group within the closure bound" if action is None else
                   f"{group_name(action)[0]}, which is solvable"))
        return None
    return Candidate(values, tuple(i for i, _ in moving), block, (), action,
                     "the inputs e_i select transitions that generate a finite group at generic parameters", 0.0)


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
    """b(e_s)[R] = a unit vector with distinct entries: a start state no group element fixes."""
    direction = np.arange(1.0, len(block) + 1.0) ** 1.5
    direction /= np.linalg.norm(direction)
    token = _basis(rec.d_in, token_index)
    substitution = {x: sympy.Float(v) if v else sympy.Integer(0) for x, v in zip(rec.inputs, token)}
    write = rec.B * sympy.Matrix(token)
    return [(write[row].xreplace(substitution), float(value)) for row, value in zip(block, direction)]


def _targeted(rec: Recurrence, block: tuple[int, ...], seed: int, log: SearchLog, restarts: int = 4) -> Candidate | None:
    rank = generic_rank(rec, block, seed)
    free = {i: _write_free(rec, block, _basis(rec.d_in, i), seed) for i in range(rec.d_in)}
    preferred = sorted(range(rec.d_in), key=lambda i: not free[i])
    A, index = transition_function(rec), np.array(block)
    for description, targets in target_sets(len(block)):
        needed = max(np.linalg.matrix_rank(t - np.eye(len(block)), tol=1e-8) for t in targets)
        if needed > rank:
            log.add(f"targeted, {description}: skipped, it needs rank(T - I) = {needed} and A(x) - I has generic "
                    f"rank {rank}")
            continue
        chosen = preferred[:len(targets)]
        # without an initial state, one more token must write a state to permute
        writers = [i for i in range(rec.d_in) if i not in chosen and not free[i]] if rec.h0 is None else []
        if len(chosen) < len(targets) or (rec.h0 is None and not writers):
            log.add(f"targeted, {description}: skipped, it needs {len(targets)} generator tokens"
                    + ("" if rec.h0 is not None else " and one more input that writes a start state")
                    + f"; the layer has {rec.d_in} inputs")
            continue
        equations = list(chain.from_iterable(
            _equations(rec, block, _basis(rec.d_in, i), t, free[i]) for i, t in zip(chosen, targets)))
        if any(not e.free_symbols and abs(complex(e) - t) > 1e-12 for e, t in equations):
            log.add(f"targeted, {description}: skipped, a structurally constant entry cannot reach its target")
            continue
        found = _solve_targets(rec, block, seed, restarts, equations, chosen, tuple(writers[:1]), targets, A, index,
                               description, log)
        if found is not None:
            return found
    return None


def _solve_targets(rec, block, seed, restarts, equations, chosen, starts, targets, A, index, description, log):
    """Solve one target set from a few random starts; the candidate or None (logged)."""
    best = float("inf")
    for restart in range(restarts):
        start = random_values(rec, np.random.default_rng(seed + 1000 * (restart + 1)), START_SCALES[restart % 2])
        solution = solve_parameters(equations, sorted(rec.parameters(), key=by_name), start)
        best = min(best, solution.residual)
        if solution.residual > 1e-9:
            continue
        iterations = solution.iterations
        if starts:  # then the start write, moving only parameters the witness leaves free
            used = set().union(*(sympy.sympify(e).free_symbols for e, _ in equations))
            unused = sorted(rec.parameters() - used, key=by_name)
            written = solve_parameters(_start_equations(rec, block, starts[0]), unused, solution.values)
            if written.residual > 1e-9:
                log.add(f"targeted, {description}: transitions solved, but no start write could be solved "
                        f"(residual {written.residual:.2g})")
                continue
            solution = written
        matrices = [A(point(rec, _basis(rec.d_in, i), solution.values))[np.ix_(index, index)] for i in chosen]
        action = permutation_action(matrices, seed)
        if not _non_solvable(action):
            log.add(f"targeted, {description}: the solved transitions do not generate the target group")
            continue
        deviation = max(float(np.max(np.abs(m - t))) for m, t in zip(matrices, targets))
        return Candidate(solution.values, tuple(chosen), block, starts, action,
                         f"solved A(e_i)[R, R] = T_i for the parameters ({description}; "
                         f"{iterations} Levenberg-Marquardt iterations)", deviation)
    log.add(f"targeted, {description}: no exact solution from {restarts} random starts (best residual {best:.2g})")
    return None


def _starts(rec: Recurrence, candidate: Candidate) -> list[np.ndarray]:
    """Start-token options: none (when h0 is given), then each unused basis token."""
    if candidate.start_indices:
        return [np.array([_basis(rec.d_in, i) for i in candidate.start_indices])]
    options = [np.zeros((0, rec.d_in))] if rec.h0 is not None else []
    unused = [i for i in range(rec.d_in) if i not in candidate.token_indices]
    return options + [_basis(rec.d_in, i)[None, :] for i in unused]


def find_candidates(rec: Recurrence, log: SearchLog, seed: int = 0, max_blocks: int = 2):
    """Yield (Candidate, Machine) pairs to verify, most direct first."""
    if rec.state_size > MAX_SEARCH_STATE:
        log.add(f"refused: the state has {rec.state_size} coordinates, above the search limit of "
                f"{MAX_SEARCH_STATE}; check the same family at a smaller width")
        return
    blocks = [tuple(b) for b in coordinate_blocks(rec.A) if len(b) >= SMALLEST_BLOCK][:max_blocks]
    if not blocks:
        log.add(f"no block of at least {SMALLEST_BLOCK} coordinates that A mixes")
    for block in blocks:
        log.add(f"block of {len(block)} coordinates {list(block)[:8]}{'...' if len(block) > 8 else ''}")
        for finder in (_direct, _targeted):
            candidate = finder(rec, block, seed, log)
            if candidate is None:
                continue
            tokens = np.array([_basis(rec.d_in, i) for i in candidate.token_indices])
            for start in _starts(rec, candidate):
                yield candidate, Machine(rec, candidate.values, tokens, start, block)
            break
