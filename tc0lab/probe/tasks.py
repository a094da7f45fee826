"""Probe tasks: token-tagging problems with fixed evaluation sets (numpy only, no torch).

A task at one length gives everything the training loop needs and nothing model-specific:
`vocab_size`, `n_classes`, `sample_train(batch_size, rng)`, fixed `validation` and `test`
batches, and `at_length(m)` for length extrapolation. A `Batch` carries `inputs`, `targets`
and a boolean `mask` of graded positions, all (B, T); ungraded positions are padding or
positions the task does not ask about. Other tasks register a factory in `TASK_FACTORIES`
(copy, recall, parity and flip-flop do so in selection_tasks.py, whose names may carry options
after ':', e.g. 'recall:pairs=4'); the training loop knows no task by name. When examples have their own
lengths, `Batch.lengths` holds them and `Batch.bin_edges` the bins to report accuracy on.

Word problems (`WordProblem`): the input is g_1 ... g_n, element ids of a finite group from
`tc0lab.groups.parse_group`, and the target at every position t is the prefix product
g_1 then g_2 ... then g_t, where "a then b" = `group.table[a, b]` applies a first (see
tc0lab/groups.py). Identity is element 0. As in the Illusion paper (§6), every length-2 word
is in the training distribution: a fraction of each batch is a uniformly drawn length-2 word,
padded with identity tokens whose positions are not graded (models are causal, so trailing
padding cannot affect graded positions).

Disjointness: when the space of words is at least `DISJOINT_FACTOR` times the two eval sets,
validation and test are sampled without repetition and disjoint from each other; for n > 2
they are also excluded from training by rejecting sampled training words whose key is in the
eval sets. At n = 2 training holds every word (the paper's protocol), so eval sets overlap it.
When the space is smaller, every word is evaluated and trained on. `disjoint` says which.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from tc0lab.groups import FiniteGroup, all_words, parse_group, words_to_csv

DISJOINT_FACTOR = 4
EVAL_SEED_OFFSET = 1_000_003      # eval sets depend on the task seed, never on the run seed


@dataclass(frozen=True)
class Batch:
    """Token-tagging examples: inputs, targets and graded-position mask, each (B, T)."""

    inputs: np.ndarray    # (B, T) int64 token ids
    targets: np.ndarray   # (B, T) int64 class ids
    mask: np.ndarray      # (B, T) bool, True where graded
    lengths: np.ndarray | None = None    # (B,) effective length per example, when they vary
    bin_edges: tuple[int, ...] = ()      # report accuracy per [edge_i, edge_{i+1}) of lengths

    def __len__(self) -> int:
        return int(self.inputs.shape[0])


class Task(Protocol):
    """What the training loop needs from a task at one length."""

    name: str
    length: int
    vocab_size: int
    n_classes: int
    validation: Batch
    test: Batch
    disjoint: bool

    def sample_train(self, batch_size: int, rng: np.random.Generator) -> Batch: ...

    def at_length(self, length: int) -> "Task": ...


def _word_keys(words: np.ndarray, base: int) -> np.ndarray:
    """One uint64 key per word (exact when base**n < 2**64; a wrap-around hash otherwise)."""
    powers = np.ones(words.shape[1], dtype=np.uint64)
    for t in range(words.shape[1] - 2, -1, -1):
        powers[t] = powers[t + 1] * np.uint64(base)          # wraps mod 2**64 by design
    return (words.astype(np.uint64) * powers).sum(axis=1, dtype=np.uint64)


class WordProblem:
    """The word problem of a finite group at length n (token tagging of prefix products)."""

    def __init__(self, group: FiniteGroup, length: int, eval_size: int = 512,
                 short_words_fraction: float = 0.1, seed: int = 0) -> None:
        if length <= 0:
            raise ValueError(f"word length must be > 0, got {length}")
        self.group, self.length, self.eval_size, self.seed = group, length, eval_size, seed
        self.short_words_fraction = short_words_fraction if length > 2 else 0.0
        self.name = group.name
        self.vocab_size = self.n_classes = group.order
        self._short_words = all_words(group, 2) if length > 2 else None
        rng = np.random.default_rng([seed, EVAL_SEED_OFFSET, length])
        if float(group.order) ** length < DISJOINT_FACTOR * 2 * eval_size:
            # too few words to hold some out: evaluate on every word, train on every word
            everything = self.label(all_words(group, length))
            self.validation = self.test = everything
            self._excluded = None
        else:
            eval_words = self._distinct_random_words(2 * eval_size, rng)
            self.validation = self.label(eval_words[:eval_size])
            self.test = self.label(eval_words[eval_size:])
            # length 2: every length-2 word is in training (the paper's protocol) -> overlap
            self._excluded = (np.sort(_word_keys(eval_words, group.order)) if length > 2
                              else None)
        self.disjoint = self._excluded is not None

    def label(self, words: np.ndarray) -> Batch:
        """Words -> Batch with prefix-product targets, every position graded."""
        words = np.asarray(words, dtype=np.int64)
        return Batch(words, self.group.prefix_products(words).astype(np.int64),
                     np.ones(words.shape, dtype=bool))

    def sample_train(self, batch_size: int, rng: np.random.Generator) -> Batch:
        n_short = int(round(batch_size * self.short_words_fraction))
        words = self._training_words(batch_size - n_short, rng)
        batch = self.label(words)
        if n_short == 0:
            return batch
        short = self._short_words[rng.integers(0, len(self._short_words), n_short)]  # (S, 2)
        padded = np.zeros((n_short, self.length), dtype=np.int64)   # identity padding
        padded[:, :2] = short
        mask = np.zeros((n_short, self.length), dtype=bool)
        mask[:, :2] = True
        short_batch = self.label(padded)
        return Batch(np.concatenate([batch.inputs, short_batch.inputs]),
                     np.concatenate([batch.targets, short_batch.targets]),
                     np.concatenate([batch.mask, mask]))

    def at_length(self, length: int) -> "WordProblem":
        """The same task at another length (its own fixed eval sets), for extrapolation."""
        return WordProblem(self.group, length, self.eval_size, self.short_words_fraction,
                           self.seed)

    def to_csv(self, path: str | Path, split: str = "test") -> None:
        """Write a split as CSV (input,target; space-separated element ids)."""
        batch = {"validation": self.validation, "test": self.test}[split]
        words_to_csv(batch.inputs, batch.targets, path)

    def _training_words(self, count: int, rng: np.random.Generator) -> np.ndarray:
        words = rng.integers(0, self.group.order, size=(count, self.length), dtype=np.int64)
        if self._excluded is None:
            return words
        while True:  # reject eval words; expected < 1 round since eval sets are <= 1/4 of space
            clash = np.isin(_word_keys(words, self.group.order), self._excluded)
            if not clash.any():
                return words
            words[clash] = rng.integers(0, self.group.order, size=(int(clash.sum()),
                                                                    self.length))

    def _distinct_random_words(self, count: int, rng: np.random.Generator) -> np.ndarray:
        words = np.empty((0, self.length), dtype=np.int64)
        while len(words) < count:
            fresh = rng.integers(0, self.group.order, size=(count, self.length), dtype=np.int64)
            words = np.concatenate([words, fresh])
            _, first = np.unique(_word_keys(words, self.group.order), return_index=True)
            words = words[np.sort(first)]
        return words[:count]


TaskFactory = Callable[[str, int, int, float, int], Task]


def _word_problem_factory(name: str, length: int, eval_size: int,
                          short_words_fraction: float, seed: int) -> Task:
    return WordProblem(parse_group(name), length, eval_size, short_words_fraction, seed)


# named tasks (copy, recall, parity, flipflop) register here; any other name is a group
TASK_FACTORIES: dict[str, TaskFactory] = {}


def _registered(name: str) -> str | None:
    """The registered base name of 'recall:pairs=4' ('recall'), or None for a group."""
    base = name.strip().lower().partition(":")[0]
    return base if base in TASK_FACTORIES else None


def canonical_task_name(name: str) -> str:
    """'s5' -> 'S5', 'a4_x_z5' -> 'A4xZ5'; a registered task name (with its options, e.g.
    'Recall:vocab=16') is normalised by its module and validated."""
    if _registered(name):
        from tc0lab.probe.selection_tasks import canonical_selection_name
        return canonical_selection_name(name)
    return parse_group(name).name


def make_task(name: str, length: int, eval_size: int = 512, short_words_fraction: float = 0.1,
              seed: int = 0) -> Task:
    """A registered task by name, otherwise the word problem of the group `name`."""
    base = _registered(name)
    factory = TASK_FACTORIES[base] if base else _word_problem_factory
    return factory(name, length, eval_size, short_words_fraction, seed)


from tc0lab.probe import selection_tasks  # noqa: E402,F401  (registers copy/recall/parity/flipflop)
