"""`tc0lab probe`: train real models on a word problem and measure the min depth per length.

A thin layer over tc0lab.probe: it resolves the preset and the options into one strict
`ProbeConfig`, runs the sweep against the results store under --out (resuming finished runs),
and prints the min-layers table and the predictions-vs-measured comparison. torch is imported
only inside the command function, so `tc0lab --help` and the other commands never load it.
"""
from __future__ import annotations

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
DEFAULT_OUT_ROOT = Path("tc0lab-probe")


@click.command(name="probe")
@click.argument("group_or_task")
@click.option("--models", help="Comma-separated models, e.g. ids4,gru,transformer,mamba.")
@click.option("--lengths", help="Comma-separated sequence lengths, e.g. 2,4,8.")
@click.option("--max-layers", type=click.IntRange(min=1), help="Largest depth tried.")
@click.option("--seeds", type=click.IntRange(min=1), help="Seeds per (length, depth).")
@click.option("--preset", default=DEFAULT_PRESET, show_default=True,
              help="quick (laptop CPU), paper (GPU), or a path to a .toml preset.")
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
@json_option
@library_errors
def probe_command(group_or_task: str, models: str | None, lengths: str | None,
                  max_layers: int | None, seeds: int | None, preset: str,
                  time_budget: str | None, device: str | None, out_dir: Path | None,
                  params: int | None, settings: tuple[str, ...], as_json: bool) -> None:
    """Train models on GROUP_OR_TASK (e.g. s5, A5, A4xZ5, z60; comma-separate several) and
    report, per model and length, the smallest number of layers reaching the target
    full-sequence accuracy, beside the checker's prediction.

    Writes results.jsonl, config.json, summary.json and figure.png under --out.
    """
    import torch

    from tc0lab.probe.models import MODEL_NAMES
    from tc0lab.probe.report import (format_min_layers, format_predictions, format_runs,
                                     summarize, write_outputs)
    from tc0lab.probe.results import ResultsStore
    from tc0lab.probe.sweep import Sweep, resolve_device
    from tc0lab.probe.tasks import canonical_task_name

    config = _resolved_config(group_or_task, models, lengths, max_layers, seeds, preset,
                              time_budget, device, params, settings, canonical_task_name)
    _check_model_names(config, MODEL_NAMES)
    if config.sweep.threads > 0:
        torch.set_num_threads(config.sweep.threads)
    out_dir = out_dir or DEFAULT_OUT_ROOT / f"{'-'.join(config.sweep.tasks)}-{config.preset}"
    store = ResultsStore(out_dir, config)
    sweep = Sweep(config, store, resolve_device(config.sweep.device), progress=_TqdmProgress(
        total_cells=len(config.sweep.tasks) * len(config.sweep.lengths)
        * len(config.sweep.models)))
    started = time.monotonic()
    try:
        cells = sweep.run()
    finally:
        sweep.progress.close()
    if sweep.cut and not any(cell.run_keys for cell in cells):
        raise click.ClickException(
            f"the time budget ({config.sweep.time_budget_seconds:g}s) was too small to finish "
            f"any run (per-run budget {config.train.max_seconds:g}s); raise --time-budget")
    summary = summarize(config, cells, store.records, {
        "time_budget_seconds": config.sweep.time_budget_seconds, "cut_by_time_budget": sweep.cut,
        "runs_executed": sweep.runs_executed, "runs_resumed": sweep.runs_resumed,
        "wall_seconds": round(time.monotonic() - started, 1), "device": str(sweep.device),
        "torch_threads": torch.get_num_threads(), "out": str(out_dir)})
    summary["files"] = write_outputs(out_dir, summary)
    if as_json:
        emit_json(summary)
        return
    click.echo(format_min_layers(summary))
    click.echo("\n" + format_predictions(summary))
    click.echo("\nRuns\n" + format_runs(summary))
    if sweep.cut:
        click.echo("\nThe sweep's time budget ran out: cells marked — were not run; re-run "
                   "with the same --out to continue.")
    click.echo(f"\nWrote {', '.join(summary['files'].values())}")


def _resolved_config(group_or_task: str, models: str | None, lengths: str | None,
                     max_layers: int | None, seeds: int | None, preset: str,
                     time_budget: str | None, device: str | None, params: int | None,
                     settings: tuple[str, ...], canonical_task_name: Any) -> ProbeConfig:
    """The preset, then --set overrides, then the named options (which win)."""
    config = load_preset(preset)
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


class _TqdmProgress:
    """Progress on stderr: one bar over cells, one transient bar per run, a line per run."""

    def __init__(self, total_cells: int) -> None:
        from tqdm import tqdm
        self._tqdm = tqdm
        self._cells = tqdm(total=total_cells, desc="cells", unit="cell", file=sys.stderr,
                           position=0)
        self._run = None

    def run_started(self, spec: Any, max_steps: int) -> None:
        if self._run is not None:        # the previous run was cut by the sweep budget
            self._run.close()
        self._run = self._tqdm(total=max_steps, desc=f"{spec.model} n={spec.length} "
                               f"L={spec.layers} seed={spec.seed}", unit="step",
                               file=sys.stderr, leave=False, position=1, mininterval=0.5)

    def step(self, step: int, loss: float) -> None:
        if self._run is not None:
            self._run.update(1)
            if step % 50 == 0:
                self._run.set_postfix(loss=f"{loss:.3f}", refresh=False)

    def run_finished(self, spec: Any, record: dict[str, Any], resumed: bool) -> None:
        if self._run is not None:
            self._run.close()
            self._run = None
        origin = "resumed" if resumed else f"{record['seconds']:.0f}s"
        self._tqdm.write(f"{spec.task} {spec.model} n={spec.length} L={spec.layers} "
                         f"seed={spec.seed}: {record['status']} (steps {record['steps']}, "
                         f"{origin}, test seq acc {record['test']['full_sequence']:.3f})",
                         file=sys.stderr)

    def cell_finished(self, cell: Any) -> None:
        self._cells.update(1)

    def close(self) -> None:
        if self._run is not None:
            self._run.close()
        self._cells.close()
