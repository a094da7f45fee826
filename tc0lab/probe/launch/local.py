"""The launchers of this machine: in the driver's process, or a pool of local worker processes.

- `InProcessLauncher`: the default; runs the job in the driver, one at a time.
- `ProcessLauncher(workers)`: one child process per job, at most `workers` at once, each with
  `cores // workers` torch threads (capped by the config's `sweep.threads` when set) so the
  cores are not oversubscribed. Children are forked from a forkserver that imported torch once.
  A job no longer needed is terminated.

Both write each run's record to its job file (jobs.py) before the driver reads it.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tc0lab.probe.config import ProbeConfig
from tc0lab.probe.launch.jobs import (Job, LauncherError, collect, config_payload, execute_job,
                                      job_file, monotonic_deadline, write_job_record)
from tc0lab.probe.runs import CUT, RunSpec

Runner = Callable[..., dict[str, Any]]   # run_one(spec, config, device, deadline=, on_step=)


@dataclass
class InProcessLauncher:
    """Runs each job in the driver when submitted (capacity 1: the sequential search)."""

    config: ProbeConfig
    out_dir: Path
    device: Any                     # a torch.device
    runner: Runner | None = None    # run.run_one, or a scripted stand-in in tests
    on_step: Callable[[int, float], None] | None = None
    capacity: int = 1
    name: str = "local"

    def submit(self, specs: list[RunSpec], deadline_epoch: float | None) -> list[Job]:
        import torch

        from tc0lab.probe.run import run_one
        if self.config.sweep.threads > 0:    # the same threads as a worker: same numbers
            torch.set_num_threads(self.config.sweep.threads)
        jobs = []
        for spec in specs:
            record = (self.runner or run_one)(spec, self.config, self.device,
                                              deadline=monotonic_deadline(deadline_epoch),
                                              on_step=self.on_step)
            if record["status"] != CUT:
                write_job_record(job_file(self.out_dir, spec.key), record)
            jobs.append(collect(Job(spec), self.out_dir))
        return jobs

    def wait(self, jobs: list[Job]) -> list[Job]:
        return [job for job in jobs if job.finished]

    def cancel(self, job: Job) -> None:
        pass

    def close(self) -> None:
        pass


def threads_per_worker(workers: int, configured: int, cores: int | None = None) -> int:
    """cores // workers (at least 1), capped by the config's thread count when it sets one."""
    share = max(1, (cores or os.cpu_count() or 1) // workers)
    return min(share, configured) if configured > 0 else share


@dataclass
class ProcessLauncher:
    """At most `workers` local child processes, one per job."""

    config: ProbeConfig
    out_dir: Path
    workers: int
    name: str = field(init=False)
    threads: int = field(init=False)
    _context: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise LauncherError(f"--workers must be >= 1, got {self.workers}")
        self.capacity = self.workers
        self.name = f"local --workers {self.workers}"
        self.threads = threads_per_worker(self.workers, self.config.sweep.threads)
        self._context = multiprocessing.get_context("forkserver")
        # torch._dynamo is imported lazily by the first optimiser step (~2 s); importing it
        # once in the forkserver makes every forked job start warm
        self._context.set_forkserver_preload(["tc0lab.probe.launch.jobs", "tc0lab.probe.run",
                                                "tc0lab.probe.models", "torch._dynamo"])
        self._payload = config_payload(self.config)

    def submit(self, specs: list[RunSpec], deadline_epoch: float | None) -> list[Job]:
        jobs = []
        for spec in specs:
            process = self._context.Process(
                target=execute_job, args=(spec, self._payload, str(self.out_dir),
                                          self.threads, deadline_epoch), daemon=False)
            process.start()
            jobs.append(Job(spec, process))
        return jobs

    def wait(self, jobs: list[Job]) -> list[Job]:
        sentinels = {job.handle.sentinel: job for job in jobs}
        ready = multiprocessing.connection.wait(list(sentinels))
        done = []
        for sentinel in ready:
            job = sentinels[sentinel]
            job.handle.join()
            if job.handle.exitcode != 0:
                raise LauncherError(f"the job of {job.spec.key} failed (exit code "
                                    f"{job.handle.exitcode}); its traceback is on stderr above")
            done.append(collect(job, self.out_dir))
        return done

    def cancel(self, job: Job) -> None:
        job.handle.terminate()
        job.handle.join()

    def close(self) -> None:
        pass
