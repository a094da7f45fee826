"""A constructed (not measured) GPU-time estimate of probe runs, for planning Slurm sweeps.

Per run: training FLOPs ~ 6 * parameters * tokens (forward + backward, the usual dense-model
rule), with tokens = max_steps * batch_size * length: an upper bound, since early stopping
usually ends a run sooner. Divided by an ASSUMED sustained throughput of one GPU, plus an
ASSUMED fixed overhead per step and layer (kernel launches, the per-position loop of sequential
scans), which dominates for small models. Parameters are `model.params * layers` when the
config matches parameters (the paper preset), else a dense estimate 12 * d_model^2 per layer.
Both constants are assumptions stated in probes/README.md; measure one run on the target GPU
and scale. torch-free.
"""
from __future__ import annotations

from typing import Any

from tc0lab.probe.config import ProbeConfig

ASSUMED_GPU_FLOPS = 1e13               # 10 TFLOP/s sustained (small models, fp32/tf32)
ASSUMED_STEP_LAYER_SECONDS = 0.005     # fixed cost per optimiser step and layer


def run_parameters(model: str, layers: int, config: ProbeConfig) -> int:
    _, settings = config.settings_for(model)
    per_layer = settings.params if settings.params > 0 else 12 * settings.d_model ** 2
    return per_layer * layers


def run_gpu_hours(spec: Any, config: ProbeConfig) -> float:
    """Upper-bound GPU-hours of one run (its whole step budget, no early stop)."""
    train, _ = config.settings_for(spec.model)
    tokens = train.max_steps * train.batch_size * spec.length
    flops = 6 * run_parameters(spec.model, spec.layers, config) * tokens
    seconds = flops / ASSUMED_GPU_FLOPS + train.max_steps * spec.layers * ASSUMED_STEP_LAYER_SECONDS
    return min(seconds, train.max_seconds) / 3600


def search_run_bound(config: ProbeConfig) -> int:
    """Most runs the upward search can need: per (task, model) at most max_layers depths
    are climbed in total, plus one depth per later length, each with every seed."""
    sweep = config.sweep
    per_search = sweep.max_layers + len(sweep.lengths) - 1
    return len(sweep.tasks) * len(sweep.models) * per_search * sweep.seeds
