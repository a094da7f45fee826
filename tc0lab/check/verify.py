"""Run a witness: does the one-layer model, with the found parameters, solve the word problem?

A witness is a `Machine`: a recurrence with concrete parameter values, one input vector per
generator token, optional start tokens read once, and the state coordinates to decode. A
group element g is fed as its shortest word in the generator tokens, so reading g_1 ... g_n
puts the model in state s(g_1 then ... then g_n) if the model tracks the group.

Decoding is a codebook, built by running the model: code[g] is the (decoded part of the)
state after the start tokens and the word of g. The codebook must be injective (distinct
elements, distinct states), and a state decodes to the expected element when it lies within
a quarter of the codebook's minimum separation of code[expected] (so the expected element is
the unique nearest one). The checks:

- every word of group elements up to length L (L = 3 for S5: 120 + 120^2 + 120^3 words),
  by levels of a prefix tree; states that are bitwise equal are run once (they are the same
  input to a deterministic function), so coverage stays exhaustive;
- 1,000 random words of length 64;
- the batched runner used here against `spec.reference.run_recurrence` on a few token
  sequences, so that what is verified is the spec's own forward pass.

Every step uses the spec's matrices A(x), B(x) x, C(x), D(x) evaluated numerically per token.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from tc0lab.spec.numeric import SparseMatrixFunction, parameter_symbols, parameter_values, point, transition_function, write_function
from tc0lab.groups import close_under_composition
from tc0lab.spec.functions import NUMPY
from tc0lab.spec.recurrence import Recurrence
from tc0lab.spec.reference import run_recurrence

MAX_EXHAUSTIVE_WORDS = 2_000_000


@dataclass(frozen=True, eq=False)
class Machine:
    """A recurrence with concrete parameters, read through a few input tokens."""

    rec: Recurrence
    values: dict  # {Symbol: float}
    tokens: np.ndarray  # (m, d): the input vector of each generator token
    start: np.ndarray  # (s, d): tokens read once before any word
    coordinates: tuple[int, ...]  # the state coordinates that are run
    # decoded value = readout @ state[coordinates]; None: the state itself. A readout lets a
    # state carry more than the element (the Thm 5.1 machine also remembers the last token).
    readout: np.ndarray | None = None


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
    extra: dict = field(default_factory=dict)


class _Steps:
    """Numeric per-token updates restricted to the decoded coordinates."""

    def __init__(self, machine: Machine, coordinates: tuple[int, ...]):
        rec, index = machine.rec, np.array(coordinates)
        all_tokens = np.concatenate([machine.tokens, machine.start]).reshape(-1, rec.d_in)
        A, b = transition_function(rec), write_function(rec)
        parameters = parameter_values(rec, machine.values)
        self.A = np.array([A(point(rec, x, parameters))[np.ix_(index, index)] for x in all_tokens])
        self.b = np.array([b(point(rec, x, parameters))[index, 0] for x in all_tokens])
        self.squash = NUMPY[rec.nonlinearity] if rec.nonlinearity else None
        h0 = np.zeros(rec.state_size) if rec.h0 is None else np.array(
            [complex(e.xreplace({s: machine.values[s] for s in e.free_symbols})) for e in rec.h0])
        self.h0 = h0[index]
        self.dtype = complex if np.iscomplexobj(self.A) or np.iscomplexobj(self.b) or np.any(np.imag(self.h0)) else float
        if self.dtype is float:
            self.h0 = np.real(self.h0)

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


def _shortest_words(table: np.ndarray, generator_ids: tuple[int, ...]) -> list[list[int]]:
    """For every element, a shortest word in the generators (token indices), by BFS."""
    words: list[list[int] | None] = [None] * len(table)
    words[0] = []
    queue = deque([0])
    while queue:
        element = queue.popleft()
        for token, generator in enumerate(generator_ids):
            child = int(table[element, generator])
            if words[child] is None:
                words[child] = words[element] + [token]
                queue.append(child)
    return words  # type: ignore[return-value]


class _WordRunner:
    """Feeds group elements (as token words) to batches of states."""

    def __init__(self, steps: _Steps, words: list[list[int]]):
        self.steps = steps
        longest = max(len(w) for w in words)
        self.padded = np.full((len(words), max(longest, 1)), -1, dtype=np.int64)
        for element, word in enumerate(words):
            self.padded[element, :len(word)] = word

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


def _start_state(steps: _Steps, machine: Machine, batch: int) -> np.ndarray:
    state = np.tile(steps.h0.astype(steps.dtype), (batch, 1))
    for offset in range(len(machine.start)):
        state = steps.apply_one(state, len(machine.tokens) + offset)
    return state


def _separation(codebook: np.ndarray) -> float:
    gaps = np.max(np.abs(codebook[:, None, :] - codebook[None, :, :]), axis=-1)
    np.fill_diagonal(gaps, np.inf)
    return float(gaps.min()) if len(codebook) > 1 else float("inf")


def verify_machine(machine: Machine, permutations: list[np.ndarray], random_words: int = 1000,
                   random_length: int = 64, max_exhaustive_length: int = 3, seed: int = 0,
                   max_order: int = 5040) -> Verification:
    """Check that `machine` computes the word problem of the group the permutations generate."""
    # many small matrix products: BLAS threads only contend with each other on shared cores
    with threadpool_limits(1):
        return _verify(machine, permutations, random_words, random_length, max_exhaustive_length, seed, max_order)


def _verify(machine, permutations, random_words, random_length, max_exhaustive_length, seed, max_order):
    degree = len(permutations[0])
    closure = close_under_composition(np.array(permutations), degree, max_order,
                                      lambda size: ValueError(f"the witness group has more than {size} elements"))
    table, order = closure.table, len(closure.table)
    words = _shortest_words(table, closure.generator_ids)
    steps = _Steps(machine, machine.coordinates)
    runner = _WordRunner(steps, words)
    decode = (lambda states: states) if machine.readout is None else (lambda states: states @ machine.readout.T)
    codebook = decode(runner.feed(_start_state(steps, machine, order), np.arange(order)))
    result = Verification(False, tokens_per_element_max=max(len(w) for w in words))
    result.codebook_separation = _separation(codebook)
    if not result.codebook_separation > 1e-6:
        result.failure = "two group elements lead to the same state (the codebook is not injective)"
        return result
    tolerance = min(result.codebook_separation / 4, 1e-6)

    def check(states: np.ndarray, expected: np.ndarray, what: str) -> bool:
        deviation = float(np.max(np.abs(decode(states) - codebook[expected]))) if len(states) else 0.0
        result.max_deviation = max(result.max_deviation, deviation)
        if deviation > tolerance:
            result.failure = f"{what}: a state is {deviation:.3g} away from its element's code (tolerance {tolerance:.3g})"
        return deviation <= tolerance

    start_states = runner.feed(_start_state(steps, machine, order), np.arange(order))
    if not _exhaustive(runner, start_states, table, max_exhaustive_length, check, result):
        return result
    if not _random(runner, steps, machine, table, random_words, random_length, seed, check, result):
        return result
    result.reference_max_error = _reference_agreement(machine, words, order, seed)
    if not result.reference_max_error <= 1e-9 * max(1.0, float(np.max(np.abs(codebook)))):
        result.failure = f"the batched runner disagrees with spec.reference by {result.reference_max_error:.3g}"
        return result
    result.verified = True
    return result


def _exhaustive(runner, first_states, table, max_length, check, result) -> bool:
    """Every word up to the largest length L <= max_length with order^L words in budget."""
    order = len(table)
    frontier_states, frontier_elements = first_states, np.arange(order)
    result.words_exhaustive, result.exhaustive_max_length = order, 1
    for length in range(2, max_length + 1):
        if result.words_exhaustive + order ** length > MAX_EXHAUSTIVE_WORDS:
            break
        next_states, next_elements = [], []
        for element in range(order):
            states = runner.feed_one(frontier_states, element)
            expected = table[frontier_elements, element]
            if not check(states, expected, f"a word of length {length}"):
                return False
            next_states.append(states)
            next_elements.append(expected)
        result.words_exhaustive += order ** length
        result.exhaustive_max_length = length
        if length == max_length:
            break
        states, elements = np.concatenate(next_states), np.concatenate(next_elements)
        _, keep = np.unique(_row_keys(states), return_index=True)  # bitwise-equal states run once
        frontier_states, frontier_elements = states[keep], elements[keep]
    return True


def _row_keys(states: np.ndarray) -> np.ndarray:
    """One opaque byte-string key per row (fast bitwise-equality dedup)."""
    rows = np.ascontiguousarray(states)
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).reshape(-1)


def _random(runner, steps, machine, table, count, length, seed, check, result) -> bool:
    order = len(table)
    rng = np.random.default_rng(seed)
    words = rng.integers(0, order, size=(count, length))
    states = _start_state(steps, machine, count)
    prefix = np.zeros(count, dtype=np.int64)
    for t in range(length):
        states = runner.feed(states, words[:, t])
        prefix = table[prefix, words[:, t]]
        if not check(states, prefix, f"a random word of length {length}"):
            return False
    result.words_random, result.random_length = count, length
    return True


def _reference_agreement(machine: Machine, words: list[list[int]], order: int, seed: int) -> float:
    """Max |y - y_reference| over one random token sequence, full state, outputs y."""
    rec = machine.rec
    rng = np.random.default_rng(seed + 1)
    token_ids = [i for element in rng.integers(0, order, size=4) for i in words[element]]
    inputs = np.concatenate([machine.start.reshape(-1, rec.d_in), machine.tokens[token_ids].reshape(-1, rec.d_in)])
    expected = run_recurrence(rec, machine.values, inputs)
    full = Machine(rec, machine.values, inputs, np.zeros((0, rec.d_in)), tuple(range(rec.state_size)))
    steps = _Steps(full, full.coordinates)
    symbols = rec.inputs + parameter_symbols(rec)
    C, D = SparseMatrixFunction(rec.C, symbols), SparseMatrixFunction(rec.D, symbols)
    state, outputs = steps.h0.astype(steps.dtype)[None, :], []
    parameters = parameter_values(rec, machine.values)
    for index, x in enumerate(inputs):
        state = steps.apply(state, np.array([index]))
        at = point(rec, x, parameters)
        outputs.append(C(at) @ state[0] + D(at) @ x)
    return float(np.max(np.abs(np.array(outputs) - expected)))
