"""Run a witness: does the one-layer model, with the found parameters, solve the word problem?

A witness is a `Machine`: a recurrence with concrete parameter values, the input vectors of
its tokens (each generator is one token, or a fixed word of tokens), and optional start
tokens read once. A group element g is fed as its shortest word in the generators, so
reading g_1 ... g_n should leave the model in a state determined by the prefix product
g_1 then ... then g_t.

What is decoded is the layer's OUTPUT y_t = C(x_t) h_t + D x_t (optionally passed through
the block's position-wise map, `Machine.post`), never the raw state: a layer whose C cannot
see the state (C = 0, or a row that every permutation leaves unchanged) is not a witness.
The output after an element depends on the prefix product and on the last token read, so
the codebook is keyed by (element, last token): code[e, tau] is the output after a word with
product e whose last element's word ends in token tau. The codebook must separate elements
(outputs of different elements never coincide), and an output decodes to the expected
element when it lies within a quarter of the minimum separation of code[expected, tau]. The
checks:

- every word of group elements up to length L (L = 3 for S5: 120 + 120^2 + 120^3 words),
  by levels of a prefix tree; prefixes whose states agree to a thousandth of the decoding
  tolerance are continued once (the transitions are exact only up to rounding);
- 1,000 random words of length 64;
- the batched runner used here against `spec.reference.run_recurrence` on a few token
  sequences, so that what is verified is the spec's own forward pass.

Every step uses the spec's matrices A(x), B(x) x, C(x), D(x) evaluated numerically per token,
on the whole state; before anything runs, those float64 values are compared with a 40-digit
evaluation of the same entries (a spec whose float evaluation cancels is refused).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from tc0lab.spec.numeric import (SparseMatrixFunction, accurate_matrix, parameter_symbols, parameter_values, point,
                                 transition_function, write_function)
from tc0lab.groups import close_under_composition
from tc0lab.spec.functions import NUMPY
from tc0lab.spec.recurrence import Recurrence
from tc0lab.spec.reference import run_mixer

MAX_EXHAUSTIVE_WORDS = 2_000_000


@dataclass(frozen=True, eq=False)
class Machine:
    """A recurrence with concrete parameters, read through a few input tokens."""

    rec: Recurrence  # or a StateRecurrence (a general update, run by state_steps.UpdateSteps)
    values: dict  # {Symbol: float}
    tokens: np.ndarray  # (m, d): the input vector of each generator token
    start: np.ndarray  # (s, d): tokens read once before any word
    coordinates: tuple[int, ...]  # the state coordinates the transitions permute (reported only)
    # the block's position-wise map after the mixer, (x rows (B, d), y rows (B, d_out)) -> rows;
    # None: decode the mixer's output y itself
    post: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    # generator j is read as the tokens generator_words[j] (indices into `tokens`); None: token j
    generator_words: tuple[tuple[int, ...], ...] | None = None


@dataclass
class Verification:
    verified: bool
    words_exhaustive: int = 0
    exhaustive_max_length: int = 0
    words_random: int = 0
    random_length: int = 0
    max_deviation: float = 0.0
    codebook_separation: float = 0.0
    reference_max_error: float = float("nan")
    failure: str | None = None
    tokens_per_element_max: int = 0
    decoded: str = "the layer's output y = C(x) h + D x"
    extra: dict = field(default_factory=dict)


class _Steps:
    """Numeric per-token updates of the whole state, and the outputs they produce."""

    def __init__(self, machine: Machine):
        rec = machine.rec
        self.token_vectors = np.concatenate([machine.tokens, machine.start]).reshape(-1, rec.d_in)
        symbols = rec.inputs + parameter_symbols(rec)
        A, b = transition_function(rec), write_function(rec)
        C, D = SparseMatrixFunction(rec.C, symbols), SparseMatrixFunction(rec.D, symbols)
        parameters = parameter_values(rec, machine.values)
        at = [point(rec, x, parameters) for x in self.token_vectors]
        self.A = np.array([A(p) for p in at])
        self.b = np.array([b(p)[:, 0] for p in at])
        self.C = np.array([C(p) for p in at])
        self.Dx = np.array([D(p) @ x for p, x in zip(at, self.token_vectors)])
        self.squash = NUMPY[rec.nonlinearity] if rec.nonlinearity else None
        self.post = machine.post
        self.h0 = np.zeros(rec.state_size) if rec.h0 is None else np.array(
            [complex(e.xreplace({s: machine.values[s] for s in e.free_symbols})) for e in rec.h0])
        self.float_error = _float_evaluation_error(rec, symbols, at, self.token_vectors,
                                                   [(rec.A, self.A), (rec.B, None), (rec.C, self.C), (rec.D, None)])
        arrays = (self.A, self.b, self.C, self.Dx, self.h0)
        self.dtype = complex if any(np.iscomplexobj(a) and np.any(np.imag(a)) for a in arrays) else float
        if self.dtype is float:
            self.A, self.b, self.C, self.Dx, self.h0 = (np.real(a) for a in arrays)

    def apply_one(self, states: np.ndarray, token: int) -> np.ndarray:
        """Every row reads the same token: h <- f(A_tok h + b_tok)."""
        updated = states @ self.A[token].T + self.b[token]
        return updated if self.squash is None else self.squash(updated)

    def apply(self, states: np.ndarray, token_ids: np.ndarray) -> np.ndarray:
        """One token per row: h <- f(A_tok h + b_tok)."""
        if not len(token_ids) or token_ids.min() == token_ids.max():
            return self.apply_one(states, token_ids[0]) if len(token_ids) else states.copy()
        updated = np.empty_like(states)
        for token in np.unique(token_ids):
            rows = token_ids == token
            updated[rows] = states[rows] @ self.A[token].T + self.b[token]
        return updated if self.squash is None else self.squash(updated)

    def mixer_output(self, states: np.ndarray, last_tokens: np.ndarray) -> np.ndarray:
        """The mixer's output after each row's last token: y = C(x) h + D x."""
        return np.einsum("bos,bs->bo", self.C[last_tokens], states) + self.Dx[last_tokens]

    def output(self, states: np.ndarray, last_tokens: np.ndarray) -> np.ndarray:
        """What the layer emits after each row's last token: y = C(x) h + D x (then the block's map)."""
        y = self.mixer_output(states, last_tokens)
        return y if self.post is None else self.post(self.token_vectors[last_tokens], y)


def _steps_for(machine: Machine):
    """The numeric runner of the machine's mixer (a general update: `state_steps.UpdateSteps`)."""
    if isinstance(machine.rec, Recurrence):
        return _Steps(machine)
    from tc0lab.check.state_steps import UpdateSteps
    return UpdateSteps(machine)


FLOAT_AGREEMENT = 1e-12  # float64 against 40-digit evaluation of the spec at the witness's tokens, relative
REPRESENTATION_AGREEMENT = 1e-11  # |M_g M_e - M_(e then g)| on the witness block, relative


def _representation_error(steps: "_Steps", machine: Machine, table: np.ndarray, words: list[list[int]],
                          generator_ids: tuple[int, ...]) -> float:
    """How far the transitions on the witness's coordinates are from a representation of the group.

    M_e is the product of the token transitions along e's word; for an exact representation,
    reading generator g after e gives M_(e then g) for every element e and generator g. A
    transition that is a permutation only to 1e-10 passes a decoding check on words of length
    64, but generates an infinite group; this catches it.
    """
    index = np.array(machine.coordinates)
    blocks = steps.A[:, index][:, :, index]

    def product(word: list[int]) -> np.ndarray:
        matrix = np.eye(len(index), dtype=blocks.dtype)
        for token in word:
            matrix = blocks[token] @ matrix
        return matrix

    elements = [product(word) for word in words]
    scale = max(1.0, max(float(np.max(np.abs(m))) for m in elements))
    worst = 0.0
    for e, matrix in enumerate(elements):
        for generator in set(generator_ids):
            worst = max(worst, float(np.max(np.abs(elements[generator] @ matrix - elements[table[e, generator]]))))
    return worst / scale


def _float_evaluation_error(rec: Recurrence, symbols, points, token_vectors, matrices) -> float:
    """The largest relative gap between the float64 and the 40-digit values of A, B, C, D at the tokens.

    Verification runs the float evaluation; a spec whose float evaluation cancels catastrophically
    (exp(u + 36) - e^36 exp(u) is 0, but not in float64) would otherwise verify a machine that the
    exact spec is not.
    """
    worst = 0.0
    for matrix, rounded in matrices:
        function = SparseMatrixFunction(matrix, symbols) if rounded is None else None
        for index, at in enumerate(points):
            value = function(at) if rounded is None else rounded[index]
            accurate = accurate_matrix(matrix, symbols, at, value)
            scale = max(1.0, float(np.max(np.abs(accurate))) if accurate.size else 1.0)
            worst = max(worst, float(np.max(np.abs(accurate - value))) / scale if accurate.size else 0.0)
    return worst


def _shortest_words(table: np.ndarray, generator_ids: tuple[int, ...]) -> list[list[int]]:
    """For every element, a shortest non-empty word in the generators (token indices), by BFS.

    The identity gets a shortest non-empty word too (a generator to the power of its order),
    so every fed element ends with a token read, and the output after it is keyed by that token.
    """
    words: list[list[int] | None] = [None] * len(table)
    words[0] = []
    queue = deque([0])
    identity_word: list[int] | None = None
    while queue:
        element = queue.popleft()
        for token, generator in enumerate(generator_ids):
            child = int(table[element, generator])
            if child == 0 and identity_word is None:
                identity_word = words[element] + [token]
            if words[child] is None:
                words[child] = words[element] + [token]
                queue.append(child)
    words[0] = identity_word or []
    return words  # type: ignore[return-value]


class _WordRunner:
    """Feeds group elements (as token words) to batches of states, and reads their outputs."""

    def __init__(self, steps: _Steps, words: list[list[int]]):
        self.steps = steps
        longest = max(len(w) for w in words)
        self.padded = np.full((len(words), max(longest, 1)), -1, dtype=np.int64)
        for element, word in enumerate(words):
            self.padded[element, :len(word)] = word
        self.last_token = np.array([word[-1] for word in words], dtype=np.int64)  # read last when fed

    def feed_one(self, states: np.ndarray, element: int) -> np.ndarray:
        """Every row reads the same element."""
        for token in self.padded[element]:
            if token >= 0:
                states = self.steps.apply_one(states, token)
        return states

    def feed(self, states: np.ndarray, elements: np.ndarray) -> np.ndarray:
        states = states.copy()
        for position in range(self.padded.shape[1]):
            tokens = self.padded[elements, position]
            active = tokens >= 0
            if np.any(active):
                states[active] = self.steps.apply(states[active], tokens[active])
        return states

    def output(self, states: np.ndarray, last_elements: np.ndarray) -> np.ndarray:
        return self.steps.output(states, self.last_token[last_elements])


def _start_state(steps: _Steps, machine: Machine, batch: int) -> np.ndarray:
    state = np.tile(steps.h0.astype(steps.dtype), (batch, 1))
    for offset in range(len(machine.start)):
        state = steps.apply_one(state, len(machine.tokens) + offset)
    return state


class _Codebook:
    """code[e, tau]: the output after a word with product e whose last token is tau."""

    def __init__(self, runner: _WordRunner, machine: Machine, table: np.ndarray, inverse: np.ndarray):
        order = len(table)
        self.slot = {int(tau): k for k, tau in enumerate(np.unique(runner.last_token))}
        codes = []
        for tau in self.slot:  # reach every e as (e g^-1) then g, where g's word ends in tau
            g = int(np.flatnonzero(runner.last_token == tau)[0])
            first = table[np.arange(order), inverse[g]]
            states = runner.feed(runner.feed(_start_state(runner.steps, machine, order), first), np.full(order, g))
            codes.append(runner.output(states, np.full(order, g)))
        self.codes = np.stack(codes, axis=1)  # (order, slots, width)
        self.separation = self._separation()

    def _separation(self) -> float:
        """The smallest distance between outputs of two different elements (max-norm)."""
        order, slots, _ = self.codes.shape
        flat = self.codes.reshape(order * slots, -1)
        owner = np.repeat(np.arange(order), slots)
        gaps = np.max(np.abs(flat[:, None, :] - flat[None, :, :]), axis=-1) if len(flat) <= 4000 else None
        if gaps is None:
            return _separation_by_rows(flat, owner)
        gaps[owner[:, None] == owner[None, :]] = np.inf
        return float(gaps.min()) if order > 1 else float("inf")

    def expected(self, elements: np.ndarray, last_tokens: np.ndarray) -> np.ndarray:
        return self.codes[elements, [self.slot[int(t)] for t in last_tokens]]


def _separation_by_rows(flat: np.ndarray, owner: np.ndarray) -> float:
    best = float("inf")
    for i in range(len(flat)):
        other = owner != owner[i]
        if np.any(other):
            best = min(best, float(np.max(np.abs(flat[other] - flat[i]), axis=-1).min()))
    return best


def verify_machine(machine: Machine, permutations: list[np.ndarray], random_words: int = 1000,
                   random_length: int = 64, max_exhaustive_length: int = 3, seed: int = 0,
                   max_order: int = 5040) -> Verification:
    """Check that `machine`'s outputs compute the word problem of the group the permutations generate."""
    # many small matrix products: BLAS threads only contend with each other on shared cores
    with threadpool_limits(1), np.errstate(all="ignore"):
        return _verify(machine, permutations, random_words, random_length, max_exhaustive_length, seed, max_order)


def _verify(machine, permutations, random_words, random_length, max_exhaustive_length, seed, max_order):
    degree = len(permutations[0])
    closure = close_under_composition(np.array(permutations), degree, max_order,
                                      lambda size: ValueError(f"the witness group has more than {size} elements"))
    table, order = closure.table, len(closure.table)
    inverse = np.argmin(table, axis=1)  # table[a, inverse[a]] = identity = 0
    words = _shortest_words(table, closure.generator_ids)
    if machine.generator_words is not None:  # generator words -> token words
        words = [[token for g in word for token in machine.generator_words[g]] for word in words]
    steps = _steps_for(machine)
    runner = _WordRunner(steps, words)
    result = Verification(False, tokens_per_element_max=max(len(w) for w in words))
    result.extra["float_evaluation_error"] = steps.float_error
    if not steps.float_error <= FLOAT_AGREEMENT:
        result.failure = (f"the spec's float64 evaluation at the witness's tokens differs from its 40-digit "
                          f"evaluation by {steps.float_error:.3g} (relative): rounding, not the layer, would be verified")
        return result
    if isinstance(machine.rec, Recurrence) and machine.rec.nonlinearity is None:
        error = _representation_error(steps, machine, table, words, closure.generator_ids)
        result.extra["representation_error"] = error
        if not error <= REPRESENTATION_AGREEMENT:
            result.failure = (f"the token transitions on the witness's coordinates are not an exact representation "
                              f"of the group: a product along the Cayley table is off by {error:.3g} (relative; "
                              f"allowed {REPRESENTATION_AGREEMENT:g}), so long words would drift")
            return result
    if machine.post is not None:
        result.decoded = "the block's output: the mixer's y = C(x) h + D x through the block's position-wise map"
    codebook = _Codebook(runner, machine, table, inverse)
    result.codebook_separation = codebook.separation
    if not np.isfinite(codebook.codes).all():
        result.failure = "the layer's outputs are not finite on the witness's tokens"
        return result
    if not result.codebook_separation > 1e-6:
        result.failure = ("two group elements lead to the same output (the output does not determine the element; "
                          f"smallest separation {result.codebook_separation:.3g})")
        return result
    tolerance = min(result.codebook_separation / 4, 1e-6)

    def check(states: np.ndarray, expected: np.ndarray, last: np.ndarray, what: str) -> bool:
        if not len(states):
            return True
        outputs = runner.output(states, last)
        deviation = float(np.max(np.abs(outputs - codebook.expected(expected, runner.last_token[last]))))
        result.max_deviation = max(result.max_deviation, deviation)
        if not deviation <= tolerance:
            result.failure = (f"{what}: an output is {deviation:.3g} away from its element's code "
                              f"(tolerance {tolerance:.3g})")
            return False
        return True

    merge = tolerance * 1e-3
    result.extra["merged_prefix_states_within"] = merge
    if not _exhaustive(runner, machine, table, max_exhaustive_length, check, result, merge):
        return result
    if not _random(runner, machine, table, random_words, random_length, seed, check, result):
        return result
    result.reference_max_error = _reference_agreement(machine, steps, words, order, seed)
    if not result.reference_max_error <= 1e-9 * max(1.0, float(np.max(np.abs(codebook.codes)))):
        result.failure = f"the batched runner disagrees with spec.reference by {result.reference_max_error:.3g}"
        return result
    result.verified = True
    return result


def _exhaustive(runner, machine, table, max_length, check, result, merge: float) -> bool:
    """Every word up to the largest length L <= max_length with order^L words in budget.

    Prefixes whose states agree on the grid of spacing `merge` are continued once: the
    witness's transitions are exact only up to rounding, so bitwise equality would keep all
    order^2 prefixes apart. `merge` is a thousandth of the decoding tolerance, and the
    random long words are run without any merging.
    """
    order = len(table)
    elements = np.arange(order)
    frontier_states = runner.feed(_start_state(runner.steps, machine, order), elements)
    frontier_elements, frontier_last = elements, elements
    if not check(frontier_states, frontier_elements, frontier_last, "a word of length 1"):
        return False
    result.words_exhaustive, result.exhaustive_max_length = order, 1
    for length in range(2, max_length + 1):
        if result.words_exhaustive + order ** length > MAX_EXHAUSTIVE_WORDS:
            break
        next_states, next_elements, next_last = [], [], []
        for element in range(order):
            states = runner.feed_one(frontier_states, element)
            expected = table[frontier_elements, element]
            last = np.full(len(states), element)
            if not check(states, expected, last, f"a word of length {length}"):
                return False
            next_states.append(states)
            next_elements.append(expected)
            next_last.append(last)
        result.words_exhaustive += order ** length
        result.exhaustive_max_length = length
        if length == max_length:
            break
        states, expected, last = np.concatenate(next_states), np.concatenate(next_elements), np.concatenate(next_last)
        _, keep = np.unique(_row_keys(states, merge), return_index=True)  # states this close run once
        frontier_states, frontier_elements, frontier_last = states[keep], expected[keep], last[keep]
    return True


def _row_keys(states: np.ndarray, merge: float) -> np.ndarray:
    """One opaque byte-string key per row: the state rounded to the grid of spacing `merge`."""
    grid = np.round(states / merge)
    rows = np.ascontiguousarray(np.concatenate([grid.real, grid.imag], axis=1) if np.iscomplexobj(grid) else grid)
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).reshape(-1)


def _random(runner, machine, table, count, length, seed, check, result) -> bool:
    order = len(table)
    rng = np.random.default_rng(seed)
    words = rng.integers(0, order, size=(count, length))
    states = _start_state(runner.steps, machine, count)
    prefix = np.zeros(count, dtype=np.int64)
    for t in range(length):
        states = runner.feed(states, words[:, t])
        prefix = table[prefix, words[:, t]]
        if not check(states, prefix, words[:, t], f"a random word of length {length}"):
            return False
    result.words_random, result.random_length = count, length
    return True


def _reference_agreement(machine: Machine, steps: _Steps, words: list[list[int]], order: int, seed: int) -> float:
    """Max |y - y_reference| over one random token sequence: the runner's outputs against the spec's."""
    rec = machine.rec
    rng = np.random.default_rng(seed + 1)
    start_ids = list(range(len(machine.tokens), len(machine.tokens) + len(machine.start)))
    token_ids = start_ids + [i for element in rng.integers(0, order, size=4) for i in words[element]]
    expected = run_mixer(rec, machine.values, steps.token_vectors[token_ids])
    state, outputs = steps.h0.astype(steps.dtype)[None, :], []
    for token in token_ids:
        state = steps.apply_one(state, token)
        outputs.append(steps.mixer_output(state, np.array([token]))[0])
    return float(np.max(np.abs(np.array(outputs) - expected))) if outputs else 0.0
