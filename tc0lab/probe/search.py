"""The upward search of one (task, model, length): the smallest depth L that reaches the target
(Illusion of State §6, Fig. 3), fed by run records as they arrive. torch-free.

Layers are tried upward from `start` (the previous length's answer for that model, see
sweep.py) up to `max_layers`. Seeds: for each (n, L), seeds 0..seeds-1. Rule "best" (default):
L counts as solving n if ANY seed reaches the target on the test set (later seeds are skipped
once one reaches). Rule "median": all seeds run and L counts if the median test full-sequence
accuracy reaches it. The cell is decided exactly as a serial search would decide it, whatever
order the runs finished in.

With `sweep.all_depths` every depth start..max_layers runs for every seed; the cell is still
decided from those runs exactly as the upward search decides it (the smallest depth that
reaches), and the runs beyond the answer are cited by the cell too.

A search offers `candidates()` (every run it may need, shallowest first), `ready(spec)` (may it
start now), `needs(spec)` (can it still change the cell) and its cell: the interface the
sweep's wave scheduler drives, shared with the curriculum's search (curriculum.py).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from tc0lab.probe.config import ProbeConfig
from tc0lab.probe.runs import DIVERGED, NOT_REACHED, NOT_RUN, REACHED, Cell, RunSpec


@dataclass
class CellSearch:
    """The upward search of one (task, model, length), fed by records as they arrive."""

    task: str
    model: str
    length: int
    start: int
    config: ProbeConfig
    experiment_hash: str
    records: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)

    def candidates(self) -> list[RunSpec]:
        """Every run the search may need, shallowest first (the order of the serial search)."""
        return [RunSpec(self.task, self.model, self.length, layers, seed, self.experiment_hash)
                for layers in range(self.start, self.config.sweep.max_layers + 1)
                for seed in range(self.config.sweep.seeds)]

    def decided(self) -> Cell | None:
        """The cell once the records decide it exactly as the serial search would, else None.

        Depths are read upward and seeds in order, so the cell (and the runs it cites) does not
        depend on which runs happened to finish first. With all_depths the cell waits for every
        candidate run and also cites (and lists the depths of) the runs beyond its answer."""
        cell = self._upward_answer()
        if cell is None or not self.config.sweep.all_depths:
            return cell
        specs = self.candidates()
        if any((spec.layers, spec.seed) not in self.records for spec in specs):
            return None
        extra = [self.records[(spec.layers, spec.seed)] for spec in specs
                 if self.records[(spec.layers, spec.seed)]["run_key"] not in cell.run_keys]
        cell.run_keys += [record["run_key"] for record in extra]
        cell.diverged_runs += sum(r["status"] == DIVERGED for r in extra)
        cell.tried_layers = sorted({*cell.tried_layers, *(r["layers"] for r in extra)})
        return cell

    def _upward_answer(self) -> Cell | None:
        cell = Cell(self.task, self.model, self.length, status=NOT_REACHED)
        target = self.config.settings_for(self.model)[0].target_accuracy
        for layers in range(self.start, self.config.sweep.max_layers + 1):
            used = self._records_deciding(layers)
            if used is None:
                return None
            cell.tried_layers.append(layers)
            cell.run_keys += [record["run_key"] for record in used]
            cell.diverged_runs += sum(r["status"] == DIVERGED for r in used)
            if depth_solves(used, self.config.sweep.seed_rule, target):
                cell.status, cell.min_layers = REACHED, layers
                return cell
        return cell

    def _records_deciding(self, layers: int) -> list[dict[str, Any]] | None:
        used = []
        for seed in range(self.config.sweep.seeds):
            record = self.records.get((layers, seed))
            if record is None:
                return None
            used.append(record)
            if self.config.sweep.seed_rule == "best" and record["status"] == REACHED:
                break
        return used

    def ready(self, spec: RunSpec) -> bool:
        """Every candidate may start at once (the wave's order keeps it shallowest first)."""
        return True

    def needs(self, spec: RunSpec) -> bool:
        """False once the run cannot change the answer (a shallower depth or seed solved);
        always True with all_depths, where every candidate runs."""
        if self.config.sweep.all_depths:
            return True
        if self.decided() is not None:
            return False
        best = self.config.sweep.seed_rule == "best"
        for (layers, seed), record in self.records.items():
            if record["status"] == REACHED and best and (
                    layers < spec.layers or (layers == spec.layers and seed < spec.seed)):
                return False
        return True

    def cell(self) -> Cell:
        """The decided cell, or NOT_RUN while it is undecided (cut by the time budget)."""
        return self.decided() or Cell(self.task, self.model, self.length, NOT_RUN)


def depth_solves(records: list[dict[str, Any]], seed_rule: str, target: float) -> bool:
    """Whether these seeds' runs at one depth count as solving the length."""
    if seed_rule == "best":
        return any(record["status"] == REACHED for record in records)
    accuracies = [record["test"]["full_sequence"] if record["status"] != DIVERGED
                  else 0.0 for record in records]
    return statistics.median(accuracies) >= target
