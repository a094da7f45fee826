"""The Slurm launcher (submitit), its --slurm-* options, and the job states it reads itself.

`SlurmLauncher`: submitit's AutoExecutor (cluster "slurm" when available; "local" runs each
job as a local subprocess, "debug" in-process, both for tests). Jobs submitted together form
one job array limited by `array_parallelism`; a job no longer needed is cancelled. On Slurm
the driver reads job states itself (squeue, then sacct when accounting is on), so a job that
Slurm ends without a result (TIMEOUT, OUT_OF_MEMORY, FAILED, CANCELLED, ...) is noticed
without sacct and never hangs the driver. Such a job, or one whose run raised, becomes a
failure record (`Job.failure`: Slurm's state and job id, the reason, the log) written to
`failures/<run key>.<job id>.json`; nothing goes to results.jsonl, so a re-run retries it.
Every submitted job id is noted in `slurm-jobs/<run key>.json`: a driver restarted after a
kill adopts the jobs its predecessor left pending or running instead of submitting them
again, and cancels, when it closes, those it did not need. The sbatch dry run is dry_run.py.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import math
import os
import pickle
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tc0lab.probe.config import ProbeConfig
from tc0lab.probe.launch.jobs import (Job, LauncherError, collect, config_payload, execute_job,
                                      job_file, read_job_record, write_job_record)
from tc0lab.probe.runs import RunSpec

FAILURES_DIR = "failures"
SLURM_JOBS_DIR = "slurm-jobs"
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

    def with_time_for(self, config: ProbeConfig) -> SlurmOptions:
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

    def submit(self, specs: list[RunSpec], deadline_epoch: float | None) -> list[Job]:
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

    def _adopt(self, specs: list[RunSpec]) -> dict[str, Job]:
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
        collect(job, self.out_dir)
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


def failure_line(failure: dict[str, Any]) -> str:
    """One line of a failure record: the run, its Slurm job and state, and why."""
    return (f"{failure['run_key']}: Slurm job {failure['slurm_job_id']} "
            f"{failure['slurm_state']}: {failure['reason']}")
