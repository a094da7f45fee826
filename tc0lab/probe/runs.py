"""Run identity and results, torch-free: `RunSpec` (one training run and its key), the statuses
of a run's record, a curriculum record's stages, and `Cell` (the measured min depth of one
(task, model, length)).

Every run is identified by a stable `RunSpec.key` (task, model, n, L, seed, experiment hash);
a curriculum run (`RunSpec.lengths`, curriculum.py) climbs several lengths and its key names
them all. Its record keeps one stage per length; `stage_records` exposes each stage as a
record of its own (key `<run key>@n=<length>`), so the report reads curriculum and
independent runs alike.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# the status of a stored run
REACHED = "reached"
NOT_REACHED = "not reached within budget"
DIVERGED = "diverged"
CUT = "cut by sweep time budget"      # never stored: the run did not get its full budget
NOT_RUN = "not run (sweep time budget)"   # a cell's status: no run decided it

STAGE_SEPARATOR = "@n="


@dataclass(frozen=True)
class RunSpec:
    """One training run of the grid; everything else comes from the config."""

    task: str
    model: str
    length: int
    layers: int
    seed: int
    experiment_hash: str
    lengths: tuple[int, ...] = ()   # a curriculum run (curriculum.py) climbs these lengths

    def __post_init__(self) -> None:
        object.__setattr__(self, "lengths", tuple(self.lengths))   # JSON gives a list

    @property
    def key(self) -> str:
        lengths = ",".join(map(str, self.lengths)) if self.lengths else self.length
        return (f"{self.task}/{self.model}/n={lengths}/L={self.layers}/seed={self.seed}"
                f"/{self.experiment_hash}")


@dataclass
class Cell:
    """The measured min depth of one (task, model, length)."""

    task: str
    model: str
    length: int
    status: str                     # REACHED | NOT_REACHED | NOT_RUN
    min_layers: int | None = None   # only when status is REACHED
    tried_layers: list[int] = field(default_factory=list)
    run_keys: list[str] = field(default_factory=list)
    diverged_runs: int = 0
    note: str = ""                  # e.g. why a curriculum cell has no run at this length


def stage_key(run_key: str, length: int) -> str:
    return f"{run_key}{STAGE_SEPARATOR}{length}"


def stage_records(record: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per stage of a curriculum record, shaped like an independent run's."""
    shared = {key: record[key] for key in ("task", "model", "layers", "seed", "params",
                                           "experiment_hash")}
    return [{**shared, **stage, "run_key": stage_key(record["run_key"], stage["length"]),
             "curriculum_run": record["run_key"]} for stage in record.get("stages", [])]


def expanded_records(records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The store's records plus one record per curriculum stage (keyed by stage_key)."""
    expanded = dict(records)
    for record in records.values():
        expanded.update((stage["run_key"], stage) for stage in stage_records(record))
    return expanded
