"""`tc0lab probe`: train real models on a word problem and measure the min depth per length.

A thin layer over tc0lab.probe: options -> config (tc0lab/probe/options.py: the preset, --set,
then the named options, into one strict `ProbeConfig`) -> launcher (tc0lab/probe/launch/:
in-process by default, `--workers N` local processes, or `--launcher slurm` through submitit
with the --slurm-* options) -> sweep (tc0lab/probe/sweep.py, against the results store under
--out, resuming finished runs) -> print the min-layers table and the predictions-vs-measured
comparison (tc0lab/probe/report.py). `--dry-run` (slurm only) writes the sbatch array script and
job list of the whole grid and prints its estimated cost (tc0lab/probe/launch/dry_run.py). A
preset's `sweep.workers` is the local default (quick: 2). `--save-models` writes every run's
final weights under OUT/models. Bad input is `Error: ...`: torch missing (names the
`tc0lab[probe]` extra) and runs that cannot fit in this machine's memory (tc0lab/probe/limits.py)
included. torch is imported only inside the command function, so `tc0lab --help` and the other
commands never load it.
"""
from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import click

from tc0lab.cli.common import emit_json, json_option, library_errors, parse_int_list
from tc0lab.probe.config import parse_duration


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

    from tc0lab.probe import options as probe_options
    from tc0lab.probe.launch import make_launcher
    from tc0lab.probe.limits import check_fits
    from tc0lab.probe.progress import TqdmProgress
    from tc0lab.probe.report import (format_min_layers, format_predictions, format_runs,
                                     summarize, write_outputs)
    from tc0lab.probe.results import ResultsStore
    from tc0lab.probe.run import resolve_device
    from tc0lab.probe.runs import expanded_records
    from tc0lab.probe.sweep import Sweep

    slurm_values = {"partition": slurm_partition, "time": slurm_time,
                    "gpus_per_task": slurm_gpus_per_task, "cpus_per_task": slurm_cpus_per_task,
                    "array_parallelism": slurm_array_parallelism, "account": slurm_account,
                    "cluster": slurm_cluster}
    slurm_options = _checked_launcher_options(launcher, workers, slurm_values, dry_run)
    config = probe_options.resolved_config(
        group_or_task, models, parse_int_list(lengths, "--lengths") if lengths else None,
        max_layers, seeds, preset, time_budget, device, params,
        tuple(_split_setting(setting) for setting in settings), all_depths)
    if launcher == "local":            # a Slurm job's memory is the cluster node's
        check_fits(config)
    if config.sweep.threads > 0:
        torch.set_num_threads(config.sweep.threads)
    out_dir = probe_options.out_dir_for(config, out_dir)
    if save_models:
        config = probe_options.saving_models(config, out_dir)
    if workers is None and launcher == "local":
        workers = config.sweep.workers or None      # the preset's (quick: both cores)
    store = ResultsStore(out_dir, config)
    if dry_run:
        _echo_dry_run(config, store, slurm_options, as_json)
        return
    device_used = resolve_device(config.sweep.device) if launcher == "local" else "slurm"
    run_launcher = make_launcher(launcher, workers, config, out_dir, slurm_options,
                                 slurm_cluster)
    sweep = Sweep(config, store, device_used, progress=TqdmProgress(
        total_cells=len(config.sweep.tasks) * len(config.sweep.lengths)
        * len(config.sweep.models), step_bars=run_launcher is None), launcher=run_launcher)
    try:
        cells = sweep.run()
    finally:
        sweep.progress.close()
    sweep.check_outcome(cells)
    summary = summarize(config, cells, expanded_records(store.records),
                        sweep.statistics(run_launcher, torch.get_num_threads()))
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
    from tc0lab.probe.launch.slurm import SlurmOptions
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


def _echo_failures(failures: list[dict[str, Any]]) -> None:
    from tc0lab.probe.launch.slurm import failure_line
    if not failures:
        return
    click.echo(f"\n{len(failures)} runs failed (their cells are marked —; re-run with the same "
               f"--out to retry them):")
    for failure in failures:
        click.echo(f"  {failure_line(failure)} (log {failure['log']})")


def _echo_dry_run(config: Any, store: Any, options: Any, as_json: bool) -> None:
    """Write the sbatch array of the whole grid and print how many jobs and their cost."""
    from tc0lab.probe.launch.dry_run import plan_dry_run
    plan = plan_dry_run(config, options, store.out_dir, store.experiment_hash)
    if as_json:
        emit_json(plan)
        return
    files = plan["files"]
    click.echo(f"Dry run: {plan['jobs']} jobs (the whole grid, one per task, model, length, "
               f"layers, seed), estimated {plan['estimated_gpu_hours']:.1f} GPU-hours "
               f"(upper bound, no early stop).\nThe adaptive search (tc0lab probe ... "
               f"--launcher slurm) runs at most {plan['search_run_bound']} of them, about "
               f"{plan['search_estimated_gpu_hours']:.1f} GPU-hours.\nCost model: "
               f"{plan['cost_model']}.\nWrote {files['script']} and {files['job_list']}; "
               f"submit with: sbatch {files['script']}")


def _split_setting(setting: str) -> tuple[str, Any]:
    """--set KEY=VALUE: the value read as TOML (a bare word such as cosine is a string)."""
    key, separator, text = setting.partition("=")
    if not separator or not key.strip():
        raise click.BadParameter(f"expected KEY=VALUE, got {setting!r}", param_hint="--set")
    try:
        value = tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        value = text            # a bare word such as cosine is a string
    return key.strip(), value
