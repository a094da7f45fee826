"""The length curriculum's search: which runs of one (task, model) climb sweep.lengths, and the
cells they decide (`train.curriculum = true`, the quick preset's protocol). torch-free.

A curriculum run is one (task, model, depth, seed) trained up every length with warm starts
(`RunSpec.lengths`; the training is `run_one` in run.py). It stops at the first length it does
not reach, and its record says `reached_length`, the largest length reached. Like the paper's
upward search, this assumes a depth that cannot reach n cannot reach a longer length either.

Depths and seeds (`CurriculumSearch`): depth 1 seed 0 runs first. The next depth starts once
seed 0 of the depth below stopped short of the longest length. A run that stops short is
retried with the next seed (up to sweep.seeds; rule "best": the depth reaches n when any seed
does) when its failure decides growth: at the smallest depth that reached the shortest length
(or may still), i.e. no shallower depth reached it. Deeper failures only say whether the min
depth at a longer n is L + 1 or more, and are not retried. No depth runs once a shallower one
reached the longest length. The cell of (model, n) is the smallest depth whose seeds reached
n; "not reached" when no depth up to max_layers did. Each stage is also exposed as a record of
its own (`runs.stage_records`) so the report reads curriculum and independent runs alike.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from tc0lab.probe.config import ProbeConfig
from tc0lab.probe.runs import DIVERGED, NOT_REACHED, NOT_RUN, REACHED, Cell, RunSpec, stage_records


@dataclass
class CurriculumSearch:
    """Which curriculum runs of one (task, model) are needed, and the cells they decide."""

    task: str
    model: str
    lengths: tuple[int, ...]
    config: ProbeConfig
    experiment_hash: str
    records: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)

    def candidates(self) -> list[RunSpec]:
        return [RunSpec(self.task, self.model, self.lengths[-1], layers, seed,
                        self.experiment_hash, self.lengths)
                for layers in range(1, self.config.sweep.max_layers + 1)
                for seed in range(self.config.sweep.seeds)]

    def _best_rule(self) -> bool:
        return self.config.sweep.seed_rule == "best"

    def reached_length(self, layers: int) -> int | None:
        """The largest length this depth reached over its seeds (median rule: the median
        seed's); None before any of its runs finished."""
        reached = [record["reached_length"] for (depth, _), record in self.records.items()
                   if depth == layers]
        if not reached:
            return None
        return max(reached) if self._best_rule() else statistics.median_low(reached)

    def _solved_below(self, layers: int) -> bool:
        return any(self.reached_length(depth) == self.lengths[-1] for depth in range(1, layers))

    def _shortest_reached_below(self, layers: int) -> bool:
        return any((self.reached_length(depth) or 0) >= self.lengths[0]
                   for depth in range(1, layers))

    def needs(self, spec: RunSpec) -> bool:
        """False once the run cannot change a cell (see the module docstring)."""
        if self.config.sweep.all_depths:
            return True
        if self._solved_below(spec.layers):
            return False
        if not self._best_rule():
            return True
        if spec.seed > 0 and self._shortest_reached_below(spec.layers):
            return False
        return not any(record["reached_length"] == self.lengths[-1]
                       for (depth, seed), record in self.records.items()
                       if depth == spec.layers and seed < spec.seed)

    def ready(self, spec: RunSpec) -> bool:
        """Whether the run this one depends on finished: the previous seed (rule "best") and
        seed 0 of the depth below. Every run is ready with all_depths."""
        if self.config.sweep.all_depths:
            return True
        previous_seed = spec.seed == 0 or not self._best_rule() or (
            (spec.layers, spec.seed - 1) in self.records)
        depth_below = spec.layers == 1 or (spec.layers - 1, 0) in self.records
        return previous_seed and depth_below

    def cell(self, length: int) -> Cell:
        """The cell of one length, from the runs finished so far."""
        cell = Cell(self.task, self.model, length, status=NOT_REACHED)
        for layers in range(1, self.config.sweep.max_layers + 1):
            reached = self.reached_length(layers)
            if reached is None:
                continue
            cell.tried_layers.append(layers)
            runs = [record for (depth, _), record in sorted(self.records.items())
                    if depth == layers]
            stages = [stage for record in runs for stage in stage_records(record)
                      if stage["length"] == length]
            cell.run_keys += [stage["run_key"] for stage in stages]
            cell.diverged_runs += sum(stage["status"] == DIVERGED for stage in stages)
            if reached >= length:
                cell.status, cell.min_layers = REACHED, layers
                return cell
        if not cell.tried_layers or self._undecided():
            cell.status = NOT_RUN
        elif not cell.run_keys:
            stopped = sorted({self.reached_length(depth) for depth in cell.tried_layers})
            cell.note = ("every run stopped at a shorter length (largest reached: "
                         f"n={', '.join(map(str, stopped))})")
        return cell

    def _undecided(self) -> bool:
        return any(self.needs(spec) and (spec.layers, spec.seed) not in self.records
                   for spec in self.candidates())
