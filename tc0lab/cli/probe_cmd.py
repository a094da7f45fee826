"""`tc0lab probe`: train real models on a word problem and measure the min depth per length.

A thin layer over tc0lab.probe: it resolves the preset and the options into one strict
`ProbeConfig`, runs the sweep against the results store under --out (resuming finished runs),
and prints the min-layers table and the predictions-vs-measured comparison. torch is imported
only inside the command function, so `tc0lab --help` and the other commands never load it.

Launchers (tc0lab/probe/launchers.py): in-process by default, `--workers N` local processes,
or `--launcher slurm` through submitit with the --slurm-* options; `--dry-run` (slurm only)
writes the sbatch array script and job list of the whole grid and prints its estimated cost.
A preset's `sweep.workers` is the local default (quick: 2). `--save-models` writes every run's
final weights under OUT/models. Bad input is `Error: ...`: torch missing (names the
`tc0lab[probe]` extra) and runs that cannot fit in this machine's memory (tc0lab/probe/limits.py)
included.
"""
from __future__ import annotations

import math
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import click

from tc0lab.cli.common import emit_json, json_option, library_errors, parse_int_list
from tc0lab.probe.config import (DEFAULT_PRESET, ProbeConfig, load_preset, override,
                                 parse_duration)

MIN_SWEEP_SECONDS = 10.0
MODELS_DIR = "models"
DEFAULT_OUT_ROOT = Path("tc0lab-probe")


@click.command(name="probe")
@click.argument("group_or_task")
@click.option("--models", help="Comma-separated models, e.g. ids4,gru,transformer,mamba.")
@click.option("--lengths", help="Comma-separated sequence lengths, e.g. 2,4,8.")
@click.option("--max-layers", type=click.IntRange(min=1), help="Largest depth tried.")
@click.option("--seeds", type=click.IntRange(min=1), help="Seeds per (length, depth).")
@click.option("--all-depths", is_flag=True, default=None,
              help="Run every depth 1..max-layers (sweep.all_depths), not only up to the "
                   "smallest that reaches; the min-layers table is decided the same way.")
@click.option("--preset", default=None,
              help="quick (laptop CPU), paper (GPU), or a path to a .toml preset. Default: the task's "
                   "own preset (probes/copy.toml, recall, parity, flipflop) if it has one, else quick.")
@click.option("--time-budget", help="Wall-clock budget of the whole sweep, e.g. 90s, 20m, 1h.")
@click.option("--device", help="auto (CUDA when available), cpu, cuda or cuda:N.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory; re-running with the same one resumes. "
                   "Default: tc0lab-probe/<task>-<preset>.")
@click.option("--params", type=click.IntRange(min=1),
              help="Match every model to about this many parameters per layer.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Strict override of a preset value, e.g. train.lr=1e-3 or "
                   "per_model.gru.d_model=128 (repeatable).")
@click.option("--launcher", type=click.Choice(["local", "slurm"]), default="local",
              show_default=True, help="Where runs execute: this machine or Slurm (submitit).")
@click.option("--workers", type=click.IntRange(min=1),
              help="local: run N runs at once in N processes (torch threads = cores // N).")
@click.option("--slurm-partition", help="slurm: partition.")
@click.option("--slurm-time", help="slurm: time limit per job, e.g. 4h, 90m (default: the "
              "per-run budget train.max_seconds + 30 min).")
@click.option("--slurm-gpus-per-task", type=click.IntRange(min=0), help="slurm: GPUs per job "
              "(default 1).")
@click.option("--slurm-cpus-per-task", type=click.IntRange(min=1),
              help="slurm: CPUs (and torch threads) per job (default 4).")
@click.option("--slurm-array-parallelism", type=click.IntRange(min=1),
              help="slurm: most jobs running at once (default 64).")
@click.option("--slurm-account", help="slurm: account to charge.")
@click.option("--slurm-cluster", type=click.Choice(["slurm", "local", "debug"]), hidden=True,
              help="submitit cluster (tests: local runs jobs as local subprocesses).")
@click.option("--save-models", is_flag=True,
              help="Write each run's final weights to OUT/models/<run key>.pt (they load with "
                   "torch.load(path, weights_only=True) into build_model(ModelConfig(**record"
                   "['model_config'])).")
@click.option("--dry-run", is_flag=True,
              help="slurm: write the job scripts and job list, print the cost, submit nothing.")
@json_option
@library_errors
def probe_command(group_or_task: str, models: str | None, lengths: str | None,
                  max_layers: int | None, seeds: int | None, all_depths: bool | None,
                  preset: str | None, time_budget: str | None, device: str | None,
                  out_dir: Path | None,
                  params: int | None, settings: tuple[str, ...], launcher: str,
                  workers: int | None, slurm_partition: str | None, slurm_time: str | None,
                  slurm_gpus_per_task: int | None, slurm_cpus_per_task: int | None,
                  slurm_array_parallelism: int | None, slurm_account: str | None,
                  slurm_cluster: str | None, save_models: bool, dry_run: bool,
                  as_json: bool) -> None:
    """Train models on GROUP_OR_TASK (e.g. s5, A5, A4xZ5, z60; comma-separate several) and
    report, per model and length, the smallest number of layers reaching the target
    full-sequence accuracy, beside the checker's prediction.

    Writes results.jsonl, config.json, summary.json, figure.png and curves.png under --out.
    """
    torch = _import_torch()

    from tc0lab.probe.curriculum import expanded_records
    from tc0lab.probe.launchers import FAILURES_DIR
    from tc0lab.probe.limits import check_fits
    from tc0lab.probe.models import MODEL_NAMES
    from tc0lab.probe.report import (format_min_layers, format_predictions, format_runs,
                                     summarize, write_outputs)
    from tc0lab.probe.results import ResultsStore
    from tc0lab.probe.sweep import Sweep, resolve_device
    from tc0lab.probe.tasks import canonical_task_name

    slurm_values = {"partition": slurm_partition, "time": slurm_time,
                    "gpus_per_task": slurm_gpus_per_task, "cpus_per_task": slurm_cpus_per_task,
                    "array_parallelism": slurm_array_parallelism, "account": slurm_account,
                    "cluster": slurm_cluster}
    slurm_options = _checked_launcher_options(launcher, workers, slurm_values, dry_run)
    config = _resolved_config(group_or_task, models, lengths, max_layers, seeds, preset,
                              time_budget, device, params, settings, canonical_task_name,
                              all_depths)
    _check_model_names(config, MODEL_NAMES)
    if launcher == "local":            # a Slurm job's memory is the cluster node's
        check_fits(config)
    if config.sweep.threads > 0:
        torch.set_num_threads(config.sweep.threads)
    out_dir = out_dir or DEFAULT_OUT_ROOT / f"{'-'.join(config.sweep.tasks)}-{config.preset}"
    if save_models:
        config = override(config, "sweep.save_models_dir", str((out_dir / MODELS_DIR).resolve()))
    if workers is None and launcher == "local":
        workers = config.sweep.workers or None      # the preset's (quick: both cores)
    store = ResultsStore(out_dir, config)
    if dry_run:
        _dry_run(config, store, slurm_options, as_json)
        return
    device_used = resolve_device(config.sweep.device) if launcher == "local" else "slurm"
    run_launcher = _make_launcher(launcher, workers, config, out_dir, slurm_options,
                                  slurm_cluster)
    sweep = Sweep(config, store, device_used, progress=_TqdmProgress(
        total_cells=len(config.sweep.tasks) * len(config.sweep.lengths)
        * len(config.sweep.models), step_bars=run_launcher is None), launcher=run_launcher)
    started = time.monotonic()
    try:
        cells = sweep.run()
    finally:
        sweep.progress.close()
    if sweep.failures and not any(cell.run_keys for cell in cells):
        raise click.ClickException(
            f"every run failed ({len(sweep.failures)}); the first: "
            f"{_failure_line(sweep.failures[0])} (records under {out_dir / FAILURES_DIR})")
    if sweep.cut and not any(cell.run_keys for cell in cells):
        raise click.ClickException(
            f"the time budget ({config.sweep.time_budget_seconds:g}s) was too small to finish "
            f"any run (per-run budget {config.train.max_seconds:g}s); raise --time-budget")
    summary = summarize(config, cells, expanded_records(store.records), {
        "time_budget_seconds": config.sweep.time_budget_seconds, "cut_by_time_budget": sweep.cut,
        "runs_executed": sweep.runs_executed, "runs_resumed": sweep.runs_resumed,
        "runs_merged_from_job_files": sweep.runs_merged, "runs_wasted": sweep.runs_wasted,
        "runs_cancelled": sweep.runs_cancelled, "runs_failed": len(sweep.failures),
        "failed_runs": sweep.failures, **_slurm_counts(run_launcher),
        "launcher": launcher if not workers else f"local --workers {workers}",
        "wall_seconds": round(time.monotonic() - started, 1), "device": str(sweep.device),
        "torch_threads": torch.get_num_threads(), "out": str(out_dir)})
    summary["files"] = write_outputs(out_dir, summary)
    if as_json:
        emit_json(summary)
        return
    click.echo(format_min_layers(summary))
    click.echo("\n" + format_predictions(summary))
    click.echo("\nRuns\n" + format_runs(summary))
    sweep_info = summary["sweep"]
    click.echo(f"\nLauncher {sweep_info['launcher']}: {sweep.runs_executed} runs executed, "
               f"{sweep.runs_resumed} resumed, {sweep.runs_wasted} wasted and "
               f"{sweep.runs_cancelled} cancelled by early-stopped waves.")
    _echo_failures(sweep.failures)
    if sweep.cut:
        click.echo("\nThe sweep's time budget ran out: cells marked — were not run; re-run "
                   "with the same --out to continue.")
    click.echo(f"\nWrote {', '.join(summary['files'].values())}")


def _import_torch() -> Any:
    """torch, or Error: naming the extra that installs it."""
    try:
        import torch
    except ImportError as error:
        raise click.ClickException(
            f"tc0lab probe trains PyTorch models, but torch is not importable ({error}); "
            "install the probe extra: pip install 'tc0lab[probe]'") from None
    return torch


def _checked_launcher_options(launcher: str, workers: int | None,
                              slurm_values: dict[str, Any], dry_run: bool) -> Any:
    """The SlurmOptions of a slurm launch; Error: for options of the other launcher."""
    from tc0lab.probe.launchers import SlurmOptions
    given = [f"--slurm-{name.replace('_', '-')}" for name, value in slurm_values.items()
             if value is not None]
    if launcher == "local":
        if given:
            raise click.ClickException(f"{', '.join(given)}: only with --launcher slurm")
        if dry_run:
            raise click.ClickException("--dry-run needs --launcher slurm (a local sweep has "
                                       "no job scripts to write)")
        return None
    if workers is not None:
        raise click.ClickException("--workers is for --launcher local; for slurm use "
                                   "--slurm-array-parallelism")
    values = {name: value for name, value in slurm_values.items()
              if value is not None and name not in ("time", "cluster")}
    if slurm_values["time"] is not None:
        values["time_minutes"] = max(1, math.ceil(parse_duration(slurm_values["time"]) / 60))
    return SlurmOptions(**values)


def _make_launcher(launcher: str, workers: int | None, config: ProbeConfig, out_dir: Path,
                   slurm_options: Any, cluster: str | None) -> Any:
    from tc0lab.probe.launchers import ProcessLauncher, SlurmLauncher
    if launcher == "slurm":
        return SlurmLauncher(config, out_dir, slurm_options, cluster=cluster)
    return ProcessLauncher(config, out_dir, workers) if workers else None


def _slurm_counts(launcher: Any) -> dict[str, int]:
    """Jobs a killed driver left in Slurm: adopted (waited for) or cancelled (not needed)."""
    if not hasattr(launcher, "adopted"):
        return {}
    return {"slurm_jobs_adopted": launcher.adopted,
            "slurm_jobs_orphans_cancelled": launcher.orphans_cancelled}


def _echo_failures(failures: list[dict[str, Any]]) -> None:
    if not failures:
        return
    click.echo(f"\n{len(failures)} runs failed (their cells are marked —; re-run with the same "
               f"--out to retry them):")
    for failure in failures:
        click.echo(f"  {_failure_line(failure)} (log {failure['log']})")


def _failure_line(failure: dict[str, Any]) -> str:
    return (f"{failure['run_key']}: Slurm job {failure['slurm_job_id']} "
            f"{failure['slurm_state']}: {failure['reason']}")


def _dry_run(config: ProbeConfig, store: Any, options: Any, as_json: bool) -> None:
    """Write the sbatch array of the whole grid and print how many jobs and their cost."""
    from tc0lab.probe.cost import run_gpu_hours, search_run_bound
    from tc0lab.probe.launchers import import_submitit, write_dry_run
    from tc0lab.probe.sweep import grid
    import_submitit()                   # a dry run is a plan for submitit's cluster
    options = options.with_time_for(config)
    specs = grid(config, store.experiment_hash)
    costs = [run_gpu_hours(spec, config) for spec in specs]
    files = write_dry_run(specs, config, options, store.out_dir, costs)
    # with all_depths the search runs the whole grid
    bound = len(specs) if config.sweep.all_depths else search_run_bound(config)
    mean = sum(costs) / len(costs)
    plan = {"jobs": len(specs), "estimated_gpu_hours": round(sum(costs), 3),
            "search_run_bound": bound,
            "search_estimated_gpu_hours": round(bound * mean, 3),
            "cost_model": "constructed: 6*params*tokens at 10 TFLOP/s + 5 ms per step and "
                          "layer, whole budget (max_steps, or max_epochs over the fixed "
                          "dataset; no early stop); see tc0lab/probe/cost.py",
            "files": files, "submitted": False}
    if as_json:
        emit_json(plan)
        return
    click.echo(f"Dry run: {plan['jobs']} jobs (the whole grid, one per task, model, length, "
               f"layers, seed), estimated {plan['estimated_gpu_hours']:.1f} GPU-hours "
               f"(upper bound, no early stop).\nThe adaptive search (tc0lab probe ... "
               f"--launcher slurm) runs at most {bound} of them, about "
               f"{plan['search_estimated_gpu_hours']:.1f} GPU-hours.\nCost model: "
               f"{plan['cost_model']}.\nWrote {files['script']} and {files['job_list']}; "
               f"submit with: sbatch {files['script']}")


def _default_preset(group_or_task: str) -> str:
    """The first task's own preset (e.g. probes/copy.toml) when there is one, else quick."""
    from tc0lab.probe.config import PRESET_DIR
    base = group_or_task.split(",")[0].split(":")[0].strip().lower()
    return base if (PRESET_DIR / f"{base}.toml").is_file() else DEFAULT_PRESET


def _resolved_config(group_or_task: str, models: str | None, lengths: str | None,
                     max_layers: int | None, seeds: int | None, preset: str | None,
                     time_budget: str | None, device: str | None, params: int | None,
                     settings: tuple[str, ...], canonical_task_name: Any,
                     all_depths: bool | None = None) -> ProbeConfig:
    """The preset, then --set overrides, then the named options (which win)."""
    config = load_preset(preset or _default_preset(group_or_task))
    for setting in settings:
        key, value = _split_setting(setting)
        config = override(config, key, value)
    tasks = [canonical_task_name(name.strip()) for name in group_or_task.split(",")
             if name.strip()]
    options: dict[str, Any] = {"sweep.tasks": tasks}
    if models:
        options["sweep.models"] = [name.strip().lower() for name in models.split(",")
                                   if name.strip()]
    if lengths:
        options["sweep.lengths"] = parse_int_list(lengths, "--lengths")
    if time_budget:
        options["sweep.time_budget_seconds"] = _checked_budget(time_budget)
    options.update({key: value for key, value in (("sweep.max_layers", max_layers),
                                                  ("sweep.seeds", seeds),
                                                  ("sweep.all_depths", all_depths or None),
                                                  ("sweep.device", device),
                                                  ("model.params", params))
                    if value is not None})
    for key, value in options.items():
        config = override(config, key, value)
    if config.sweep.time_budget_seconds < MIN_SWEEP_SECONDS:
        raise click.ClickException(_budget_too_small(config.sweep.time_budget_seconds))
    return config


def _checked_budget(text: str) -> float:
    seconds = parse_duration(text)
    if seconds < MIN_SWEEP_SECONDS:
        raise click.ClickException(_budget_too_small(seconds))
    return seconds


def _budget_too_small(seconds: float) -> str:
    return (f"a time budget of {seconds:g}s is too small to train anything; "
            f"give at least {MIN_SWEEP_SECONDS:g}s (e.g. --time-budget 5m)")


def _split_setting(setting: str) -> tuple[str, Any]:
    key, separator, text = setting.partition("=")
    if not separator or not key.strip():
        raise click.BadParameter(f"expected KEY=VALUE, got {setting!r}", param_hint="--set")
    try:
        value = tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        value = text            # a bare word such as cosine is a string
    return key.strip(), value


def _check_model_names(config: ProbeConfig, known: Any) -> None:
    for name in [*config.sweep.models, *config.per_model]:
        if name not in known:
            raise click.ClickException(f"unknown model {name!r} (known: {', '.join(known)})")


def _lengths_text(spec: Any) -> str:
    if spec.lengths:
        return "curriculum n=" + ",".join(map(str, spec.lengths))
    return f"n={spec.length}"


class _TqdmProgress:
    """Progress on stderr: one bar over cells, one transient bar per run, a line per run.

    Per-run step bars only in-process: runs in other processes report when they finish."""

    def __init__(self, total_cells: int, step_bars: bool = True) -> None:
        from tqdm import tqdm
        self._tqdm = tqdm
        self._step_bars = step_bars
        self._cells = tqdm(total=total_cells, desc="cells", unit="cell", file=sys.stderr,
                           position=0)
        self._run = None

    def run_started(self, spec: Any, max_steps: int) -> None:
        if not self._step_bars:
            return
        if self._run is not None:        # the previous run was cut by the sweep budget
            self._run.close()
        self._run = self._tqdm(total=max_steps, desc=f"{spec.model} {_lengths_text(spec)} "
                               f"L={spec.layers} seed={spec.seed}", unit="step",
                               file=sys.stderr, leave=False, position=1, mininterval=0.5)

    def step(self, step: int, loss: float) -> None:
        if self._run is not None:
            if step == 1 and self._run.n:      # a curriculum run starts its next length
                self._run.reset()
            self._run.update(1)
            if step % 50 == 0:
                self._run.set_postfix(loss=f"{loss:.3f}", refresh=False)

    def run_finished(self, spec: Any, record: dict[str, Any], resumed: bool) -> None:
        if self._run is not None:
            self._run.close()
            self._run = None
        origin = "resumed" if resumed else f"{record['seconds']:.0f}s"
        reached = (f", largest n reached {record['reached_length'] or 'none'}"
                   if "reached_length" in record else "")
        self._tqdm.write(f"{spec.task} {spec.model} {_lengths_text(spec)} L={spec.layers} "
                         f"seed={spec.seed}: {record['status']} (steps {record['steps']}, "
                         f"{origin}, test seq acc {record['test']['full_sequence']:.3f} at "
                         f"n={record['test']['length']}{reached})", file=sys.stderr)

    def cell_finished(self, cell: Any) -> None:
        self._cells.update(1)

    def close(self) -> None:
        if self._run is not None:
            self._run.close()
        self._cells.close()
