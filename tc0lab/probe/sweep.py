"""The min-depth sweep (Illusion of State §6, Fig. 3): smallest L that reaches the target.

For each task, length n (ascending) and model, layers L are tried upward from the previous
length's answer for that model (the paper's shortcut: the min depth is assumed not to shrink as
n grows), up to `max_layers`. After a "not reached" at n, the next length starts at
`max_layers` (one run per later length, so a lucky later success still shows). The loop is
length-major (all models at n before any at 2n) so that a sweep cut by its time budget has
covered every model at the short lengths.

With `sweep.all_depths` every depth 1..max_layers runs for every (task, model, length, seed)
(the whole grid, for figures that compare depths such as accuracy against length per depth);
the cell is still decided from those runs exactly as the upward search decides it (the
smallest depth that reaches), and the runs beyond the answer are cited by the cell too.

Seeds: for each (n, L), seeds 0..seeds-1. Rule "best" (default): L counts as solving n if ANY
seed reaches the target on the test set (later seeds are skipped once one reaches). Rule
"median": all seeds run and L counts if the median test full-sequence accuracy reaches it.

Every run is identified by a stable `RunSpec.key` (task, model, n, L, seed, experiment hash)
and executed by `run_one(spec, config, ...)`, which needs nothing else, so a parallel or Slurm
launcher can run runs as independent jobs. Finished runs are looked up in the results store
before running (resume). A run cut by the sweep's time budget is not stored.

With `train.curriculum` (the quick preset) a run is instead one (task, model, depth, seed)
climbing every length with warm starts (`RunSpec.lengths`, tc0lab/probe/curriculum.py); one
wave per task then holds every model's runs, each started once the run it depends on is done
(`ready`), and the cells of every length are read from those runs.

Runs go through a launcher (tc0lab/probe/launchers.py: in-process, local worker processes,
Slurm). With room for W runs at once, a length's candidate depths run as one wave and runs
that can no longer change a cell are dropped or cancelled (`Sweep`); the cells are the same as
the serial search's, whatever order runs finish in.
"""
from __future__ import annotations

import dataclasses
import datetime
import importlib.metadata
import itertools
import math
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import torch

from tc0lab import atomic_file
from tc0lab.probe import train as training
from tc0lab.probe.config import ProbeConfig
from tc0lab.probe.curriculum import STAGE_SEPARATOR
from tc0lab.probe.results import ResultsStore
from tc0lab.probe.tasks import make_task, strict_split

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
    status: str                     # training.REACHED | training.NOT_REACHED | NOT_RUN
    min_layers: int | None = None   # only when status is REACHED
    tried_layers: list[int] = field(default_factory=list)
    run_keys: list[str] = field(default_factory=list)
    diverged_runs: int = 0
    note: str = ""                  # e.g. why a curriculum cell has no run at this length


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


def run_model_config(spec: RunSpec, config: ProbeConfig, vocab_size: int, n_classes: int,
                     max_len: int) -> Any:
    """The ModelConfig of a run (stored in its record, so its weights can be reloaded)."""
    from tc0lab.probe.models import ModelConfig, width_for_params
    _, settings = config.settings_for(spec.model)
    shape = {"max_len": max_len, "positions": settings.positions,
             "beta_max": settings.beta_max, "scan": settings.scan,
             "fnn_depth": settings.fnn_depth, "fnn_width": settings.fnn_width,
             "mlp_ratio": settings.mlp_ratio, "norm": settings.norm,
             "conv_kernel": settings.conv_kernel}
    d_model = settings.d_model
    if settings.params > 0:   # params is per layer, as in the paper (~3.1M per layer)
        d_model = width_for_params(spec.model, spec.layers, settings.params * spec.layers,
                                   vocab_size, n_classes, d_state=settings.d_state, **shape)
    return ModelConfig(name=spec.model, vocab_size=vocab_size, n_classes=n_classes,
                       layers=spec.layers, d_model=d_model, d_state=settings.d_state, **shape)


def build_run_model(spec: RunSpec, config: ProbeConfig, vocab_size: int, n_classes: int,
                    max_len: int) -> torch.nn.Module:
    """The model of a run, seeded, via tc0lab.probe.models.build_model."""
    from tc0lab.probe.models import build_model
    model_config = run_model_config(spec, config, vocab_size, n_classes, max_len)
    torch.manual_seed(spec.seed)
    return build_model(model_config)


def task_pair(name: str, length: int, config: ProbeConfig) -> tuple[Any, Any]:
    """The task of a run at one length and its extrapolation task (None when off)."""
    settings = config.task
    task = make_task(name, length, settings.eval_size, settings.short_words_fraction, seed=0,
                     split=strict_split(settings))
    factor = settings.extrapolation_factor
    return task, task.at_length(length * factor) if factor else None


def run_one(spec: RunSpec, config: ProbeConfig, device: torch.device,
            deadline: float | None = None,
            on_step: Callable[[int, float], None] | None = None) -> dict[str, Any]:
    """Train one run (a curriculum run when spec.lengths) and return its record."""
    if spec.lengths:
        from tc0lab.probe.curriculum import run_curriculum
        return run_curriculum(spec, config, device, deadline, on_step)
    train_settings, _ = config.settings_for(spec.model)
    task, long_task = task_pair(spec.task, spec.length, config)
    model = build_run_model(spec, config, task.vocab_size, task.n_classes,
                            max_len=spec.length * max(config.task.extrapolation_factor, 1))
    result = training.train(model, task, train_settings, seed=spec.seed, device=device,
                            deadline=deadline, extrapolation_task=long_task, on_step=on_step)
    return finish_record(spec, config, result, model, device, task.disjoint)


def result_fields(result: training.TrainResult) -> dict[str, Any]:
    """What a record keeps of one training call: status, budget used, accuracies, curve."""
    accuracies = {name: dataclasses.asdict(value) if value is not None else None
                  for name, value in (("validation", result.validation), ("test", result.test),
                                      ("extrapolation", result.extrapolation))}
    return {"status": result.status, "stop_reason": result.stop_reason,
            "steps": result.steps, "seconds": round(result.seconds, 3),
            "final_loss": result.final_loss if math.isfinite(result.final_loss) else None,
            **accuracies, "curve": [dataclasses.asdict(point) for point in result.curve]}


def finish_record(spec: RunSpec, config: ProbeConfig, result: training.TrainResult,
                  model: torch.nn.Module, device: torch.device,
                  disjoint_eval: bool) -> dict[str, Any]:
    """The record of a finished run; with sweep.save_models_dir also its final weights."""
    record = make_record(spec, config, result, model, device, disjoint_eval)
    if config.sweep.save_models_dir and result.status != training.CUT:
        record["checkpoint"] = save_checkpoint(model, Path(config.sweep.save_models_dir),
                                               spec.key)
    return record


def checkpoint_path(models_dir: Path, run_key: str) -> Path:
    return models_dir / (run_key.replace("/", "__") + ".pt")


def save_checkpoint(model: torch.nn.Module, models_dir: Path, run_key: str) -> str:
    """Write the state dict atomically; it loads with torch.load(path, weights_only=True)
    into build_model(ModelConfig(**record["model_config"]))."""
    path = checkpoint_path(models_dir, run_key)
    state = {name: value.detach().cpu() for name, value in model.state_dict().items()}
    atomic_file.write_with(path, lambda stream: torch.save(state, stream))
    return str(path)


def make_record(spec: RunSpec, config: ProbeConfig, result: training.TrainResult,
                model: torch.nn.Module, device: torch.device,
                disjoint_eval: bool) -> dict[str, Any]:
    train_settings, model_settings = config.settings_for(spec.model)
    return {"run_key": spec.key, **dataclasses.asdict(spec), **result_fields(result),
            "disjoint_eval": disjoint_eval,
            "params": sum(p.numel() for p in model.parameters()),
            "model_config": dataclasses.asdict(model.config),
            "device": str(device), "torch_version": torch.__version__,
            "torch_threads": torch.get_num_threads(), "tc0lab_version": _tc0lab_version(),
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
class _CellSearch:
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
        cell.diverged_runs += sum(r["status"] == training.DIVERGED for r in extra)
        cell.tried_layers = sorted({*cell.tried_layers, *(r["layers"] for r in extra)})
        return cell

    def _upward_answer(self) -> Cell | None:
        cell = Cell(self.task, self.model, self.length, status=training.NOT_REACHED)
        target = self.config.settings_for(self.model)[0].target_accuracy
        for layers in range(self.start, self.config.sweep.max_layers + 1):
            used = self._records_deciding(layers)
            if used is None:
                return None
            cell.tried_layers.append(layers)
            cell.run_keys += [record["run_key"] for record in used]
            cell.diverged_runs += sum(r["status"] == training.DIVERGED for r in used)
            if depth_solves(used, self.config.sweep.seed_rule, target):
                cell.status, cell.min_layers = training.REACHED, layers
                return cell
        return cell

    def _records_deciding(self, layers: int) -> list[dict[str, Any]] | None:
        used = []
        for seed in range(self.config.sweep.seeds):
            record = self.records.get((layers, seed))
            if record is None:
                return None
            used.append(record)
            if self.config.sweep.seed_rule == "best" and record["status"] == training.REACHED:
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
            if record["status"] == training.REACHED and best and (
                    layers < spec.layers or (layers == spec.layers and seed < spec.seed)):
                return False
        return True


@dataclass
class Sweep:
    """Runs the grid of one config against one results store, through a launcher.

    Lengths are waves: every candidate run (depth, seed) of every model at one length is
    queued shallowest first (models interleaved), `launcher.capacity` of them run at once (the
    runs that fit are submitted together: one job array on Slurm), and after each finished run
    the queue drops (and the launcher cancels) the runs that can no longer change a cell. A run
    whose job ended without a record (`Job.failure`, e.g. a Slurm TIMEOUT) is listed in
    `failures` and not stored; its cell stays undecided (not run). With capacity 1 this is
    exactly the serial upward search; with W workers it trades wasted deeper runs for
    wall-clock (`runs_wasted`, `runs_cancelled`).
    With `sweep.all_depths` nothing is dropped: every candidate (depth 1..max_layers, every
    seed) runs."""

    config: ProbeConfig
    store: ResultsStore
    device: torch.device
    runner: Runner = run_one
    progress: SweepProgress = field(default_factory=SilentProgress)
    launcher: Any = None            # None: in-process, one run at a time
    runs_executed: int = 0
    runs_resumed: int = 0
    runs_merged: int = 0
    runs_cancelled: int = 0
    runs_wasted: int = 0
    cut: bool = False
    failures: list[dict[str, Any]] = field(default_factory=list)   # Job.failure of each

    def run(self) -> list[Cell]:
        """Every cell of the grid, in sweep order."""
        from tc0lab.probe.launchers import InProcessLauncher, merge_job_files
        launcher = self.launcher or InProcessLauncher(self.config, self.store.out_dir,
                                                      self.device, runner=self.runner,
                                                      on_step=self.progress.step)
        self.runs_merged = merge_job_files(self.store)   # jobs a killed driver left behind
        deadline = time.time() + self.config.sweep.time_budget_seconds
        cells, executed_keys = [], []
        try:
            for task in self.config.sweep.tasks:
                task_cells = (self._curriculum_cells if self.config.train.curriculum
                              else self._upward_cells)
                cells += task_cells(task, launcher, deadline, executed_keys)
        finally:
            launcher.close()
        cited = {key.split(STAGE_SEPARATOR)[0] for cell in cells for key in cell.run_keys}
        self.runs_wasted = sum(key not in cited for key in executed_keys)
        return cells

    def _upward_cells(self, task: str, launcher: Any, deadline: float,
                      executed_keys: list[str]) -> list[Cell]:
        """Independent runs, one wave per length (the paper's protocol)."""
        cells, previous = [], {}
        for length in sorted(self.config.sweep.lengths):
            searches = [_CellSearch(task, model, length,
                                    self._first_depth(previous.get(model, 1)),
                                    self.config, self.store.experiment_hash)
                        for model in self.config.sweep.models]
            executed_keys += self._run_wave(launcher, searches, deadline)
            for search in searches:
                cell = search.decided() or Cell(task, search.model, length, NOT_RUN)
                if cell.status != NOT_RUN:
                    previous[search.model] = cell.min_layers or self.config.sweep.max_layers
                cells.append(self._reported(cell))
        return cells

    def _curriculum_cells(self, task: str, launcher: Any, deadline: float,
                          executed_keys: list[str]) -> list[Cell]:
        """Curriculum runs (curriculum.py): one wave for the task, then cells per length."""
        from tc0lab.probe.curriculum import CurriculumSearch
        lengths = tuple(sorted(self.config.sweep.lengths))
        searches = [CurriculumSearch(task, model, lengths, self.config,
                                      self.store.experiment_hash)
                    for model in self.config.sweep.models]
        executed_keys += self._run_wave(launcher, searches, deadline)
        return [self._reported(search.cell(length)) for length in lengths
                for search in searches]

    def _reported(self, cell: Cell) -> Cell:
        self.progress.cell_finished(cell)
        return cell

    def _first_depth(self, previous_answer: int) -> int:
        """Where the upward search starts: the previous length's answer, or 1 (all_depths)."""
        if self.config.sweep.all_depths:
            return 1
        return min(previous_answer, self.config.sweep.max_layers)

    def _run_wave(self, launcher: Any, searches: list[_CellSearch],
                  deadline: float) -> list[str]:
        """Run one length's searches to their answers; return the keys of runs executed."""
        owner = {spec.key: search for search in searches for spec in search.candidates()}
        # round-robin over models: W workers first take each model's shallowest run, which
        # wastes nothing; deeper depths of one model only fill workers left over
        queue = [spec for specs in itertools.zip_longest(*(s.candidates() for s in searches))
                 for spec in specs if spec is not None]
        running: dict[str, Any] = {}
        executed: list[str] = []
        while True:
            self._drop_unneeded(launcher, owner, queue, running)
            batch: list[RunSpec] = []          # submitted together (one Slurm job array)
            while (index := self._next_index(queue, owner, len(running) + len(batch), launcher)) is not None:
                spec = queue.pop(index)
                stored = self.store.get(spec.key)
                if stored is not None:
                    self.runs_resumed += 1
                    self.progress.run_finished(spec, stored, resumed=True)
                    owner[spec.key].records[(spec.layers, spec.seed)] = stored
                    self._drop_unneeded(launcher, owner, queue, running)
                    continue
                if time.time() >= deadline:
                    self.cut, queue = True, []
                    break
                self.progress.run_started(spec, self.config.settings_for(spec.model)[0]
                                          .max_steps)
                batch.append(spec)
            running.update((job.spec.key, job) for job in
                           (launcher.submit(batch, deadline) if batch else []))
            if not running:
                return executed
            for job in launcher.wait(list(running.values())):
                del running[job.spec.key]
                if job.failure is not None:     # ended without a record: reported, not stored
                    self.failures.append(job.failure)
                    continue
                if job.record is None:          # cut by the sweep deadline: not stored
                    self.cut = True
                    continue
                self._store(job.record)
                executed.append(job.spec.key)
                self.progress.run_finished(job.spec, job.record, resumed=False)
                owner[job.spec.key].records[(job.spec.layers, job.spec.seed)] = job.record

    def _next_index(self, queue: list[RunSpec], owner: dict[str, Any], busy: int,
                    launcher: Any) -> int | None:
        """The first queued run that is stored (resumed at once) or, with a free slot (`busy`
        runs are running or about to be submitted), ready to start (its search may wait for
        the run it depends on); None if there is none."""
        room = busy < launcher.capacity
        for index, spec in enumerate(queue):
            if self.store.get(spec.key) is not None:
                return index
            if room and owner[spec.key].ready(spec):
                return index
        return None

    def _drop_unneeded(self, launcher: Any, owner: dict[str, _CellSearch],
                       queue: list[RunSpec], running: dict[str, Any]) -> None:
        queue[:] = [spec for spec in queue if owner[spec.key].needs(spec)]
        for key, job in list(running.items()):
            if not owner[key].needs(job.spec):
                launcher.cancel(job)
                del running[key]
                self.runs_cancelled += 1

    def _store(self, record: dict[str, Any]) -> None:
        if self.store.get(record["run_key"]) is None:   # a run is stored once, whoever ran it
            self.store.append(record)
        self.runs_executed += 1


def depth_solves(records: list[dict[str, Any]], seed_rule: str, target: float) -> bool:
    """Whether these seeds' runs at one depth count as solving the length."""
    if seed_rule == "best":
        return any(record["status"] == training.REACHED for record in records)
    accuracies = [record["test"]["full_sequence"] if record["status"] != training.DIVERGED
                  else 0.0 for record in records]
    return statistics.median(accuracies) >= target


def grid(config: ProbeConfig, experiment_hash: str) -> list[RunSpec]:
    """Every run of the grid (every depth up to max_layers): what a non-adaptive launch runs."""
    sweep = config.sweep
    return [RunSpec(task, model, length, layers, seed, experiment_hash)
            for task in sweep.tasks for length in sorted(sweep.lengths)
            for model in sweep.models for layers in range(1, sweep.max_layers + 1)
            for seed in range(sweep.seeds)]
