"""The probe command's options resolved into one `ProbeConfig`, its output directory and its
worker count (torch-free; bad values raise ConfigError, which the command prints as Error:).

Order: the preset (the first task's own preset, e.g. probes/copy.toml, else quick), then the
--set overrides, then the named options (which win). Model names are checked against the
recipe table (recipes.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tc0lab.probe.config import (DEFAULT_PRESET, PRESET_DIR, ConfigError, ProbeConfig,
                                 load_preset, override, parse_duration)
from tc0lab.probe.recipes import MODEL_NAMES
from tc0lab.probe.tasks import canonical_task_name

MIN_SWEEP_SECONDS = 10.0
MODELS_DIR = "models"
DEFAULT_OUT_ROOT = Path("tc0lab-probe")


def default_preset(group_or_task: str) -> str:
    """The first task's own preset (e.g. probes/copy.toml) when there is one, else quick."""
    base = group_or_task.split(",")[0].split(":")[0].strip().lower()
    return base if (PRESET_DIR / f"{base}.toml").is_file() else DEFAULT_PRESET


def resolved_config(group_or_task: str, models: str | None = None,
                    lengths: list[int] | None = None, max_layers: int | None = None,
                    seeds: int | None = None, preset: str | None = None,
                    time_budget: str | None = None, device: str | None = None,
                    params: int | None = None,
                    settings: tuple[tuple[str, Any], ...] = (),
                    all_depths: bool | None = None) -> ProbeConfig:
    """The preset, then the (key, value) overrides of --set, then the named options."""
    config = load_preset(preset or default_preset(group_or_task))
    for key, value in settings:
        config = override(config, key, value)
    tasks = [canonical_task_name(name.strip()) for name in group_or_task.split(",")
             if name.strip()]
    options: dict[str, Any] = {"sweep.tasks": tasks}
    if models:
        options["sweep.models"] = [name.strip().lower() for name in models.split(",")
                                   if name.strip()]
    if lengths:
        options["sweep.lengths"] = lengths
    if time_budget:
        options["sweep.time_budget_seconds"] = _checked_budget(parse_duration(time_budget))
    options.update({key: value for key, value in (("sweep.max_layers", max_layers),
                                                  ("sweep.seeds", seeds),
                                                  ("sweep.all_depths", all_depths or None),
                                                  ("sweep.device", device),
                                                  ("model.params", params))
                    if value is not None})
    for key, value in options.items():
        config = override(config, key, value)
    _checked_budget(config.sweep.time_budget_seconds)
    check_model_names(config)
    return config


def _checked_budget(seconds: float) -> float:
    if seconds < MIN_SWEEP_SECONDS:
        raise ConfigError(f"a time budget of {seconds:g}s is too small to train anything; "
                          f"give at least {MIN_SWEEP_SECONDS:g}s (e.g. --time-budget 5m)")
    return seconds


def check_model_names(config: ProbeConfig) -> None:
    """ConfigError for a model of the sweep or of per_model that has no recipe."""
    for name in [*config.sweep.models, *config.per_model]:
        if name not in MODEL_NAMES:
            raise ConfigError(f"unknown model {name!r} (known: {', '.join(MODEL_NAMES)})")


def out_dir_for(config: ProbeConfig, out_dir: Path | None) -> Path:
    """--out, or tc0lab-probe/<tasks>-<preset>."""
    return out_dir or DEFAULT_OUT_ROOT / f"{'-'.join(config.sweep.tasks)}-{config.preset}"


def saving_models(config: ProbeConfig, out_dir: Path) -> ProbeConfig:
    """The config with sweep.save_models_dir = OUT/models (--save-models)."""
    return override(config, "sweep.save_models_dir", str((out_dir / MODELS_DIR).resolve()))
