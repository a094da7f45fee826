"""Jobs and job files, the part every launcher shares (torch-free; a job imports torch).

Every launcher runs ONE run (a `RunSpec`) as one job (`execute_job`). A job writes its record
to its own file `jobs/<run key>.json` under the output directory, atomically
(tc0lab.atomic_file), and the driver (`Sweep`) merges job files into `results.jsonl`. A job
file therefore survives the driver: a killed driver loses nothing a job finished, because the
next driver, under any launcher, first merges every job file it finds (`merge_job_files`).
Determinism: a job seeds torch from its spec and runs with a fixed thread count, so a run gives
the same record under any launcher with the same threads.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tc0lab import atomic_file
from tc0lab.probe.config import ProbeConfig, config_from_dict
from tc0lab.probe.results import ResultsStore
from tc0lab.probe.runs import CUT, RunSpec

JOBS_DIR = "jobs"


class LauncherError(ValueError):
    """A launcher that cannot be used here, or a job that crashed."""


def job_file(out_dir: Path, run_key: str, folder: str = JOBS_DIR, tag: str = "") -> Path:
    """OUT/<folder>/<run key, / as __><tag>.json: a run's job file, failure or Slurm job id."""
    return Path(out_dir) / folder / (run_key.replace("/", "__") + tag + ".json")


def write_job_record(path: Path, record: dict[str, Any]) -> None:
    """Atomic: readers see no file or the whole file (the temporary name is per process)."""
    atomic_file.write_text(path, json.dumps(record, sort_keys=True, allow_nan=False))


def read_job_record(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "run_key" in record else None


def merge_job_files(store: ResultsStore) -> int:
    """Append to the store every finished job file of its experiment not yet in it."""
    merged = 0
    for path in sorted((store.out_dir / JOBS_DIR).glob("*.json")):
        record = read_job_record(path)
        if (record is not None and record.get("experiment_hash") == store.experiment_hash
                and store.get(record["run_key"]) is None):
            store.append(record)
            merged += 1
    return merged


def execute_job(spec: RunSpec, config_dict: dict[str, Any], out_dir: str, threads: int,
                deadline_epoch: float | None = None) -> str | None:
    """Run one spec and write its job file; the body of every job. Returns the file path,
    or None when the sweep deadline cut the run (nothing is written then)."""
    import torch

    from tc0lab.probe.run import resolve_device, run_one
    if threads > 0:
        torch.set_num_threads(threads)
    config = config_from_dict(config_dict)
    record = run_one(spec, config, resolve_device(config.sweep.device),
                     deadline=monotonic_deadline(deadline_epoch))
    if record["status"] == CUT:
        return None
    path = job_file(Path(out_dir), spec.key)
    write_job_record(path, record)
    return str(path)


def monotonic_deadline(deadline_epoch: float | None) -> float | None:
    """A wall-clock deadline (shared across processes) as a time.monotonic() value."""
    if deadline_epoch is None:
        return None
    return time.monotonic() + (deadline_epoch - time.time())


def config_payload(config: ProbeConfig) -> dict[str, Any]:
    """The config as plain data that `config_from_dict` rebuilds (picklable, JSON-able)."""
    return json.loads(json.dumps(config.to_dict()))


@dataclass
class Job:
    """One submitted run: its spec, the launcher's handle, and what it ended with."""

    spec: RunSpec
    handle: Any = None
    record: dict[str, Any] | None = None   # set when finished; None if cut or failed
    finished: bool = False
    failure: dict[str, Any] | None = None  # set when the job ended without a record


class Launcher(Protocol):
    """Runs jobs: at most `capacity` at once; `name` says which launcher (in the summary)."""

    capacity: int
    name: str

    def submit(self, specs: list[RunSpec], deadline_epoch: float | None) -> list[Job]: ...
    def wait(self, jobs: list[Job]) -> list[Job]: ...
    def cancel(self, job: Job) -> None: ...
    def close(self) -> None: ...


def collect(job: Job, out_dir: Path) -> Job:
    """Mark a job finished and read its record from its job file (None when there is none)."""
    job.finished = True
    job.record = read_job_record(job_file(out_dir, job.spec.key))
    return job
