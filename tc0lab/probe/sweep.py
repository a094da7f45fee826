"""The min-depth sweep (Illusion of State §6, Fig. 3): every cell of the grid, through a
launcher, with resume. torch-free (the runs import torch, in run.py).

For each task, length n (ascending) and model, the cell's search (search.py) tries layers L
upward from the previous length's answer for that model (the paper's shortcut: the min depth
is assumed not to shrink as n grows), up to `max_layers`. After a "not reached" at n, the next
length starts at `max_layers` (one run per later length, so a lucky later success still
shows). The loop is length-major (all models at n before any at 2n) so that a sweep cut by its
time budget has covered every model at the short lengths. With `sweep.all_depths` every depth
1..max_layers runs for every (task, model, length, seed).

With `train.curriculum` (the quick preset) a run is instead one (task, model, depth, seed)
climbing every length with warm starts (curriculum.py); one wave per task then holds every
model's runs, each started once the run it depends on is done (`ready`), and the cells of
every length are read from those runs.

Every run is a `RunSpec` (runs.py) executed as one job by a launcher (tc0lab/probe/launch/:
in-process, local worker processes, Slurm). Finished runs are looked up in the results store
before running (resume); a run cut by the sweep's time budget is not stored. With room for W
runs at once, a length's candidate depths run as one wave and runs that can no longer change a
cell are dropped or cancelled (`Sweep`); the cells are the same as the serial search's,
whatever order runs finish in.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Union

from tc0lab.probe.config import ProbeConfig
from tc0lab.probe.curriculum import CurriculumSearch
from tc0lab.probe.launch.jobs import Job, Launcher, merge_job_files
from tc0lab.probe.launch.local import InProcessLauncher, Runner
from tc0lab.probe.launch.slurm import FAILURES_DIR, failure_line
from tc0lab.probe.progress import SilentProgress, SweepProgress
from tc0lab.probe.results import ResultsStore
from tc0lab.probe.runs import NOT_RUN, STAGE_SEPARATOR, Cell, RunSpec
from tc0lab.probe.search import CellSearch

Search = Union[CellSearch, CurriculumSearch]


class SweepError(ValueError):
    """A sweep that produced nothing to report (every run failed, or none fit the budget)."""


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
    device: Any                     # a torch.device (the in-process launcher's), or "slurm"
    runner: Runner | None = None    # the in-process launcher's; None: run.run_one
    progress: SweepProgress = field(default_factory=SilentProgress)
    launcher: Launcher | None = None   # None: in-process, one run at a time
    runs_executed: int = 0
    runs_resumed: int = 0
    runs_merged: int = 0
    runs_cancelled: int = 0
    runs_wasted: int = 0
    cut: bool = False
    failures: list[dict[str, Any]] = field(default_factory=list)   # Job.failure of each
    wall_seconds: float = 0.0

    def run(self) -> list[Cell]:
        """Every cell of the grid, in sweep order."""
        started = time.monotonic()
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
            self.wall_seconds = time.monotonic() - started
        cited = {key.split(STAGE_SEPARATOR)[0] for cell in cells for key in cell.run_keys}
        self.runs_wasted = sum(key not in cited for key in executed_keys)
        return cells

    def _upward_cells(self, task: str, launcher: Launcher, deadline: float,
                      executed_keys: list[str]) -> list[Cell]:
        """Independent runs, one wave per length (the paper's protocol)."""
        cells, previous = [], {}
        for length in sorted(self.config.sweep.lengths):
            searches = [CellSearch(task, model, length,
                                    self._first_depth(previous.get(model, 1)),
                                    self.config, self.store.experiment_hash)
                        for model in self.config.sweep.models]
            executed_keys += self._run_wave(launcher, searches, deadline)
            for search in searches:
                cell = search.cell()
                if cell.status != NOT_RUN:
                    previous[search.model] = cell.min_layers or self.config.sweep.max_layers
                cells.append(self._reported(cell))
        return cells

    def _curriculum_cells(self, task: str, launcher: Launcher, deadline: float,
                          executed_keys: list[str]) -> list[Cell]:
        """Curriculum runs (curriculum.py): one wave for the task, then cells per length."""
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

    def _run_wave(self, launcher: Launcher, searches: list[Search],
                  deadline: float) -> list[str]:
        """Run one length's searches to their answers; return the keys of runs executed."""
        owner = {spec.key: search for search in searches for spec in search.candidates()}
        # round-robin over models: W workers first take each model's shallowest run, which
        # wastes nothing; deeper depths of one model only fill workers left over
        queue = [spec for specs in itertools.zip_longest(*(s.candidates() for s in searches))
                 for spec in specs if spec is not None]
        running: dict[str, Job] = {}
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

    def _next_index(self, queue: list[RunSpec], owner: dict[str, Search], busy: int,
                    launcher: Launcher) -> int | None:
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

    def _drop_unneeded(self, launcher: Launcher, owner: dict[str, Search],
                       queue: list[RunSpec], running: dict[str, Job]) -> None:
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

    def statistics(self, launcher: Launcher | None, torch_threads: int) -> dict[str, Any]:
        """What the summary says of the sweep itself: budget, run counts, launcher, time."""
        slurm = ({"slurm_jobs_adopted": launcher.adopted,
                  "slurm_jobs_orphans_cancelled": launcher.orphans_cancelled}
                 if hasattr(launcher, "adopted") else {})
        return {"time_budget_seconds": self.config.sweep.time_budget_seconds,
                "cut_by_time_budget": self.cut, "runs_executed": self.runs_executed,
                "runs_resumed": self.runs_resumed, "runs_merged_from_job_files": self.runs_merged,
                "runs_wasted": self.runs_wasted, "runs_cancelled": self.runs_cancelled,
                "runs_failed": len(self.failures), "failed_runs": self.failures, **slurm,
                "launcher": launcher.name if launcher is not None else "local",
                "wall_seconds": round(self.wall_seconds, 1), "device": str(self.device),
                "torch_threads": torch_threads, "out": str(self.store.out_dir)}

    def check_outcome(self, cells: list[Cell]) -> None:
        """SweepError when no cell has a run: every run failed, or the budget fit none."""
        if any(cell.run_keys for cell in cells):
            return
        if self.failures:
            raise SweepError(
                f"every run failed ({len(self.failures)}); the first: "
                f"{failure_line(self.failures[0])} (records under "
                f"{self.store.out_dir / FAILURES_DIR})")
        if self.cut:
            raise SweepError(
                f"the time budget ({self.config.sweep.time_budget_seconds:g}s) was too small to "
                f"finish any run (per-run budget {self.config.train.max_seconds:g}s); raise "
                f"--time-budget")


def grid(config: ProbeConfig, experiment_hash: str) -> list[RunSpec]:
    """Every run of the grid (every depth up to max_layers): what a non-adaptive launch runs."""
    sweep = config.sweep
    return [RunSpec(task, model, length, layers, seed, experiment_hash)
            for task in sweep.tasks for length in sorted(sweep.lengths)
            for model in sweep.models for layers in range(1, sweep.max_layers + 1)
            for seed in range(sweep.seeds)]
