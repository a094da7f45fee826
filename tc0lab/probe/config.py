"""Probe configuration: small strict dataclasses, TOML presets, and the experiment hash.

A probe run is configured in five sections (the TOML tables of a preset in `probes/`):

- `sweep`: the grid and the resources (tasks, models, lengths, max layers, seeds, the
  whole-sweep wall-clock budget, device, torch threads, workers, where to save weights).
  Changing these never changes what a single run computes, so they are NOT part of the
  experiment hash: a later invocation may extend the grid in the same output directory. (A
  curriculum run's key names its lengths, so another list of lengths gives other runs.)
- `train`, `model`, `task`: how every run trains, how big its model is, how its data is made.
- `per_model`: overrides of `train`/`model` fields for one model, e.g. a smaller lr for the
  transformer.

Everything except `sweep` is hashed into the experiment hash; results of one hash are never
mixed with another's (see results.py). Overrides are strict: an unknown key or a value of the
wrong type raises `ConfigError` naming the key. This module does not import torch.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRESET_DIR = Path(__file__).resolve().parents[2] / "probes"
DEFAULT_PRESET = "quick"
SEED_RULES = ("best", "median")
SCHEDULES = ("constant", "cosine")


class ConfigError(ValueError):
    """An unknown key, a value of the wrong type or out of range, or a missing preset."""


@dataclass(frozen=True)
class TrainSettings:
    """One run's optimisation: AdamW, schedule, budgets, early stopping."""

    max_steps: int = 2000            # per-run step budget
    max_seconds: float = 60.0        # per-run wall-clock budget
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.01
    schedule: str = "constant"       # "constant" or "cosine" (both after linear warmup)
    warmup_steps: int = 0
    grad_clip: float = 1.0           # max gradient norm; 0 disables clipping
    eval_every: int = 100            # steps between validation evaluations
    target_accuracy: float = 0.9     # test full-sequence accuracy that counts as solved
    early_stop_accuracy: float = 0.0  # stop when validation reaches this; 0 = target_accuracy
    max_epochs: int = 0              # > 0 with task.strict_length: budget in epochs, eval each
    plateau_steps: int = 0           # > 0: stop when a window of this many steps did not help
    plateau_min_drop: float = 0.02   # ... i.e. its mean loss fell < this share below the last
    curriculum: bool = False         # one run per (model, depth, seed) up sweep.lengths (warm)


@dataclass(frozen=True)
class ModelSettings:
    """Model size; fields mirror tc0lab.probe.models.ModelConfig."""

    d_model: int = 64
    d_state: int = 16
    params: int = 0                  # > 0: choose d_model so each model has ~this many params
    positions: str = "learned"       # transformer only: "learned" or "sinusoidal"
    beta_max: float = 2.0            # deltanet only
    scan: str = "parallel"           # "parallel" or "sequential" (the reference)
    fnn_depth: int = 1               # ssm-fnn only: hidden layers per token-wise FNN
    fnn_width: int = 0               # ssm-fnn only: their width; 0 = 2 * d_model
    mlp_ratio: int = 2               # the MLP's hidden width / d_model (not ssm-fnn)
    norm: str = "pre"                # "pre" or "post" (LN after each residual sum)
    conv_kernel: int = 0             # mamba only: the Mamba block's causal conv width; 0 = none


@dataclass(frozen=True)
class TaskSettings:
    """How data is made: eval-set sizes, short words in training, extrapolation length."""

    eval_size: int = 512             # words in each of the validation and test sets
    short_words_fraction: float = 0.1  # share of each training batch that is a length-2 word
    extrapolation_factor: int = 4    # also test at factor * n; 0 disables
    strict_length: bool = False      # a fixed dataset per length, the paper's split (tasks.py)
    dataset_size: int = 1_000_000    # strict_length: words sampled when length > exhaustive
    exhaustive_max_length: int = 3   # strict_length: every word up to this length


@dataclass(frozen=True)
class SweepSettings:
    """The grid and its resources; not part of the experiment hash."""

    tasks: tuple[str, ...] = ("S5",)
    models: tuple[str, ...] = ("ids4", "gru", "transformer", "mamba")
    lengths: tuple[int, ...] = (2, 4, 8)
    max_layers: int = 3
    seeds: int = 1
    seed_rule: str = "best"          # "best": any seed reaching counts; "median": median acc
    time_budget_seconds: float = 1200.0
    device: str = "auto"
    threads: int = 0                 # torch threads; 0 leaves torch's default
    all_depths: bool = False         # run every depth 1..max_layers, not only up to the answer
    workers: int = 0                 # local runs at once in their own processes; 0: in-process
    save_models_dir: str = ""        # --save-models: each run's final weights go here


@dataclass(frozen=True)
class ProbeConfig:
    """The full resolved configuration of a probe invocation."""

    preset: str = DEFAULT_PRESET
    sweep: SweepSettings = field(default_factory=SweepSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    task: TaskSettings = field(default_factory=TaskSettings)
    per_model: dict[str, dict[str, Any]] = field(default_factory=dict)

    def settings_for(self, model_name: str) -> tuple[TrainSettings, ModelSettings]:
        """The train and model settings of one model, with its per_model overrides applied."""
        overrides = self.per_model.get(model_name, {})
        train_fields = {f.name for f in dataclasses.fields(TrainSettings)}
        train = dataclasses.replace(self.train, **{k: v for k, v in overrides.items()
                                                   if k in train_fields})
        model = dataclasses.replace(self.model, **{k: v for k, v in overrides.items()
                                                   if k not in train_fields})
        return train, model

    def experiment_dict(self) -> dict[str, Any]:
        """The part of the config that decides what a run computes (hashed)."""
        return {"train": dataclasses.asdict(self.train), "model": dataclasses.asdict(self.model),
                "task": dataclasses.asdict(self.task),
                "per_model": {name: dict(sorted(values.items()))
                              for name, values in sorted(self.per_model.items())}}

    def experiment_hash(self) -> str:
        text = json.dumps(self.experiment_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {"preset": self.preset, "sweep": dataclasses.asdict(self.sweep),
                **self.experiment_dict()}


SECTIONS: dict[str, type] = {"sweep": SweepSettings, "train": TrainSettings,
                             "model": ModelSettings, "task": TaskSettings}
PER_MODEL_FIELDS: dict[str, type] = {**{f.name: TrainSettings for f in
                                        dataclasses.fields(TrainSettings)},
                                     **{f.name: ModelSettings for f in
                                        dataclasses.fields(ModelSettings)}}


# ---------------------------------------------------------------------------------------------
# Strict values
# ---------------------------------------------------------------------------------------------

def _coerce(value: Any, expected: Any, key: str) -> Any:
    """Return `value` as type `expected`, or raise ConfigError naming `key`."""
    origin = typing.get_origin(expected)
    if origin is tuple:
        item_type = typing.get_args(expected)[0]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        return tuple(_coerce(item, item_type, f"{key}[]") for item in value)
    if expected is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
        return value
    raise ConfigError(f"{key} must be of type {expected.__name__}, got {value!r} "
                      f"({type(value).__name__})")


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _updated(instance: Any, values: dict[str, Any], section: str) -> Any:
    types = _field_types(type(instance))
    for key in values:
        if key not in types:
            raise ConfigError(f"unknown key {section}.{key} (known: {', '.join(types)})")
    coerced = {key: _coerce(value, types[key], f"{section}.{key}")
               for key, value in values.items()}
    return dataclasses.replace(instance, **coerced)


def _checked_per_model(raw: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise ConfigError(f"per_model must be a table of model -> overrides, got {raw!r}")
    checked: dict[str, dict[str, Any]] = {}
    for model_name, overrides in raw.items():
        if not isinstance(overrides, dict):
            raise ConfigError(f"per_model.{model_name} must be a table, got {overrides!r}")
        checked[model_name] = {}
        for key, value in overrides.items():
            owner = PER_MODEL_FIELDS.get(key)
            if owner is None:
                raise ConfigError(f"unknown key per_model.{model_name}.{key} "
                                  f"(known: {', '.join(PER_MODEL_FIELDS)})")
            checked[model_name][key] = _coerce(value, _field_types(owner)[key],
                                               f"per_model.{model_name}.{key}")
    return checked


def config_from_dict(data: dict[str, Any], base: ProbeConfig | None = None) -> ProbeConfig:
    """Apply nested tables {section: {key: value}} to `base` (defaults if None), strictly."""
    config = base or ProbeConfig()
    for section, values in data.items():
        if section == "preset":
            config = dataclasses.replace(config, preset=_coerce(values, str, "preset"))
        elif section == "per_model":
            merged = {name: dict(values) for name, values in config.per_model.items()}
            for name, overrides in _checked_per_model(values).items():
                merged.setdefault(name, {}).update(overrides)
            config = dataclasses.replace(config, per_model=merged)
        elif section in SECTIONS:
            if not isinstance(values, dict):
                raise ConfigError(f"[{section}] must be a table, got {values!r}")
            config = dataclasses.replace(
                config, **{section: _updated(getattr(config, section), values, section)})
        else:
            raise ConfigError(f"unknown section {section!r} "
                              f"(known: preset, {', '.join(SECTIONS)}, per_model)")
    validate(config)
    return config


def override(config: ProbeConfig, dotted_key: str, value: Any) -> ProbeConfig:
    """Set one value by dotted key, e.g. ("train.lr", 1e-3) or ("per_model.gru.lr", 1e-2)."""
    parts = dotted_key.split(".")
    nested: Any = value
    for part in reversed(parts):
        nested = {part: nested}
    if len(parts) < 2 or (parts[0] == "per_model" and len(parts) != 3):
        raise ConfigError(f"override key {dotted_key!r} must look like section.key "
                          f"or per_model.MODEL.key")
    return config_from_dict(nested, config)


def validate(config: ProbeConfig) -> None:
    """Range checks that types alone cannot express."""
    sweep, train, task = config.sweep, config.train, config.task
    problems = []
    if any(length <= 0 for length in sweep.lengths) or not sweep.lengths:
        problems.append(f"sweep.lengths must be non-empty and > 0, got {list(sweep.lengths)}")
    if sweep.max_layers <= 0:
        problems.append(f"sweep.max_layers must be > 0, got {sweep.max_layers}")
    if sweep.seeds <= 0:
        problems.append(f"sweep.seeds must be > 0, got {sweep.seeds}")
    if not sweep.models or not sweep.tasks:
        problems.append("sweep.models and sweep.tasks must be non-empty")
    if sweep.seed_rule not in SEED_RULES:
        problems.append(f"sweep.seed_rule must be one of {SEED_RULES}, got {sweep.seed_rule!r}")
    if train.schedule not in SCHEDULES:
        problems.append(f"train.schedule must be one of {SCHEDULES}, got {train.schedule!r}")
    if train.max_steps <= 0 or train.max_seconds <= 0:
        problems.append("a per-run budget too small to train anything: train.max_steps and "
                        f"train.max_seconds must be > 0, got {train.max_steps} and "
                        f"{train.max_seconds}")
    if train.batch_size <= 0 or train.eval_every <= 0 or task.eval_size <= 0:
        problems.append("train.batch_size, train.eval_every and task.eval_size must be > 0")
    if not 0 < train.target_accuracy <= 1 or not 0 <= train.early_stop_accuracy <= 1:
        problems.append("train.target_accuracy must be in (0, 1] and train.early_stop_accuracy "
                        f"in [0, 1], got {train.target_accuracy}, {train.early_stop_accuracy}")
    fnn_tables = [("model", dataclasses.asdict(config.model)), *(
        (f"per_model.{model}", values) for model, values in config.per_model.items())]
    for table, values in fnn_tables:
        if values.get("fnn_depth", 1) < 1:
            problems.append(f"{table}.fnn_depth must be >= 1, got {values['fnn_depth']}")
        if values.get("norm", "pre") not in ("pre", "post"):
            problems.append(f"{table}.norm must be 'pre' or 'post', got {values['norm']!r}")
        if values.get("conv_kernel", 0) < 0:
            problems.append(f"{table}.conv_kernel must be >= 0, got {values['conv_kernel']}")
        if values.get("mlp_ratio", 2) < 1:
            problems.append(f"{table}.mlp_ratio must be >= 1, got {values['mlp_ratio']}")
        if values.get("fnn_width", 0) < 0:
            problems.append(f"{table}.fnn_width must be >= 0 (0: 2 * d_model), "
                            f"got {values['fnn_width']}")
    if not 0 <= task.short_words_fraction < 1:
        problems.append("task.short_words_fraction must be in [0, 1)")
    if any("curriculum" in values for values in config.per_model.values()):
        problems.append("train.curriculum is a protocol for the whole sweep, not per model")
    if train.plateau_steps < 0 or not 0 <= train.plateau_min_drop < 1:
        problems.append("train.plateau_steps must be >= 0 and train.plateau_min_drop in [0, 1)")
    if sweep.workers < 0 or train.max_epochs < 0:
        problems.append("sweep.workers and train.max_epochs must be >= 0")
    if task.dataset_size <= 0 or task.exhaustive_max_length < 0:
        problems.append("task.dataset_size must be > 0 and task.exhaustive_max_length >= 0")
    if task.extrapolation_factor < 0 or task.extrapolation_factor == 1:
        problems.append("task.extrapolation_factor must be 0 (off) or >= 2")
    if problems:
        raise ConfigError("; ".join(problems))


# ---------------------------------------------------------------------------------------------
# Presets and durations
# ---------------------------------------------------------------------------------------------

def preset_names() -> list[str]:
    return sorted(path.stem for path in PRESET_DIR.glob("*.toml"))


def load_preset(name_or_path: str) -> ProbeConfig:
    """A preset by name (probes/NAME.toml) or by path to a TOML file."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = PRESET_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name_or_path!r} (known: "
                          f"{', '.join(preset_names()) or 'none found in ' + str(PRESET_DIR)})")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"preset {path} is not valid TOML: {error}") from None
    return config_from_dict({"preset": path.stem, **data})


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([hms]?)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "": 1.0}


def parse_duration(text: str) -> float:
    """'20m' -> 1200.0, '90s' -> 90.0, '1h30m' -> 5400.0, '45' -> 45.0 (seconds)."""
    cleaned = text.strip().lower().replace(" ", "")
    parts = _DURATION_PART.findall(cleaned)
    if not cleaned or "".join(number + unit for number, unit in parts) != cleaned:
        raise ConfigError(f"cannot parse duration {text!r}; use e.g. 90s, 20m, 1h30m")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
