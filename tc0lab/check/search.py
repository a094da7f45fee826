"""Witness search for non-commuting linear layers: transitions that generate a non-solvable group.

Everything is read off the spec's matrices; no architecture name is used. The search works
on one block R of state coordinates that A never mixes with the rest (the whole state for a
dense A, one value channel for DeltaNet), and on basis-vector input tokens e_i.

1. Direct: at random parameters, do the transitions A(e_i)[R, R] generate a finite
   non-solvable group? Permutation matrices are read as such; other matrices are closed
   numerically and classified through their action on a generic orbit (matrix_groups.py).
2. Targeted: solve A(e_{i_j})[R, R] = T_j (and the token's write b(e_i)[R] = 0) for the
   parameters, for target sets T that generate S5 or A5 in dimension 5, 4 or 3
   (targets.py), with an exact-Jacobian fallback (`solve.solve_parameters`). When no single
   token can be a generator (a unipotent family I + k q^T with q.k = 0 has no permutation
   among its transitions, but products of such transvections reach every matrix of
   determinant 1), each generator becomes a word of 2, then 3 distinct tokens, and the
   product of their transitions is solved for instead.
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
from tc0lab.check.solve import ACCEPTED, solve_parameters
from tc0lab.check.targets import target_sets
from tc0lab.check.verify import Machine
from tc0lab.spec.numeric import by_name, coordinate_blocks, point, random_values, transition_function, write_function
from tc0lab.spec.recurrence import Recurrence

SMALLEST_BLOCK = 2  # a finite non-solvable matrix group needs at least 2 dimensions (complex) / 3 (real)
MAX_SEARCH_STATE = 64  # larger states: the search is refused (say so, and check a narrower width)
WORD_LENGTHS = (1, 2, 3)  # tokens per generator tried, in order (longer only when shorter ones fail)
WORD_RESTARTS = 2  # random starts per target set for words of several tokens
WORD_ITERATIONS = 100  # solver iterations per pass for them (their expanded products are costly)
EARLY_RESTARTS, FAR_RESIDUAL = 2, 0.5  # after this many starts that all end this far off, a target set is dropped
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
    generator_words: tuple[tuple[int, ...], ...] | None = None  # positions in token_indices, per generator

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


def _random_blocks(rec: Recurrence, block: tuple[int, ...], seed: int, count: int = 3) -> list[np.ndarray]:
    A, rng, index = transition_function(rec), np.random.default_rng(seed), np.array(block)
    return [A(point(rec, rng.normal(size=rec.d_in), random_values(rec, rng)))[np.ix_(index, index)] for _ in range(count)]


def generic_rank(rec: Recurrence, block: tuple[int, ...], seed: int = 0) -> int:
    """rank(A(x)[R, R] - I) at random points: the most any transition can move."""
    return int(max(np.linalg.matrix_rank(m - np.eye(len(block)), tol=1e-8) for m in _random_blocks(rec, block, seed)))


def shifted_rank(matrix: np.ndarray) -> int:
    """min over scalars l of rank(M - l I): how far M is from a multiple of the identity.

    The minimum is at an eigenvalue. A product of w matrices l_i I + (rank <= r) is
    (prod l_i) I + (rank <= w r), so a word of w transitions reaches a target T only if
    shifted_rank(T) <= w * (the generic shifted rank of A(x)); the generic value is the largest
    (the set where it is <= r is closed), so random points give it.
    """
    size = len(matrix)
    scale = max(1.0, float(np.max(np.abs(matrix))))
    return int(min(np.linalg.matrix_rank(matrix - value * np.eye(size), tol=1e-8 * scale)
                   for value in np.linalg.eigvals(matrix)))


def generic_shifted_rank(rec: Recurrence, block: tuple[int, ...], seed: int = 0) -> int:
    """shifted_rank(A(x)[R, R]) at random points (gated delta rules alpha (I - beta k k^T): 1)."""
    return max(shifted_rank(m) for m in _random_blocks(rec, block, seed))


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


def _substituted_block(rec: Recurrence, block: tuple[int, ...], token: np.ndarray) -> sympy.Matrix:
    substitution = {x: sympy.Float(v) if v else sympy.Integer(0) for x, v in zip(rec.inputs, token)}
    return sympy.Matrix(len(block), len(block),
                        lambda a, c: rec.A[block[a], block[c]].xreplace(substitution) if rec.A[block[a], block[c]] != 0
                        else sympy.Integer(0))


def _equations(rec: Recurrence, block: tuple[int, ...], word: list[int], target: np.ndarray, free: dict):
    """(expr, target) pairs for A(e_{i_w}) ... A(e_{i_1})[R, R] = target (the word read left to right),
    and b(e_i)[R] = 0 for each token of the word that writes into the block."""
    product = sympy.eye(len(block))
    for i in word:
        product = _substituted_block(rec, block, _basis(rec.d_in, i)) * product
    equations = [(product[a, c], float(target[a, c])) for a in range(len(block)) for c in range(len(block))]
    for i in word:
        if not free[i]:
            token = _basis(rec.d_in, i)
            substitution = {x: sympy.Float(v) if v else sympy.Integer(0) for x, v in zip(rec.inputs, token)}
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
    """Solve for target transitions: one token per generator first, then words of 2 and 3 tokens."""
    skipped_by_rank: set[str] = set()
    rank = (generic_rank(rec, block, seed), generic_shifted_rank(rec, block, seed))
    free = {i: _write_free(rec, block, _basis(rec.d_in, i), seed) for i in range(rec.d_in)}
    for word_length in WORD_LENGTHS:
        found = _targeted_words(rec, block, seed, log, restarts if word_length == 1 else WORD_RESTARTS, word_length,
                                skipped_by_rank, rank, free)
        if found is not None:
            return found
    return None


def _targeted_words(rec, block, seed, log, restarts, word_length, skipped_by_rank: set[str], rank: tuple[int, int],
                    free: dict[int, bool]) -> Candidate | None:
    """One pass over the target sets with `word_length` tokens per generator.

    Words are tried only for target sets that shorter words could not reach by rank (a
    set whose single-token solve merely failed is not retried with words: the cost of the
    products is kept for the cases where the rank argument says words are needed). `rank` holds
    the generic rank of A(x) - I on the block and its generic `shifted_rank`, `free[i]` whether
    token e_i writes nothing there.
    """
    preferred = sorted(range(rec.d_in), key=lambda i: not free[i])
    words = "one token" if word_length == 1 else f"a word of {word_length} tokens"
    for description, targets in target_sets(len(block)):
        if word_length > 1 and description not in skipped_by_rank:
            continue
        label = f"targeted, {description}, {words} per generator"
        needed = max(np.linalg.matrix_rank(t - np.eye(len(block)), tol=1e-8) for t in targets)
        if needed > word_length * rank[0]:
            skipped_by_rank.add(description)
            log.add(f"{label}: skipped, it needs rank(T - I) = {needed} and a word of {word_length} reaches at most "
                    f"{word_length} x {rank[0]} (the generic rank of A(x) - I)")
            continue
        needed = max(shifted_rank(t) for t in targets)
        if needed > word_length * rank[1]:
            skipped_by_rank.add(description)
            log.add(f"{label}: skipped, its targets are rank {needed} away from every multiple of I, and a word of "
                    f"{word_length} is at most {word_length} x {rank[1]} away (A(x) is a multiple of I plus a rank-"
                    f"{rank[1]} matrix)")
            continue
        chosen = preferred[:word_length * len(targets)]
        # without an initial state, one more token must write a state to permute
        writers = [i for i in range(rec.d_in) if i not in chosen and not free[i]] if rec.h0 is None else []
        if len(chosen) < word_length * len(targets) or (rec.h0 is None and not writers):
            log.add(f"{label}: skipped, it needs {word_length * len(targets)} generator tokens"
                    + ("" if rec.h0 is not None else " and one more input that writes a start state")
                    + f"; the layer has {rec.d_in} inputs")
            continue
        token_words = [chosen[j * word_length:(j + 1) * word_length] for j in range(len(targets))]
        equations = list(chain.from_iterable(_equations(rec, block, w, t, free) for w, t in zip(token_words, targets)))
        if any(not e.free_symbols and abs(complex(e) - t) > 1e-12 for e, t in equations):
            log.add(f"{label}: skipped, a structurally constant entry cannot reach its target")
            continue
        skipped_by_rank.discard(description)
        found = _solve_targets(rec, block, seed, restarts, equations, token_words, tuple(writers[:1]), targets, label,
                               log)
        if found is not None:
            return found
    return None


def _word_matrix(rec: Recurrence, values: dict, word: list[int], index: np.ndarray) -> np.ndarray:
    """The numeric transition of a token word on the block (read left to right)."""
    A = transition_function(rec)
    product = np.eye(len(index))
    for i in word:
        product = A(point(rec, _basis(rec.d_in, i), values))[np.ix_(index, index)] @ product
    return product


def _solve_targets(rec, block, seed, restarts, equations, token_words, starts, targets, label, log):
    """Solve one target set from a few random starts; the candidate or None (logged)."""
    best, index = float("inf"), np.array(block)
    for restart in range(restarts):
        if restart >= EARLY_RESTARTS and best > FAR_RESIDUAL:
            log.add(f"{label}: no exact solution from {restart} random starts (best residual {best:.2g}); the other "
                    f"{restarts - restart} not tried: every start so far ended far from the targets (residual > "
                    f"{FAR_RESIDUAL:g})")
            return None
        start = random_values(rec, np.random.default_rng(seed + 1000 * (restart + 1)), START_SCALES[restart % 2])
        single = len(token_words[0]) == 1  # words: differences only (their products are costly to differentiate)
        solution = solve_parameters(equations, sorted(rec.parameters(), key=by_name), start,
                                    max_iterations=200 if single else WORD_ITERATIONS, exact_fallback=single)
        best = min(best, solution.residual)
        if solution.residual > ACCEPTED:
            continue
        iterations = solution.iterations
        if starts:  # then the start write, moving only parameters the witness leaves free
            used = set().union(*(sympy.sympify(e).free_symbols for e, _ in equations))
            unused = sorted(rec.parameters() - used, key=by_name)
            written = solve_parameters(_start_equations(rec, block, starts[0]), unused, solution.values)
            if written.residual > ACCEPTED:
                log.add(f"{label}: transitions solved, but no start write could be solved "
                        f"(residual {written.residual:.2g})")
                continue
            solution = written
        matrices = [_word_matrix(rec, solution.values, w, index) for w in token_words]
        action = permutation_action(matrices, seed)
        if not _non_solvable(action):
            log.add(f"{label}: the solved transitions do not generate the target group")
            continue
        deviation = max(float(np.max(np.abs(m - t))) for m, t in zip(matrices, targets))
        tokens = tuple(i for w in token_words for i in w)
        positions = tuple(tuple(range(j * len(w), (j + 1) * len(w))) for j, w in enumerate(token_words))
        return Candidate(solution.values, tokens, block, starts, action,
                         f"solved {'A(e_i)' if len(token_words[0]) == 1 else 'products of A(e_i) over token words'}"
                         f"[R, R] = T for the parameters ({label.split(', ', 1)[1]}; {iterations} "
                         "Levenberg-Marquardt iterations)", deviation,
                         positions if len(token_words[0]) > 1 else None)
    log.add(f"{label}: no exact solution from {restarts} random starts (best residual {best:.2g})")
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
    searched_blocks: list[sympy.Matrix] = []
    for block in blocks:
        transitions = rec.A.extract(list(block), list(block))
        if any(transitions == other for other in searched_blocks):
            log.add(f"block {list(block)[:8]}: skipped, its transitions are those of a block already searched")
            continue
        searched_blocks.append(transitions)
        log.add(f"block of {len(block)} coordinates {list(block)[:8]}{'...' if len(block) > 8 else ''}")
        for finder in (_direct, _targeted):
            candidate = finder(rec, block, seed, log)
            if candidate is None:
                continue
            tokens = np.array([_basis(rec.d_in, i) for i in candidate.token_indices])
            for start in _starts(rec, candidate):
                yield candidate, Machine(rec, candidate.values, tokens, start, block,
                                         generator_words=candidate.generator_words)
            break
