"""Where the runs of a sweep execute: in-process, a pool of local processes, or Slurm (submitit).

Every launcher runs ONE run (a `RunSpec`) as one job. A job writes its record to its own file
`jobs/<run key>.json` under the output directory, atomically (temporary file + os.replace), and
the driver (`Sweep`) merges job files into `results.jsonl`. A job file therefore survives the
driver: a killed driver loses nothing a job finished, because the next driver, under any
launcher, first merges every job file it finds (`merge_job_files`).

- `InProcessLauncher`: the default; runs the job in the driver, one at a time.
- `ProcessLauncher(workers)`: one child process per job, at most `workers` at once, each with
  `cores // workers` torch threads (capped by the config's `sweep.threads` when set) so the
  cores are not oversubscribed. Children are forked from a forkserver that imported torch once.
  A job no longer needed is terminated.
- `SlurmLauncher`: submitit's AutoExecutor (cluster "slurm" when available; "local" runs each
  job as a local subprocess, "debug" in-process, both for tests). Jobs submitted together form
  one job array limited by `array_parallelism`; a job no longer needed is cancelled. On Slurm
  the driver reads job states itself (squeue, then sacct when accounting is on), so a job that
  Slurm ends without a result (TIMEOUT, OUT_OF_MEMORY, FAILED, CANCELLED, ...) is noticed
  without sacct and never hangs the driver. Such a job, or one whose run raised, becomes a
  failure record (`Job.failure`: Slurm's state and job id, the reason, the log) written to
  `failures/<run key>.<job id>.json`; nothing goes to results.jsonl, so a re-run retries it.
  Every submitted job id is noted in `slurm-jobs/<run key>.json`: a driver restarted after a
  kill adopts the jobs its predecessor left pending or running instead of submitting them
  again, and cancels, when it closes, those it did not need.

`write_dry_run` writes an sbatch array script and a job list for a grid without submitting;
`python -m tc0lab.probe.launchers OUT_DIR INDEX` runs entry INDEX of that job list (what the
script calls). Determinism: a job seeds torch from its spec and runs with a fixed thread count,
so a run gives the same record under any launcher with the same threads.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import math
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tc0lab import atomic_file
from tc0lab.probe.config import ProbeConfig, config_from_dict

JOBS_DIR = "jobs"
FAILURES_DIR = "failures"
SLURM_JOBS_DIR = "slurm-jobs"
DRY_RUN_DIR = "slurm-dry-run"
SUBMITIT_DIR = "submitit"
INSTALL_HINT = "pip install 'tc0lab[slurm]'"
POLL_SECONDS = 0.5            # how often the driver looks for finished jobs' files
STATE_POLL_SECONDS = 3.0      # how often it asks Slurm for the states of its jobs
SLURM_COMMAND_SECONDS = 60
# Slurm job states after which nothing more will happen to a job (squeue / sacct spelling)
SLURM_ENDED_STATES = frozenset({"BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED",
                                "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "REVOKED",
                                "SPECIAL_EXIT", "TIMEOUT"})
UNKNOWN_STATE = "UNKNOWN"


class LauncherError(ValueError):
    """A launcher that cannot be used here, or a job that crashed."""


# ---------------------------------------------------------------------------------------------
# Job files
# ---------------------------------------------------------------------------------------------

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


def merge_job_files(store: Any) -> int:
    """Append to the store every finished job file of its experiment not yet in it."""
    merged = 0
    for path in sorted((store.out_dir / JOBS_DIR).glob("*.json")):
        record = read_job_record(path)
        if (record is not None and record.get("experiment_hash") == store.experiment_hash
                and store.get(record["run_key"]) is None):
            store.append(record)
            merged += 1
    return merged


def execute_job(spec: Any, config_dict: dict[str, Any], out_dir: str, threads: int,
                deadline_epoch: float | None = None) -> str | None:
    """Run one spec and write its job file; the body of every job. Returns the file path,
    or None when the sweep deadline cut the run (nothing is written then)."""
    import torch

    from tc0lab.probe import train as training
    from tc0lab.probe.sweep import resolve_device, run_one
    if threads > 0:
        torch.set_num_threads(threads)
    config = config_from_dict(config_dict)
    deadline = None
    if deadline_epoch is not None:      # wall clock across processes; monotonic inside
        deadline = time.monotonic() + (deadline_epoch - time.time())
    record = run_one(spec, config, resolve_device(config.sweep.device), deadline=deadline)
    if record["status"] == training.CUT:
        return None
    path = job_file(Path(out_dir), spec.key)
    write_job_record(path, record)
    return str(path)


def config_payload(config: ProbeConfig) -> dict[str, Any]:
    """The config as plain data that `config_from_dict` rebuilds (picklable, JSON-able)."""
    return json.loads(json.dumps(config.to_dict()))


# ---------------------------------------------------------------------------------------------
# Launchers
# ---------------------------------------------------------------------------------------------

@dataclass
class Job:
    spec: Any
    handle: Any = None
    record: dict[str, Any] | None = None   # set when finished; None if cut or failed
    finished: bool = False
    failure: dict[str, Any] | None = None  # set when the job ended without a record


class Launcher(Protocol):
    capacity: int
    name: str

    def submit(self, specs: list[Any], deadline_epoch: float | None) -> list[Job]: ...
    def wait(self, jobs: list[Job]) -> list[Job]: ...
    def cancel(self, job: Job) -> None: ...
    def close(self) -> None: ...


def _collect(job: Job, out_dir: Path) -> Job:
    job.finished = True
    job.record = read_job_record(job_file(out_dir, job.spec.key))
    return job


@dataclass
class InProcessLauncher:
    """Runs each job in the driver when submitted (capacity 1: the sequential search)."""

    config: ProbeConfig
    out_dir: Path
    device: Any
    runner: Any = None              # run_one, or a scripted stand-in in tests
    on_step: Any = None
    capacity: int = 1
    name: str = "local"

    def submit(self, specs: list[Any], deadline_epoch: float | None) -> list[Job]:
        import torch

        from tc0lab.probe import train as training
        from tc0lab.probe.sweep import run_one
        if self.config.sweep.threads > 0:    # the same threads as a worker: same numbers
            torch.set_num_threads(self.config.sweep.threads)
        jobs = []
        for spec in specs:
            deadline = (None if deadline_epoch is None
                        else time.monotonic() + (deadline_epoch - time.time()))
            record = (self.runner or run_one)(spec, self.config, self.device,
                                              deadline=deadline, on_step=self.on_step)
            if record["status"] != training.CUT:
                write_job_record(job_file(self.out_dir, spec.key), record)
            jobs.append(_collect(Job(spec), self.out_dir))
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
    name: str = "local"
    threads: int = field(init=False)
    _context: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise LauncherError(f"--workers must be >= 1, got {self.workers}")
        self.capacity = self.workers
        self.threads = threads_per_worker(self.workers, self.config.sweep.threads)
        self._context = multiprocessing.get_context("forkserver")
        # torch._dynamo is imported lazily by the first optimiser step (~2 s); importing it
        # once in the forkserver makes every forked job start warm
        self._context.set_forkserver_preload(["tc0lab.probe.launchers", "tc0lab.probe.sweep",
                                                "tc0lab.probe.models", "torch._dynamo"])
        self._payload = config_payload(self.config)

    def submit(self, specs: list[Any], deadline_epoch: float | None) -> list[Job]:
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
            done.append(_collect(job, self.out_dir))
        return done

    def cancel(self, job: Job) -> None:
        job.handle.terminate()
        job.handle.join()

    def close(self) -> None:
        pass


SLURM_TIME_MARGIN_MINUTES = 30     # data, model build and evaluation around the training budget


@dataclass(frozen=True)
class SlurmOptions:
    """The --slurm-* options; None leaves Slurm's (or submitit's) default."""

    partition: str | None = None
    time_minutes: int | None = None   # None: the per-run budget + SLURM_TIME_MARGIN_MINUTES
    gpus_per_task: int = 1
    cpus_per_task: int = 4
    array_parallelism: int = 64
    account: str | None = None

    def with_time_for(self, config: ProbeConfig) -> "SlurmOptions":
        """Fill in the time limit from the longest per-run budget when none was given."""
        if self.time_minutes is not None:
            return self
        longest = max(config.settings_for(model)[0].max_seconds
                      for model in config.sweep.models)
        return dataclasses.replace(self, time_minutes=math.ceil(longest / 60)
                                   + SLURM_TIME_MARGIN_MINUTES)

    def submitit_parameters(self) -> dict[str, Any]:
        parameters: dict[str, Any] = {"timeout_min": self.time_minutes,
                                      "gpus_per_node": self.gpus_per_task,
                                      "tasks_per_node": 1, "cpus_per_task": self.cpus_per_task,
                                      "slurm_array_parallelism": self.array_parallelism}
        if self.partition:
            parameters["slurm_partition"] = self.partition
        if self.account:
            parameters["slurm_account"] = self.account
        return parameters


def import_submitit() -> Any:
    try:
        import submitit
    except ImportError:
        raise LauncherError(f"the slurm launcher needs submitit, which is not installed: "
                            f"{INSTALL_HINT}") from None
    # submitit logs INFO lines to stdout: keep stdout for the command's output (--json)
    log = logging.getLogger("submitit")
    log.handlers = [handler for handler in log.handlers if handler.name != "submitit_out"]
    return submitit


def execute_slurm_job(*arguments: Any) -> str | None:
    """`execute_job` as a Slurm job. A run has no checkpoint to requeue from, so submitit's
    time-limit warning (SIGUSR2 shortly before the limit) is ignored and SIGTERM ends the job:
    Slurm's own limit stops the run and Slurm records TIMEOUT (or CANCELLED) for it."""
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return execute_job(*arguments)


# ---------------------------------------------------------------------------------------------
# Slurm job states, read by the driver itself (submitit reads them with sacct only, which needs
# an accounting database; without one a job that Slurm killed would look pending forever)
# ---------------------------------------------------------------------------------------------

def _slurm_output(arguments: list[str]) -> str | None:
    """The stdout of a Slurm client command; None when it is missing, fails or hangs."""
    try:
        done = subprocess.run(arguments, capture_output=True, text=True,
                              timeout=SLURM_COMMAND_SECONDS)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _parse_states(listing: str) -> dict[str, tuple[str, str]]:
    """'id|STATE|reason' lines -> {id: (STATE, reason)}; sacct's 'CANCELLED by 0' -> CANCELLED."""
    states = {}
    for line in listing.splitlines():
        job_id, _, rest = line.strip().partition("|")
        state, _, reason = rest.partition("|")
        if job_id:
            states[job_id] = ((state.split() or [UNKNOWN_STATE])[0], reason)
    return states


def slurm_job_states(job_ids: list[str]) -> dict[str, tuple[str, str]] | None:
    """(state, reason) of each job id ("<id>" or "<array id>_<index>", as submitit names
    them): squeue first (it lists finished jobs for the controller's MinJobAge), then sacct for
    the rest when accounting is on; (UNKNOWN, ...) for a job neither knows. None when squeue
    itself fails (no controller reachable): then nothing can be concluded."""
    listing = _slurm_output(["squeue", "--noheader", "--array", "--states=all",
                             f"--user={os.getuid()}", "--format=%i|%T|%r"])
    if listing is None:
        return None
    states = _parse_states(listing)
    missing = [job_id for job_id in job_ids if job_id not in states]
    if missing:
        states.update(_parse_states(_slurm_output(
            ["sacct", "--noheader", "--parsable2", "--allocations", "--format=JobID,State",
             f"--jobs={','.join(missing)}"]) or ""))
    return {job_id: states.get(job_id, (UNKNOWN_STATE, "neither squeue nor sacct knows it"))
            for job_id in job_ids}


def slurm_ended(state: str) -> bool:
    return state in SLURM_ENDED_STATES or state == UNKNOWN_STATE


def failure_reason(state: str, slurm_reason: str, trace: str | None,
                   time_minutes: int | None) -> str:
    """One line saying why a job left no record: the run's exception, else Slurm's verdict."""
    if trace:
        return [line for line in trace.splitlines() if line.strip()][-1].strip()
    if state == "TIMEOUT":
        return (f"Slurm's time limit ({time_minutes} min, --slurm-time) ended the run before it "
                f"finished")
    if state == "OUT_OF_MEMORY":
        return "the job ran out of memory (Slurm's memory limit for the job)"
    return f"Slurm ended the job ({state}, {slurm_reason or 'no reason given'}) without a result"


def _error_trace(result_pickle: Path) -> str | None:
    """The traceback submitit stored for a job whose function raised, if it did."""
    try:
        with open(result_pickle, "rb") as handle:
            outcome, payload = pickle.load(handle)
    except (OSError, ValueError, EOFError, pickle.UnpicklingError):
        return None
    return str(payload) if outcome == "error" else None


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


@dataclass
class SlurmLauncher:
    """submitit's AutoExecutor; cluster None picks Slurm when available ("local"/"debug")."""

    config: ProbeConfig
    out_dir: Path
    options: SlurmOptions = field(default_factory=SlurmOptions)
    cluster: str | None = None
    name: str = "slurm"
    adopted: int = 0               # jobs of a killed driver waited for instead of resubmitted
    orphans_cancelled: int = 0     # jobs of a killed driver that this sweep did not need

    def __post_init__(self) -> None:
        submitit = import_submitit()
        self._submitit = submitit
        self.options = self.options.with_time_for(self.config)
        self.capacity = self.options.array_parallelism
        self._folder = Path(self.out_dir) / SUBMITIT_DIR
        self._executor = submitit.AutoExecutor(folder=str(self._folder), cluster=self.cluster)
        self._on_slurm = self._executor.cluster == "slurm"
        parameters = self.options.submitit_parameters()
        if not self._on_slurm:    # local/debug take no Slurm-only keys
            parameters = {key: value for key, value in parameters.items()
                          if not key.startswith("slurm_") and key != "gpus_per_node"}
        self._executor.update_parameters(**parameters)
        self._payload = config_payload(self.config)
        self._states: dict[str, tuple[str, str]] = {}
        self._states_at = -math.inf
        self._own: set[str] = set()     # ids of the jobs this driver submitted or adopted

    def submit(self, specs: list[Any], deadline_epoch: float | None) -> list[Job]:
        adopted = self._adopt(specs)
        fresh = [spec for spec in specs if spec.key not in adopted]
        if not fresh:
            return list(adopted.values())
        # the cluster enforces --slurm-time; the sweep deadline is the driver's business
        function = execute_slurm_job if self._on_slurm else execute_job
        with self._executor.batch():
            handles = [self._executor.submit(function, spec, self._payload, str(self.out_dir),
                                             self.options.cpus_per_task, None)
                       for spec in fresh]
        jobs = [Job(spec, handle) for spec, handle in zip(fresh, handles)]
        for job in jobs:
            self._note(job)
        return [*adopted.values(), *jobs]

    def _note(self, job: Job) -> None:
        """Write down the job id, for a driver that restarts after this one is killed."""
        if self._on_slurm:
            self._own.add(job.handle.job_id)
            write_job_record(job_file(self.out_dir, job.spec.key, SLURM_JOBS_DIR),
                             {"run_key": job.spec.key, "job_id": job.handle.job_id,
                              "submitted_at": _now()})

    def _adopt(self, specs: list[Any]) -> dict[str, Job]:
        """The jobs a previous driver submitted for these specs that are still pending or
        running (or finished since this driver merged the job files): wait for those."""
        if not self._on_slurm:
            return {}
        noted = {spec.key: record for spec in specs
                 if (record := read_job_record(job_file(self.out_dir, spec.key, SLURM_JOBS_DIR)))
                 and record["job_id"] not in self._own}
        if not noted:
            return {}
        self._refresh_states([record["job_id"] for record in noted.values()], max_age=0)
        adopted = {}
        for spec in specs:
            record = noted.get(spec.key)
            if record is None or (slurm_ended(self._state(record["job_id"])[0])
                                  and not job_file(self.out_dir, spec.key).exists()):
                continue
            adopted[spec.key] = Job(spec, self._submitit.SlurmJob(folder=self._folder,
                                                                  job_id=record["job_id"]))
            self._own.add(record["job_id"])
        self.adopted += len(adopted)
        return adopted

    def _refresh_states(self, job_ids: list[str], max_age: float) -> None:
        if time.monotonic() - self._states_at < max_age:
            return
        states = slurm_job_states(job_ids)
        if states is not None:          # squeue failed: keep the last view, ask again later
            self._states.update(states)
            self._states_at = time.monotonic()

    def _state(self, job_id: str) -> tuple[str, str]:
        return self._states.get(job_id, ("PENDING", "not yet asked"))

    def wait(self, jobs: list[Job]) -> list[Job]:
        while True:
            if self._on_slurm:
                self._refresh_states([job.handle.job_id for job in jobs], STATE_POLL_SECONDS)
            done = [job for job in jobs if self._ended(job)]
            if done:
                return [self._collect(job) for job in done]
            time.sleep(POLL_SECONDS)

    def _ended(self, job: Job) -> bool:
        if job_file(self.out_dir, job.spec.key).exists():
            return True
        if not self._on_slurm:
            return job.handle.done()
        return slurm_ended(self._state(job.handle.job_id)[0])

    def _collect(self, job: Job) -> Job:
        """The job's record, or else its failure, written to OUT/failures/."""
        _collect(job, self.out_dir)
        if job.record is None and self._on_slurm and self._state(job.handle.job_id)[0] == \
                "COMPLETED":       # a shared filesystem may show the job file late
            job.record = self._wait_for_job_file(job)
        if job.record is None:
            job.failure = self._failure(job)
            write_job_record(job_file(self.out_dir, job.spec.key, FAILURES_DIR,
                                      f".{job.handle.job_id}"), job.failure)
        return job

    def _wait_for_job_file(self, job: Job, seconds: float = 30.0) -> dict[str, Any] | None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            record = read_job_record(job_file(self.out_dir, job.spec.key))
            if record is not None:
                return record
            time.sleep(POLL_SECONDS)
        return None

    def _failure(self, job: Job) -> dict[str, Any]:
        state, slurm_reason = (self._state(job.handle.job_id) if self._on_slurm
                               else (job.handle.state, ""))
        trace = _error_trace(job.handle.paths.result_pickle)
        record = {"run_key": job.spec.key, **dataclasses.asdict(job.spec), "launcher": "slurm",
                  "slurm_job_id": job.handle.job_id, "slurm_state": state,
                  "slurm_reason": slurm_reason,
                  "reason": failure_reason(state, slurm_reason, trace, self.options.time_minutes),
                  "log": str(job.handle.paths.stderr), "failed_at": _now()}
        return json.loads(json.dumps(record))  # as it is written to and read from its file (tuples -> lists)

    def cancel(self, job: Job) -> None:
        job.handle.cancel(check=False)

    def close(self) -> None:
        """Cancel the jobs a killed driver left pending or running that this one never
        adopted: the sweep did not need them."""
        if not self._on_slurm:
            return
        noted = [read_job_record(path)
                 for path in sorted((Path(self.out_dir) / SLURM_JOBS_DIR).glob("*.json"))]
        orphans = [record["job_id"] for record in noted
                   if record is not None and record["job_id"] not in self._own]
        states = slurm_job_states(orphans) if orphans else None
        for job_id, (state, _) in (states or {}).items():
            if not slurm_ended(state):
                _slurm_output(["scancel", job_id])
                self.orphans_cancelled += 1


# ---------------------------------------------------------------------------------------------
# Dry run: an sbatch array script and the job list, nothing submitted
# ---------------------------------------------------------------------------------------------

def sbatch_script(job_count: int, options: SlurmOptions, out_dir: Path) -> str:
    hours, minutes = divmod(options.time_minutes, 60)
    lines = ["#!/bin/bash", "#SBATCH --job-name=tc0lab-probe",
             f"#SBATCH --array=0-{job_count - 1}%{options.array_parallelism}",
             f"#SBATCH --time={hours:02d}:{minutes:02d}:00", "#SBATCH --ntasks=1",
             f"#SBATCH --gpus-per-task={options.gpus_per_task}",
             f"#SBATCH --cpus-per-task={options.cpus_per_task}",
             f"#SBATCH --output={out_dir.resolve() / DRY_RUN_DIR / 'logs' / '%A_%a.out'}"]
    if options.partition:
        lines.append(f"#SBATCH --partition={options.partition}")
    if options.account:
        lines.append(f"#SBATCH --account={options.account}")
    command = (f"{sys.executable} -m tc0lab.probe.launchers {out_dir.resolve()} "
               f"$SLURM_ARRAY_TASK_ID")
    return "\n".join([*lines, "", "set -euo pipefail", command, ""])


def write_dry_run(specs: list[Any], config: ProbeConfig, options: SlurmOptions,
                  out_dir: Path, costs: list[float]) -> dict[str, Any]:
    """Write submit.sbatch and jobs.json under OUT/slurm-dry-run; return what was written."""
    folder = Path(out_dir) / DRY_RUN_DIR
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    jobs = [{"index": index, "run_key": spec.key, "spec": dataclasses.asdict(spec),
             "estimated_gpu_hours": round(cost, 4),
             "command": [sys.executable, "-m", "tc0lab.probe.launchers",
                         str(Path(out_dir).resolve()), str(index)]}
            for index, (spec, cost) in enumerate(zip(specs, costs))]
    document = {"config": config_payload(config), "threads": options.cpus_per_task,
                "jobs": jobs}
    (folder / "jobs.json").write_text(json.dumps(document, indent=1) + "\n")
    (folder / "submit.sbatch").write_text(sbatch_script(len(jobs), options, Path(out_dir)))
    return {"script": str(folder / "submit.sbatch"), "job_list": str(folder / "jobs.json")}


def run_listed_job(out_dir: Path, index: int) -> str | None:
    """Run entry `index` of OUT/slurm-dry-run/jobs.json (the body of the sbatch array)."""
    from tc0lab.probe.sweep import RunSpec
    document = json.loads((Path(out_dir) / DRY_RUN_DIR / "jobs.json").read_text())
    entry = document["jobs"][index]
    return execute_job(RunSpec(**entry["spec"]), document["config"], str(out_dir),
                       document["threads"])


if __name__ == "__main__":
    run_listed_job(Path(sys.argv[1]), int(sys.argv[2]))
