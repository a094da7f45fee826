"""Refuse, before anything is built, a probe configuration that cannot fit in memory.

An absurd option (`--lengths 100000`, a huge `--params`, `--max-layers` or batch size) used to
fail deep inside numpy or torch (an OverflowError, a MemoryError, or the machine swapping).
`memory_problems(config)` estimates, per model, the memory of its largest run and names the
model, the length and the reason when it exceeds `MEMORY_SHARE` of this machine's memory.

The estimate is constructed, not measured, and deliberately rough (within a small factor):

- activations: sequences x positions x layers x floats per position and layer, with
  `max(batch_size, EVAL_CHUNK)` sequences (training batches; evaluation chunks) at the longest
  length tested (n, or n x task.extrapolation_factor); floats per position and layer by the
  recipe's `activations` (recipes.py): attention (transformer) 20 d (q, k, v, MLP, norms, saved for the backward pass), diagonal (mamba, s4d) 6 d N (the
  (d, N) decays, inputs and states), matrix (ids4, deltanet) 4 N^2 + 4 N d (one N x N transition per
  position), recurrent (rnn, lstm, gru) 12 d;
- parameters with AdamW's two moments and the gradient: 4 x 4 bytes per parameter, parameters
  as in gpu_hours.py (`model.params` per layer, else 12 d^2);
- the data: 3 arrays (inputs, targets, mask) of words x length, 8 bytes each, for the two
  evaluation sets (2 x eval_size words) or, with task.strict_length, the fixed dataset.

torch-free.
"""
from __future__ import annotations

import os
from typing import Any

from tc0lab.probe.config import ProbeConfig
from tc0lab.probe.gpu_hours import run_parameters
from tc0lab.probe.recipes import recipe

EVAL_CHUNK = 512                 # sequences per evaluation chunk (train.evaluate)
MEMORY_SHARE = 0.5               # refuse estimates above this share of physical memory
FALLBACK_MEMORY_BYTES = 16 * 2 ** 30
BYTES_PER_FLOAT = 4


def machine_memory_bytes() -> int:
    """Physical memory of this machine (16 GiB when the OS does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return FALLBACK_MEMORY_BYTES


def floats_per_position(model: str, d_model: int, d_state: int) -> tuple[int, str]:
    """(floats per position and layer, the formula in words) of a model's activations."""
    d, n, kind = d_model, d_state, recipe(model).activations
    if kind == "attention":
        return 20 * d, "20 x d_model"
    if kind == "diagonal":
        return 6 * d * n, "6 x d_model x d_state (the decays, inputs and states)"
    if kind == "matrix":
        return 4 * n * n + 4 * n * d, "4 x d_state^2 + 4 x d_state x d_model (a matrix each)"
    return 12 * d, "12 x d_model"


def run_memory_bytes(model: str, length: int, layers: int,
                     config: ProbeConfig) -> dict[str, Any]:
    """Estimated peak bytes of one run of `model` at `length` with `layers`, by part."""
    train, settings = config.settings_for(model)
    tested = length * max(config.task.extrapolation_factor, 1)
    per_position, formula = floats_per_position(model, settings.d_model, settings.d_state)
    sequences = max(train.batch_size, EVAL_CHUNK)
    words = config.task.dataset_size if config.task.strict_length else 2 * config.task.eval_size
    parameters = run_parameters(model, layers, config)
    return {"activations": sequences * tested * layers * per_position * BYTES_PER_FLOAT,
            "parameters": 4 * BYTES_PER_FLOAT * parameters, "data": 3 * words * tested * 8,
            "tested_length": tested, "parameter_count": parameters,
            "activation_formula": f"{sequences} sequences x {tested} positions x {layers} "
                                  f"layer(s) x {formula} floats"}


def memory_problems(config: ProbeConfig, memory_bytes: int | None = None) -> list[str]:
    """One sentence per model whose largest run would not fit; empty when all fit."""
    available = memory_bytes or machine_memory_bytes()
    longest, layers = max(config.sweep.lengths), config.sweep.max_layers
    problems = []
    for model in config.sweep.models:
        parts = run_memory_bytes(model, longest, layers, config)
        needed = parts["activations"] + parts["parameters"] + parts["data"]
        if needed <= MEMORY_SHARE * available:
            continue
        if parts["parameters"] >= parts["activations"]:
            what = (f"{model} at {layers} layer(s) is too large: "
                    f"{parts['parameter_count']:,} parameters with their optimiser state")
        else:
            what = (f"n={longest} is too long for {model} at {layers} layer(s): tested up to "
                    f"length {parts['tested_length']} (task.extrapolation_factor "
                    f"{config.task.extrapolation_factor}), its activations are "
                    f"{parts['activation_formula']}")
        problems.append(f"{what}, about {_gigabytes(needed)} in all, more than "
                        f"{MEMORY_SHARE:.0%} of this machine's {_gigabytes(available)} "
                        "(estimate: tc0lab/probe/limits.py)")
    return problems


def _gigabytes(count: int) -> str:
    return f"{count / 2 ** 30:,.1f} GiB"


def check_fits(config: ProbeConfig, memory_bytes: int | None = None) -> None:
    """Raise ValueError with every problem of `memory_problems`."""
    problems = memory_problems(config, memory_bytes)
    if problems:
        raise ValueError("; ".join(problems))

