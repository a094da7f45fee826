"""One training run: `run_one(spec, config, device)` builds the run's task and model, trains
it (tc0lab/probe/train.py) and returns its record; it needs nothing else, so a launcher can run
runs as independent jobs.

A run of a curriculum (`spec.lengths`, the quick preset's protocol, curriculum.py) trains one
model up the lengths with warm starts: at the shortest length until validation reaches the
early-stop accuracy or the per-length budget ends, is tested there, and, if its test
full-sequence accuracy reached the target, continues WITH THE SAME WEIGHTS (a fresh optimiser)
at the next length. It stops at the first length it does not reach; the record keeps every
length it trained at ("stages"), each with its accuracies, extrapolation accuracy and learning
curve, and `reached_length`, the largest length reached.

The model's train and model settings (with their per_model overrides) are resolved once per
run. With sweep.save_models_dir a finished run's final weights are written next to its record
(atomically, tc0lab.atomic_file).
"""
from __future__ import annotations

import dataclasses
import datetime
import importlib.metadata
import math
import platform
from pathlib import Path
from typing import Any, Callable

import torch

from tc0lab import atomic_file
from tc0lab.probe import train as training
from tc0lab.probe.batches import Task
from tc0lab.probe.config import ModelSettings, ProbeConfig, TrainSettings
from tc0lab.probe.models import ModelConfig, build_model, width_for_params
from tc0lab.probe.runs import CUT, DIVERGED, NOT_REACHED, REACHED, RunSpec
from tc0lab.probe.tasks import make_task
from tc0lab.probe.word_problems import strict_split

StepCallback = Callable[[int, float], None]


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


def run_model_config(spec: RunSpec, settings: ModelSettings, vocab_size: int, n_classes: int,
                     max_len: int) -> ModelConfig:
    """The ModelConfig of a run (stored in its record, so its weights can be reloaded)."""
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
                    max_len: int, settings: ModelSettings | None = None) -> torch.nn.Module:
    """The model of a run, seeded (settings: the model's, when already resolved)."""
    settings = settings or config.settings_for(spec.model)[1]
    model_config = run_model_config(spec, settings, vocab_size, n_classes, max_len)
    torch.manual_seed(spec.seed)
    return build_model(model_config)


def task_pair(name: str, length: int, config: ProbeConfig) -> tuple[Task, Task | None]:
    """The task of a run at one length and its extrapolation task (None when off)."""
    settings = config.task
    task = make_task(name, length, settings.eval_size, settings.short_words_fraction, seed=0,
                     split=strict_split(settings))
    factor = settings.extrapolation_factor
    return task, task.at_length(length * factor) if factor else None


def run_one(spec: RunSpec, config: ProbeConfig, device: torch.device,
            deadline: float | None = None,
            on_step: StepCallback | None = None) -> dict[str, Any]:
    """Train one run (a curriculum run when spec.lengths) and return its record."""
    train_settings, model_settings = config.settings_for(spec.model)
    lengths = spec.lengths or (spec.length,)
    longest = max(lengths) * max(config.task.extrapolation_factor, 1)
    stages: list[dict[str, Any]] = []
    model = result = task = None
    for length in lengths:
        task, long_task = task_pair(spec.task, length, config)
        if model is None:
            model = build_run_model(spec, config, task.vocab_size, task.n_classes, longest,
                                    model_settings)
        result = training.train(model, task, train_settings, seed=spec.seed, device=device,
                                deadline=deadline, extrapolation_task=long_task,
                                on_step=on_step)
        stages.append({"length": length, **result_fields(result), "disjoint_eval": task.disjoint})
        if result.status != REACHED:
            break
    record = make_record(spec, config, result, model, device, task.disjoint,
                         (train_settings, model_settings))
    if config.sweep.save_models_dir and result.status != CUT:
        record["checkpoint"] = save_checkpoint(model, Path(config.sweep.save_models_dir),
                                               spec.key)
    if spec.lengths:
        _add_curriculum_fields(record, stages, spec.lengths)
    return record


def _add_curriculum_fields(record: dict[str, Any], stages: list[dict[str, Any]],
                           lengths: tuple[int, ...]) -> None:
    reached = [stage["length"] for stage in stages if stage["status"] == REACHED]
    record.update(stages=stages, lengths=list(lengths),
                  steps=sum(stage["steps"] for stage in stages),
                  seconds=round(sum(stage["seconds"] for stage in stages), 3),
                  reached_length=max(reached, default=0),
                  status=_curriculum_status(stages, len(lengths)))


def _curriculum_status(stages: list[dict[str, Any]], lengths: int) -> str:
    last = stages[-1]["status"]
    if last in (CUT, DIVERGED):
        return last
    return REACHED if len(stages) == lengths and last == REACHED else NOT_REACHED


def result_fields(result: training.TrainResult) -> dict[str, Any]:
    """What a record keeps of one training call: status, budget used, accuracies, curve."""
    accuracies = {name: dataclasses.asdict(value) if value is not None else None
                  for name, value in (("validation", result.validation), ("test", result.test),
                                      ("extrapolation", result.extrapolation))}
    return {"status": result.status, "stop_reason": result.stop_reason,
            "steps": result.steps, "seconds": round(result.seconds, 3),
            "final_loss": result.final_loss if math.isfinite(result.final_loss) else None,
            **accuracies, "curve": [dataclasses.asdict(point) for point in result.curve]}


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
                model: torch.nn.Module, device: torch.device, disjoint_eval: bool,
                settings: tuple[TrainSettings, ModelSettings]) -> dict[str, Any]:
    """The record of a finished run (settings: the model's train and model settings)."""
    train_settings, model_settings = settings
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
