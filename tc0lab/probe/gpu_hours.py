"""GPU-hours of probe runs: a constructed (not measured) estimate, for planning Slurm sweeps.

Per run: training FLOPs ~ 6 * parameters * tokens (forward + backward, the usual dense-model
rule), with tokens = steps * batch_size * length and steps the whole budget: max_steps, or,
with train.max_epochs and the paper's fixed datasets (task.strict_length), max_epochs passes
over the training set (80% of the length-k words, every word for k <= exhaustive_max_length,
else dataset_size sampled, plus every length-2 word): an upper bound, since early stopping
usually ends a run sooner. Divided by an ASSUMED sustained throughput of one GPU, plus an
ASSUMED fixed overhead per step and layer (kernel launches, the per-position loop of sequential
scans), which dominates for small models. Parameters are `model.params * layers` when the
config matches parameters (the paper preset), else a dense estimate (4 + 2 * mlp_ratio) *
d_model^2 per layer (attention or mixer ~4 d^2, MLP 2 * mlp_ratio * d^2).
Both constants are assumptions stated in probes/README.md; measure one run on the target GPU
and scale. torch-free.
"""
from __future__ import annotations

from tc0lab.probe.config import ProbeConfig
from tc0lab.probe.runs import RunSpec

PAPER_TRAIN_SHARE = 0.8                # word_problems.StrictSplit.train_share (kept torch- and numpy-free)

ASSUMED_GPU_FLOPS = 1e13               # 10 TFLOP/s sustained (small models, fp32/tf32)
ASSUMED_STEP_LAYER_SECONDS = 0.005     # fixed cost per optimiser step and layer


def run_parameters(model: str, layers: int, config: ProbeConfig) -> int:
    """The parameter count of one run, as the estimates assume it (see the module docstring)."""
    _, settings = config.settings_for(model)
    per_layer = (settings.params if settings.params > 0
                 else (4 + 2 * settings.mlp_ratio) * settings.d_model ** 2)
    return per_layer * layers


def run_steps(spec: RunSpec, config: ProbeConfig) -> int:
    """The step budget of one run: max_steps, or max_epochs over the paper's fixed dataset."""
    train, task = config.settings_for(spec.model)[0], config.task
    if train.max_epochs <= 0 or not task.strict_length:
        return train.max_steps
    from tc0lab.groups import parse_group
    order = parse_group(spec.task).order
    words = order ** spec.length
    if spec.length > task.exhaustive_max_length:
        words = min(words, task.dataset_size)
    per_epoch = -(-(round(PAPER_TRAIN_SHARE * words) + order ** 2) // train.batch_size)
    return min(train.max_steps, train.max_epochs * per_epoch)


def run_gpu_hours(spec: RunSpec, config: ProbeConfig) -> float:
    """Upper-bound GPU-hours of one run (its whole step budget, no early stop)."""
    train, _ = config.settings_for(spec.model)
    steps = run_steps(spec, config)
    tokens = steps * train.batch_size * spec.length
    flops = 6 * run_parameters(spec.model, spec.layers, config) * tokens
    seconds = flops / ASSUMED_GPU_FLOPS + steps * spec.layers * ASSUMED_STEP_LAYER_SECONDS
    return min(seconds, train.max_seconds) / 3600


def search_run_bound(config: ProbeConfig) -> int:
    """Most runs the upward search can need: per (task, model) at most max_layers depths
    are climbed in total, plus one depth per later length, each with every seed."""
    sweep = config.sweep
    per_search = sweep.max_layers + len(sweep.lengths) - 1
    return len(sweep.tasks) * len(sweep.models) * per_search * sweep.seeds
