"""Word problems of finite groups as probe tasks (numpy only, no torch).

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
from typing import Any

import numpy as np

from tc0lab.groups import FiniteGroup, all_words, parse_group, words_to_csv
from tc0lab.probe.batches import EVAL_SEED_OFFSET, Batch

DISJOINT_FACTOR = 4
EXHAUSTIVE_WORD_CAP = 20_000_000  # strict split: sample instead of listing more words than this


def _word_keys(words: np.ndarray, base: int) -> np.ndarray:
    """One uint64 key per word (exact when base**n < 2**64; a wrap-around hash otherwise)."""
    powers = np.ones(words.shape[1], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for t in range(words.shape[1] - 2, -1, -1):
            powers[t] = powers[t + 1] * np.uint64(base)      # wraps mod 2**64 by design
    return (words.astype(np.uint64) * powers).sum(axis=1, dtype=np.uint64)


@dataclass(frozen=True)
class StrictSplit:
    """The paper's fixed dataset per length (jopetty/word-problem, `--strict_len`): every word
    when length <= exhaustive_max_length, else `dataset_size` distinct sampled words; a random
    `train_share` of them plus every length-2 word is the training set, the rest is validation
    (also used as the test set: the paper has no third split)."""

    dataset_size: int = 1_000_000
    exhaustive_max_length: int = 3
    train_share: float = 0.8


def strict_split(settings: Any) -> StrictSplit | None:
    """The StrictSplit of a TaskSettings with strict_length, else None (fresh samples)."""
    if not settings.strict_length:
        return None
    return StrictSplit(settings.dataset_size, settings.exhaustive_max_length)


class WordProblem:
    """The word problem of a finite group at length n (token tagging of prefix products)."""

    def __init__(self, group: FiniteGroup, length: int, eval_size: int = 512,
                 short_words_fraction: float = 0.1, seed: int = 0,
                 split: StrictSplit | None = None) -> None:
        if length <= 0:
            raise ValueError(f"word length must be > 0, got {length}")
        self.group, self.length, self.eval_size, self.seed = group, length, eval_size, seed
        self.split = split
        self.short_words_fraction = short_words_fraction if length > 2 else 0.0
        self.name = group.name
        self.vocab_size = self.n_classes = group.order
        self._short_words = all_words(group, 2) if length > 2 else None
        self._fixed_train: Batch | None = None
        rng = np.random.default_rng([seed, EVAL_SEED_OFFSET, length])
        if split is not None:
            self._make_fixed_dataset(split, rng)
        elif word_count(group.order, length) < DISJOINT_FACTOR * 2 * eval_size:
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
        self.disjoint = self._excluded is not None or (split is not None and length > 2)

    def label(self, words: np.ndarray) -> Batch:
        """Words -> Batch with prefix-product targets, every position graded."""
        words = np.asarray(words, dtype=np.int64)
        return Batch(words, self.group.prefix_products(words).astype(np.int64),
                     np.ones(words.shape, dtype=bool))

    def sample_train(self, batch_size: int, rng: np.random.Generator) -> Batch:
        if self._fixed_train is not None:
            return self._next_fixed_batch(batch_size, rng)
        n_short = int(round(batch_size * self.short_words_fraction))
        batch = self.label(self._training_words(batch_size - n_short, rng))
        if n_short == 0:
            return batch
        short = self._short_words[rng.integers(0, len(self._short_words), n_short)]  # (S, 2)
        return _concatenated(batch, self._padded(short))

    def steps_per_epoch(self, batch_size: int) -> int:
        """Batches in one pass over the fixed training set; 0 without one (fresh samples)."""
        if self._fixed_train is None:
            return 0
        return -(-len(self._fixed_train) // batch_size)

    def at_length(self, length: int) -> "WordProblem":
        """The same task at another length (its own fixed eval sets), for extrapolation."""
        return WordProblem(self.group, length, self.eval_size, self.short_words_fraction,
                           self.seed, self.split)

    def _padded(self, short: np.ndarray) -> Batch:
        """Length-2 words padded with identity tokens to this length, padding not graded."""
        padded = np.zeros((len(short), self.length), dtype=np.int64)
        padded[:, :2] = short
        mask = np.zeros(padded.shape, dtype=bool)
        mask[:, :2] = True
        return Batch(padded, self.label(padded).targets, mask)

    def _make_fixed_dataset(self, split: StrictSplit, rng: np.random.Generator) -> None:
        count = word_count(self.group.order, self.length)
        if self.length <= split.exhaustive_max_length and count <= EXHAUSTIVE_WORD_CAP:
            words = rng.permutation(all_words(self.group, self.length))
        else:
            words = self._distinct_random_words(int(min(split.dataset_size, count)), rng)
        cut = int(round(split.train_share * len(words)))
        self.validation = self.test = self.label(words[cut:])
        train = self.label(words[:cut])
        if self.length > 2:
            train = _concatenated(train, self._padded(all_words(self.group, 2)))
        else:
            train = _concatenated(train, self.label(all_words(self.group, 2)))
        self._fixed_train, self._excluded = train, None
        self._order, self._cursor = np.empty(0, dtype=np.int64), 0

    def _next_fixed_batch(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """The next batch of a shuffled pass over the fixed training set (epochs)."""
        if self._cursor >= len(self._order):
            self._order, self._cursor = rng.permutation(len(self._fixed_train)), 0
        chosen = self._order[self._cursor:self._cursor + batch_size]
        self._cursor += batch_size
        train = self._fixed_train
        return Batch(train.inputs[chosen], train.targets[chosen], train.mask[chosen])

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


def word_count(order: int, length: int) -> int:
    """|G|^length as an exact integer (no float overflow at any length)."""
    return order ** length


def _concatenated(first: Batch, second: Batch) -> Batch:
    return Batch(*(np.concatenate([a, b]) for a, b in
                   ((first.inputs, second.inputs), (first.targets, second.targets),
                    (first.mask, second.mask))))


def make_word_problem(name: str, length: int, eval_size: int = 512,
                      short_words_fraction: float = 0.1, seed: int = 0,
                      split: StrictSplit | None = None) -> WordProblem:
    """The word problem of the group `name` (tc0lab.groups.parse_group) at one length."""
    return WordProblem(parse_group(name), length, eval_size, short_words_fraction, seed, split)
