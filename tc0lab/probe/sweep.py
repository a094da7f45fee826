"""The min-depth sweep (Illusion of State §6, Fig. 3): smallest L that reaches the target.

For each task, length n (ascending) and model, layers L are tried upward from the previous
length's answer for that model (the paper's shortcut: the min depth is assumed not to shrink as
n grows), up to `max_layers`. After a "not reached" at n, the next length starts at
`max_layers` (one run per later length, so a lucky later success still shows). The loop is
length-major (all models at n before any at 2n) so that a sweep cut by its time budget has
covered every model at the short lengths.

Seeds: for each (n, L), seeds 0..seeds-1. Rule "best" (default): L counts as solving n if ANY
seed reaches the target on the test set (later seeds are skipped once one reaches). Rule
"median": all seeds run and L counts if the median test full-sequence accuracy reaches it.

Every run is identified by a stable `RunSpec.key` (task, model, n, L, seed, experiment hash)
and executed by `run_one(spec, config, ...)`, which needs nothing else, so a parallel or Slurm
launcher can run runs as independent jobs. Finished runs are looked up in the results store
before running (resume). A run cut by the sweep's time budget is not stored.
"""
from __future__ import annotations

import dataclasses
import datetime
import importlib.metadata
import math
import platform
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import torch

from tc0lab.probe import train as training
from tc0lab.probe.config import ProbeConfig
from tc0lab.probe.results import ResultsStore
from tc0lab.probe.tasks import make_task

NOT_RUN = "not run (sweep time budget)"


@dataclass(frozen=True)
class RunSpec:
    """One training run of the grid; everything else comes from the config."""

    task: str
    model: str
    length: int
    layers: int
    seed: int
    experiment_hash: str

    @property
    def key(self) -> str:
        return (f"{self.task}/{self.model}/n={self.length}/L={self.layers}/seed={self.seed}"
                f"/{self.experiment_hash}")


@dataclass
class Cell:
    """The measured min depth of one (task, model, length)."""

    task: str
    model: str
    length: int
    status: str                     # training.REACHED | training.NOT_REACHED | NOT_RUN
    min_layers: int | None = None   # only when status is REACHED
    tried_layers: list[int] = field(default_factory=list)
    run_keys: list[str] = field(default_factory=list)
    diverged_runs: int = 0


class SweepProgress(Protocol):
    def run_started(self, spec: RunSpec, max_steps: int) -> None: ...
    def step(self, step: int, loss: float) -> None: ...
    def run_finished(self, spec: RunSpec, record: dict[str, Any], resumed: bool) -> None: ...
    def cell_finished(self, cell: Cell) -> None: ...


class SilentProgress:
    def run_started(self, spec: RunSpec, max_steps: int) -> None: pass
    def step(self, step: int, loss: float) -> None: pass
    def run_finished(self, spec: RunSpec, record: dict[str, Any], resumed: bool) -> None: pass
    def cell_finished(self, cell: Cell) -> None: pass


# ---------------------------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------------------------

def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA when available, else CPU; anything else must be a usable torch device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available here")
    return device


def build_run_model(spec: RunSpec, config: ProbeConfig, vocab_size: int, n_classes: int,
                    max_len: int) -> torch.nn.Module:
    """The model of a run, seeded, via tc0lab.probe.models.build_model."""
    from tc0lab.probe.models import ModelConfig, build_model, width_for_params
    _, settings = config.settings_for(spec.model)
    shape = {"max_len": max_len, "positions": settings.positions,
             "beta_max": settings.beta_max, "scan": settings.scan}
    d_model = settings.d_model
    if settings.params > 0:   # params is per layer, as in the paper (~3.1M per layer)
        d_model = width_for_params(spec.model, spec.layers, settings.params * spec.layers,
                                   vocab_size, n_classes, d_state=settings.d_state, **shape)
    torch.manual_seed(spec.seed)
    return build_model(ModelConfig(name=spec.model, vocab_size=vocab_size, n_classes=n_classes,
                                   layers=spec.layers, d_model=d_model, d_state=settings.d_state,
                                   **shape))


def run_one(spec: RunSpec, config: ProbeConfig, device: torch.device,
            deadline: float | None = None,
            on_step: Callable[[int, float], None] | None = None) -> dict[str, Any]:
    """Train one run and return its results record (not yet stored)."""
    train_settings, _ = config.settings_for(spec.model)
    task_settings = config.task
    task = make_task(spec.task, spec.length, task_settings.eval_size,
                     task_settings.short_words_fraction, seed=0)
    factor = task_settings.extrapolation_factor
    long_task = task.at_length(spec.length * factor) if factor else None
    model = build_run_model(spec, config, task.vocab_size, task.n_classes,
                            max_len=spec.length * max(factor, 1))
    result = training.train(model, task, train_settings, seed=spec.seed, device=device,
                            deadline=deadline, extrapolation_task=long_task, on_step=on_step)
    return make_record(spec, config, result, model, device, task.disjoint)


def make_record(spec: RunSpec, config: ProbeConfig, result: training.TrainResult,
                model: torch.nn.Module, device: torch.device,
                disjoint_eval: bool) -> dict[str, Any]:
    train_settings, model_settings = config.settings_for(spec.model)
    accuracies = {name: dataclasses.asdict(value) if value is not None else None
                  for name, value in (("validation", result.validation), ("test", result.test),
                                      ("extrapolation", result.extrapolation))}
    return {"run_key": spec.key, **dataclasses.asdict(spec),
            "status": result.status, "stop_reason": result.stop_reason,
            "steps": result.steps, "seconds": round(result.seconds, 3),
            "final_loss": result.final_loss if math.isfinite(result.final_loss) else None,
            **accuracies, "disjoint_eval": disjoint_eval,
            "params": sum(p.numel() for p in model.parameters()),
            "device": str(device), "torch_threads": torch.get_num_threads(),
            "torch_version": torch.__version__, "tc0lab_version": _tc0lab_version(),
            "python_version": platform.python_version(),
            "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "config": {"train": dataclasses.asdict(train_settings),
                       "model": dataclasses.asdict(model_settings),
                       "task": dataclasses.asdict(config.task)}}


def _tc0lab_version() -> str:
    try:
        return importlib.metadata.version("tc0lab")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------------------------

Runner = Callable[..., dict[str, Any]]


@dataclass
class Sweep:
    """Runs the grid of one config against one results store."""

    config: ProbeConfig
    store: ResultsStore
    device: torch.device
    runner: Runner = run_one
    progress: SweepProgress = field(default_factory=SilentProgress)
    runs_executed: int = 0
    runs_resumed: int = 0
    cut: bool = False

    def run(self) -> list[Cell]:
        """Every cell of the grid, in sweep order."""
        deadline = time.monotonic() + self.config.sweep.time_budget_seconds
        cells = []
        for task in self.config.sweep.tasks:
            previous: dict[str, int] = {}
            for length in sorted(self.config.sweep.lengths):
                for model in self.config.sweep.models:
                    cell = self._min_depth(task, model, length, previous.get(model), deadline)
                    if cell.status != NOT_RUN:
                        previous[model] = cell.min_layers or self.config.sweep.max_layers
                    self.progress.cell_finished(cell)
                    cells.append(cell)
        return cells

    def _min_depth(self, task: str, model: str, length: int, previous_answer: int | None,
                   deadline: float) -> Cell:
        cell = Cell(task, model, length, status=training.NOT_REACHED)
        max_layers = self.config.sweep.max_layers
        for layers in range(min(previous_answer or 1, max_layers), max_layers + 1):
            records = self._runs_at_depth(task, model, length, layers, deadline)
            if records is None:
                cell.status = NOT_RUN
                return cell
            cell.tried_layers.append(layers)
            cell.run_keys += [record["run_key"] for record in records]
            cell.diverged_runs += sum(r["status"] == training.DIVERGED for r in records)
            target = self.config.settings_for(model)[0].target_accuracy
            if depth_solves(records, self.config.sweep.seed_rule, target):
                cell.status, cell.min_layers = training.REACHED, layers
                return cell
        return cell

    def _runs_at_depth(self, task: str, model: str, length: int, layers: int,
                       deadline: float) -> list[dict[str, Any]] | None:
        """The records of every seed needed at this depth; None if the sweep budget ran out."""
        records = []
        for seed in range(self.config.sweep.seeds):
            spec = RunSpec(task, model, length, layers, seed, self.store.experiment_hash)
            record = self._record(spec, deadline)
            if record is None:
                return None
            records.append(record)
            if self.config.sweep.seed_rule == "best" and record["status"] == training.REACHED:
                break
        return records

    def _record(self, spec: RunSpec, deadline: float) -> dict[str, Any] | None:
        stored = self.store.get(spec.key)
        if stored is not None:
            self.runs_resumed += 1
            self.progress.run_finished(spec, stored, resumed=True)
            return stored
        if time.monotonic() >= deadline:
            self.cut = True
            return None
        train_settings, _ = self.config.settings_for(spec.model)
        self.progress.run_started(spec, train_settings.max_steps)
        record = self.runner(spec, self.config, self.device, deadline=deadline,
                             on_step=self.progress.step)
        if record["status"] == training.CUT:
            self.cut = True
            return None
        self.store.append(record)
        self.runs_executed += 1
        self.progress.run_finished(spec, record, resumed=False)
        return record


def depth_solves(records: list[dict[str, Any]], seed_rule: str, target: float) -> bool:
    """Whether these seeds' runs at one depth count as solving the length."""
    if seed_rule == "best":
        return any(record["status"] == training.REACHED for record in records)
    accuracies = [record["test"]["full_sequence"] if record["status"] != training.DIVERGED
                  else 0.0 for record in records]
    return statistics.median(accuracies) >= target
