"""What a probe task gives the training loop: a `Batch` of examples and the `Task` protocol.

A task at one length gives everything the training loop needs and nothing model-specific:
`vocab_size`, `n_classes`, `sample_train(batch_size, rng)`, fixed `validation` and `test`
batches, and `at_length(m)` for length extrapolation. A `Batch` carries `inputs`, `targets`
and a boolean `mask` of graded positions, all (B, T); ungraded positions are padding or
positions the task does not ask about. When examples have their own lengths, `Batch.lengths`
holds them and `Batch.bin_edges` the bins to report accuracy on. numpy only, no torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

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
