"""Token-selection and formal-language probe tasks: copy, recall, parity, flip-flop (numpy only).

Each task tags tokens like the word problems (word_problems.py): a `Batch` of inputs, targets and a
mask of graded positions, with fixed validation and test sets. What is new here is that every
example has its own length L, drawn uniformly from the valid lengths in [min_length, n] (copy:
odd, flip-flop: even, otherwise any); the rest of the
row is padding (token 0, never graded; models are causal so trailing padding is harmless).
`Batch.lengths` holds L per example so that accuracy can be reported per length bin.

Length extrapolation: `at_length(m)` (m > n) is a task whose test set holds lengths in
(n, m] (or (n, test] with the `test=` option), binned in `EXTRAPOLATION_BINS` equal bins; it
is the same task (same vocabulary and classes), so a model trained at n can be evaluated there.

Tasks and their options (given in the task name, separated by ':' since ',' separates tasks
on the command line, e.g. `recall:pairs=4:vocab=16`):
- copy      x_1..x_s SEP _.._ ; at the s blanks after SEP the target is x_1..x_s (graded there
            only). L = 2s + 1. Options: vocab (data symbols, >= 2), min, test.
- recall    k_1 v_1 .. k_K v_K q_1 .. q_Q, multi-query associative recall: keys distinct, each
            query is one of the K keys and its target is that key's value (graded only at
            queries). Keys and values use disjoint halves of the vocabulary. Options: vocab
            (>= 2 * pairs), pairs (K, 2K + 1 <= n), min, test.
- parity    bits; target = parity of the prefix, graded at every position (grade=all) or only
            at the last one (grade=end). Options: grade, min, test.
- flipflop  instruction/data pairs (Liu et al. 2023): write w.p. 0.1, ignore 0.8, read 0.1,
            the first a write; at a read instruction the target is the last written symbol
            (graded only at reads; the data token after a read repeats it). Options: vocab, min,
            test.

Evaluation sets are drawn from a seed fixed by the task (not the run), without a guarantee of
disjointness from training (`disjoint = False`): the spaces are huge, so collisions are rare
but possible, and we say so instead of claiming otherwise.

A new selection task is a subclass of `SelectionTask` (its `kind`, `allowed_options` and
`_examples`) listed in `SELECTION_TASKS`; the task registry (tasks.py) names every kind.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tc0lab.probe.batches import EVAL_SEED_OFFSET, Batch

EXTRAPOLATION_BINS = 4
FLIPFLOP_PROBABILITIES = (0.1, 0.8, 0.1)     # write, ignore, read (Liu et al. 2023)


@dataclass(frozen=True)
class TaskOptions:
    """Options of a selection task; `None` means the task's default."""

    vocab: int | None = None
    pairs: int | None = None
    grade: str | None = None
    min: int | None = None
    test: int | None = None

    def text(self) -> str:
        return ":".join(f"{key}={value}" for key, value in vars(self).items()
                        if value is not None)


def parse_task_name(name: str) -> tuple[str, TaskOptions]:
    """'recall:pairs=4:vocab=16' -> ('recall', TaskOptions(vocab=16, pairs=4))."""
    base, _, rest = name.strip().lower().partition(":")
    if base not in SELECTION_TASKS:
        raise ValueError(f"unknown selection task {base!r} (known: {', '.join(SELECTION_TASKS)})")
    allowed = SELECTION_TASKS[base].allowed_options
    values: dict[str, int | str] = {}
    for part in filter(None, (p.strip() for p in rest.split(":"))):
        key, separator, text = part.partition("=")
        if not separator or key not in allowed:
            raise ValueError(f"bad option {part!r} for task {base!r}; options are "
                             f"{', '.join(sorted(allowed))} as key=value")
        values[key] = text if key == "grade" else _positive_int(key, text)
    if values.get("grade", "all") not in ("all", "end"):
        raise ValueError(f"parity grade must be 'all' or 'end', got {values['grade']!r}")
    return base, TaskOptions(**values)


def canonical_selection_name(name: str) -> str:
    """The normalised spelling of a selection task name, e.g. 'Recall:vocab=16' -> 'recall:vocab=16'."""
    base, options = parse_task_name(name)
    return f"{base}:{options.text()}" if options.text() else base


def _positive_int(key: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"option {key} must be an integer, got {text!r}") from None
    if value < 1:
        raise ValueError(f"option {key} must be >= 1, got {value}")
    return value


class SelectionTask:
    """A selection task at training length n; subclasses define the examples."""

    kind = ""
    allowed_options: frozenset[str] = frozenset({"vocab", "min", "test"})   # of TaskOptions
    default_vocab = 2
    smallest_length = 1
    length_step, length_parity = 1, 0      # valid lengths L: L % step == parity % step

    def __init__(self, options: TaskOptions, length: int, eval_size: int = 512, seed: int = 0,
                 train_length: int | None = None) -> None:
        self.options, self.length, self.eval_size, self.seed = options, length, eval_size, seed
        self.train_length = train_length          # set on an extrapolation task
        self.vocab = options.vocab or self.default_vocab
        self.min_length = options.min or self.smallest_length
        self.name = canonical_selection_name(f"{self.kind}:{options.text()}")
        self._validate()
        self.disjoint = False
        rng = np.random.default_rng([seed, EVAL_SEED_OFFSET, length, train_length or 0])
        low, edges = self._eval_range()
        self.validation = self._batch(self._lengths(eval_size, rng, low), rng, edges)
        self.test = self._batch(self._lengths(eval_size, rng, low), rng, edges)

    # the vocabulary and classes; subclasses override
    vocab_size = property(lambda self: self.vocab)
    n_classes = property(lambda self: self.vocab)

    def _validate(self) -> None:
        if self.vocab < 2:
            raise ValueError(f"{self.kind}: a vocabulary of {self.vocab} symbol(s) is too small; "
                             f"give vocab >= 2")
        if self.length < self.smallest_length:
            raise ValueError(f"{self.kind}: length {self.length} is too short; the shortest "
                             f"example has length {self.smallest_length}")
        if self.min_length > self.length:
            raise ValueError(f"{self.kind}: min length {self.min_length} exceeds the training "
                             f"length {self.length}")

    def _eval_range(self) -> tuple[int, tuple[int, ...]]:
        """The lowest eval length and the bin edges (empty at the training length)."""
        if self.train_length is None:
            return self.min_length, ()
        low = self.train_length + 1
        edges = np.linspace(low, self.length + 1, EXTRAPOLATION_BINS + 1).round().astype(int)
        return low, tuple(int(edge) for edge in np.unique(edges))

    def _lengths(self, count: int, rng: np.random.Generator, low: int) -> np.ndarray:
        """Uniform over the valid example lengths in [low, n] (copy: odd; flip-flop: even)."""
        valid = [size for size in range(low, self.length + 1)
                 if size % self.length_step == self.length_parity % self.length_step]
        if not valid:
            raise ValueError(f"{self.kind}: no valid example length in [{low}, {self.length}]; "
                             f"give a longer length")
        return rng.choice(np.array(valid), size=count)

    def sample_train(self, batch_size: int, rng: np.random.Generator) -> Batch:
        return self._batch(self._lengths(batch_size, rng, self.min_length), rng, ())

    def at_length(self, length: int) -> "SelectionTask":
        """The same task tested on lengths in (n, length] (or (n, test] with the test option)."""
        if self.train_length is not None:
            raise ValueError("at_length of an extrapolation task: call it on the training task")
        target = self.options.test or length
        if target <= self.length:
            raise ValueError(f"{self.kind}: test length {target} is not longer than the "
                             f"training length {self.length}; extrapolation needs a longer one")
        return type(self)(self.options, target, self.eval_size, self.seed,
                          train_length=self.length)

    def _batch(self, lengths: np.ndarray, rng: np.random.Generator,
               edges: tuple[int, ...]) -> Batch:
        inputs, targets, mask = self._examples(lengths, rng)
        inside = np.arange(self.length)[None, :] < lengths[:, None]
        return Batch(np.where(inside, inputs, 0).astype(np.int64),
                     np.where(inside, targets, 0).astype(np.int64),
                     mask & inside, lengths=lengths.astype(np.int64), bin_edges=edges)

    def _examples(self, lengths: np.ndarray,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError


class CopyTask(SelectionTask):
    """x_1..x_s SEP blanks; the blanks are tagged with x_1..x_s."""

    kind, default_vocab, smallest_length = "copy", 8, 3
    vocab_size = property(lambda self: self.vocab + 2)    # + separator + blank

    length_step, length_parity = 2, 1                   # odd: s symbols, SEP, s blanks

    def _examples(self, lengths, rng):
        count, positions = len(lengths), np.arange(self.length)[None, :]
        symbols = rng.integers(0, self.vocab, size=(count, self.length))
        half = ((lengths - 1) // 2)[:, None]               # s per example, (B, 1)
        source = positions - half - 1                       # which symbol a blank copies
        mask = (source >= 0) & (source < half)
        targets = np.where(mask, np.take_along_axis(symbols, np.clip(source, 0, None), 1), 0)
        inputs = np.where(positions < half, symbols,
                          np.where(positions == half, self.vocab, self.vocab + 1))
        return inputs, targets, mask


class RecallTask(SelectionTask):
    """k_1 v_1 .. k_K v_K then queries (keys); a query is tagged with its key's value."""

    kind, default_vocab = "recall", 16
    allowed_options = frozenset({"vocab", "pairs", "min", "test"})

    def __init__(self, options: TaskOptions, *args, **kwargs) -> None:
        self.pairs = options.pairs or 4
        self.smallest_length = 2 * self.pairs + 1
        super().__init__(options, *args, **kwargs)

    keys = property(lambda self: self.vocab // 2)
    n_classes = property(lambda self: self.vocab - self.vocab // 2)

    def _validate(self) -> None:
        if self.keys < self.pairs:
            raise ValueError(f"recall: a vocabulary of {self.vocab} symbols has {self.keys} keys, "
                             f"too few for {self.pairs} distinct keys; give vocab >= "
                             f"{2 * self.pairs}")
        if 2 * self.pairs + 1 > self.length:
            raise ValueError(f"recall: {self.pairs} key-value pairs do not fit in length "
                             f"{self.length} (they need length >= {2 * self.pairs + 1}, one "
                             f"query included)")
        super()._validate()

    def _examples(self, lengths, rng):
        count, positions = len(lengths), np.arange(self.length)[None, :]
        keys = np.argsort(rng.random((count, self.keys)), axis=1)[:, :self.pairs]   # distinct
        values = rng.integers(0, self.n_classes, size=(count, self.pairs))
        pair = np.minimum(positions // 2, self.pairs - 1)
        pair = np.broadcast_to(pair, (count, self.length))
        in_prefix = positions < 2 * self.pairs
        pair_tokens = np.where(positions % 2 == 0, np.take_along_axis(keys, pair, 1),
                               self.keys + np.take_along_axis(values, pair, 1))
        asked = rng.integers(0, self.pairs, size=(count, self.length))
        inputs = np.where(in_prefix, pair_tokens, np.take_along_axis(keys, asked, 1))
        mask = np.broadcast_to(~in_prefix, (count, self.length))
        targets = np.where(mask, np.take_along_axis(values, asked, 1), 0)
        return inputs, targets, mask.copy()


class ParityTask(SelectionTask):
    """Bits tagged with the parity of the prefix (every position, or only the last)."""

    kind, default_vocab, smallest_length = "parity", 2, 1
    allowed_options = frozenset({"grade", "min", "test"})

    def _validate(self) -> None:
        if self.options.vocab is not None:
            raise ValueError("parity: the vocabulary is the two bits; no vocab option")
        super()._validate()

    def _examples(self, lengths, rng):
        bits = rng.integers(0, 2, size=(len(lengths), self.length))
        targets = np.cumsum(bits, axis=1) % 2
        positions = np.arange(self.length)[None, :]
        if self.options.grade == "end":
            mask = positions == (lengths[:, None] - 1)
        else:
            mask = np.ones_like(bits, dtype=bool)
        return bits, targets, mask


class FlipFlopTask(SelectionTask):
    """Instruction/data pairs; at each read the target is the last written symbol."""

    kind, default_vocab, smallest_length = "flipflop", 2, 2
    vocab_size = property(lambda self: self.vocab + 3)   # + write, ignore, read

    length_step, length_parity = 2, 0                   # whole instruction/data pairs

    def _examples(self, lengths, rng):
        count, pairs = len(lengths), (self.length + 1) // 2
        write, ignore, read = self.vocab, self.vocab + 1, self.vocab + 2
        instructions = rng.choice([write, ignore, read], p=FLIPFLOP_PROBABILITIES,
                                  size=(count, pairs))
        instructions[:, 0] = write
        data = rng.integers(0, self.vocab, size=(count, pairs))
        index = np.arange(pairs)[None, :]
        last_write = np.maximum.accumulate(np.where(instructions == write, index, 0), axis=1)
        remembered = np.take_along_axis(data, last_write, 1)
        is_read = instructions == read
        data = np.where(is_read, remembered, data)        # a read is followed by its answer
        inputs = np.stack([instructions, data], axis=2).reshape(count, 2 * pairs)
        targets = np.stack([remembered, np.zeros_like(data)], axis=2).reshape(count, 2 * pairs)
        mask = np.stack([is_read, np.zeros_like(is_read)], axis=2).reshape(count, 2 * pairs)
        return (inputs[:, :self.length], targets[:, :self.length], mask[:, :self.length])


SELECTION_TASKS: dict[str, type[SelectionTask]] = {
    cls.kind: cls for cls in (CopyTask, RecallTask, ParityTask, FlipFlopTask)}


def make_selection_task(name: str, length: int, eval_size: int = 512,
                        short_words_fraction: float = 0.0, seed: int = 0) -> SelectionTask:
    """A selection task from its name with options (short_words_fraction does not apply)."""
    base, options = parse_task_name(name)
    if options.test is not None and options.test <= length:
        raise ValueError(f"{base}: test length {options.test} is shorter than or equal to the "
                         f"training length {length}; extrapolation needs a longer one")
    return SELECTION_TASKS[base](options, length, eval_size, seed)
