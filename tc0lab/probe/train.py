"""ONE training loop for every probe model and every task.

`train(model, task, settings, seed=..., device=...)` runs AdamW on masked token-level
cross-entropy, with a linear warmup then a constant or cosine schedule, and stops at the first
of: validation full-sequence accuracy >= the early-stop accuracy (default: the target), the step
budget (or max_epochs over a fixed dataset), the per-run seconds budget, a plateau
(train.plateau_steps: a window of steps that neither lowered the loss nor raised the best
validation accuracy), a sweep deadline ("cut", so the sweep can redo the run later), or a
non-finite loss or parameter ("diverged"). The status is "reached" when the final
TEST full-sequence accuracy is >= the target, whatever stopped the run.

Every evaluation appends a `CurvePoint` (step, seconds, mean training loss since the last
point, validation accuracies) to the result's learning curve, plus one where the run ends.

Metrics (Illusion of State §6): full-sequence accuracy, the share of sequences whose every
graded position is correct (the paper's metric, target 0.90), and token accuracy over graded
positions. Both on the fixed validation and test sets at the training length, and optionally
on a test set at `extrapolation_factor` times the length (length extrapolation). When a test
batch carries per-example lengths and bin edges (the selection tasks), `Accuracy.by_length`
also gives full-sequence accuracy per length bin.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from tc0lab.probe.config import TrainSettings
from tc0lab.probe.batches import Batch, Task
from tc0lab.probe.runs import CUT, DIVERGED, NOT_REACHED, REACHED
PLATEAU_ACCURACY_GAIN = 0.01          # a validation gain this large is progress, not plateau


@dataclass(frozen=True)
class Accuracy:
    """Accuracies of a model on one fixed batch."""

    full_sequence: float   # share of sequences with every graded position correct
    token: float           # share of graded positions correct
    count: int             # number of sequences
    length: int
    # full-sequence accuracy per bin of effective lengths, "lo-hi" inclusive (when binned)
    by_length: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CurvePoint:
    """The learning curve at one evaluation: what a reader needs to tell a plateau from a cut."""

    step: int
    seconds: float         # since the start of this training call
    loss: float | None     # mean training loss over the steps since the previous point
    validation_full_sequence: float
    validation_token: float


@dataclass(frozen=True)
class TrainResult:
    """What one training run produced."""

    status: str            # REACHED | NOT_REACHED | DIVERGED | CUT
    steps: int
    seconds: float
    final_loss: float
    validation: Accuracy
    test: Accuracy
    extrapolation: Accuracy | None
    stop_reason: str       # "target", "plateau", "max_steps", "max_seconds", "deadline",
                           # "nan loss"
    curve: list[CurvePoint] = field(default_factory=list)


def to_tensors(batch: Batch, device: torch.device) -> tuple[torch.Tensor, ...]:
    return (torch.from_numpy(batch.inputs).to(device), torch.from_numpy(batch.targets).to(device),
            torch.from_numpy(batch.mask).to(device))


@torch.no_grad()
def evaluate(model: nn.Module, batch: Batch, device: torch.device,
             chunk_size: int = 512) -> Accuracy:
    """Full-sequence and token accuracy on graded positions, in chunks of sequences."""
    was_training = model.training
    model.eval()
    sequence_right, tokens_right = [], 0
    for start in range(0, len(batch), chunk_size):
        chunk = Batch(*(array[start:start + chunk_size]
                        for array in (batch.inputs, batch.targets, batch.mask)))
        inputs, targets, mask = to_tensors(chunk, device)
        predicted = model(inputs).argmax(dim=-1)                  # (B, T)
        correct = (predicted == targets) | ~mask                   # ungraded count as correct
        sequence_right.append(correct.all(dim=1).cpu().numpy())
        tokens_right += int(((predicted == targets) & mask).sum())
    model.train(was_training)
    right = np.concatenate(sequence_right)                         # (B,) bool
    graded = int(batch.mask.sum())
    return Accuracy(full_sequence=float(right.mean()),
                    token=tokens_right / max(graded, 1), count=len(batch),
                    length=int(batch.inputs.shape[1]), by_length=accuracy_by_length(batch, right))


def accuracy_by_length(batch: Batch, right: np.ndarray) -> dict[str, float]:
    """Share of right sequences per bin [lo, hi) of `batch.bin_edges`, keyed "lo-(hi-1)"."""
    if batch.lengths is None or len(batch.bin_edges) < 2:
        return {}
    bins = {}
    for low, high in zip(batch.bin_edges[:-1], batch.bin_edges[1:]):
        inside = (batch.lengths >= low) & (batch.lengths < high)
        if inside.any():
            bins[f"{low}-{high - 1}"] = float(right[inside].mean())
    return bins


def learning_rate_factor(step: int, settings: TrainSettings) -> float:
    """Linear warmup to 1, then constant or cosine decay to 0 at max_steps."""
    if step < settings.warmup_steps:
        return (step + 1) / settings.warmup_steps
    if settings.schedule == "constant":
        return 1.0
    span = max(settings.max_steps - settings.warmup_steps, 1)
    progress = min((step - settings.warmup_steps) / span, 1.0)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def masked_loss(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over graded positions. logits (B, T, C), targets/mask (B, T)."""
    return nn.functional.cross_entropy(logits[mask], targets[mask])     # (N, C) vs (N,)


def train(model: nn.Module, task: Task, settings: TrainSettings, *, seed: int,
          device: torch.device | str = "cpu", deadline: float | None = None,
          extrapolation_task: Task | None = None,
          on_step: Callable[[int, float], None] | None = None) -> TrainResult:
    """Train `model` on `task` under `settings`; see the module docstring for stopping rules.

    `deadline` is a time.monotonic() value after which the run is cut (status CUT).
    `on_step(step, loss)` is called after every optimisation step (for progress bars).
    Passing a model trained before (a warm start) continues from its weights with a fresh
    optimiser.
    """
    device = torch.device(device)
    model.to(device).train()
    rng = np.random.default_rng([seed, task.length])
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr,
                                  weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate_factor(step, settings))
    max_steps, eval_every = step_budget(task, settings)
    start = time.monotonic()
    step, loss_value, stop_reason = 0, float("nan"), "max_steps"   # kept if the loop ends
    curve: list[CurvePoint] = []
    losses: list[float] = []
    while step < max_steps:
        time_reason = _time_stop(start, settings, deadline)
        if time_reason:
            stop_reason = time_reason
            break
        loss_value = _optimisation_step(model, task, settings, optimizer, rng, device)
        schedule.step()
        step += 1
        losses.append(loss_value)
        if on_step is not None:
            on_step(step, loss_value)
        if not math.isfinite(loss_value):
            stop_reason = "nan loss"
            break
        if step % eval_every == 0:
            curve.append(_curve_point(model, task, device, step, start, losses))
            losses = []
            if curve[-1].validation_full_sequence >= _early_stop(settings):
                stop_reason = "target"
                break
            if plateaued(curve, settings):
                stop_reason = "plateau"
                break
    result = _finish(model, task, settings, device, extrapolation_task, step, start,
                     loss_value, stop_reason)
    if losses:                     # the last point: where the run ended
        result.curve.extend(curve + [_curve_point(model, task, device, step, start, losses)])
    else:
        result.curve.extend(curve)
    return result


def step_budget(task: Task, settings: TrainSettings) -> tuple[int, int]:
    """(max steps, steps between evaluations). With `max_epochs` and a task holding a fixed
    training set (the paper's protocol) the budget is epochs and evaluation is once per
    epoch; otherwise `max_steps` and `eval_every`."""
    per_epoch = getattr(task, "steps_per_epoch", lambda batch_size: 0)(settings.batch_size)
    if settings.max_epochs > 0 and per_epoch > 0:
        return min(settings.max_steps, settings.max_epochs * per_epoch), per_epoch
    return settings.max_steps, settings.eval_every


def plateaued(curve: list[CurvePoint], settings: TrainSettings) -> bool:
    """True when the last `plateau_steps` steps neither lowered the mean training loss by
    `plateau_min_drop` (relative) against the window before them nor raised the best
    validation full-sequence accuracy by 0.01. Off when plateau_steps is 0."""
    window = settings.plateau_steps
    if window <= 0 or not curve or curve[-1].step < 2 * window:
        return False
    now = curve[-1].step
    last = [p for p in curve if p.step > now - window]
    before = [p for p in curve if now - 2 * window < p.step <= now - window]
    if not before or any(p.loss is None for p in last + before):
        return False
    mean_last = sum(p.loss for p in last) / len(last)
    mean_before = sum(p.loss for p in before) / len(before)
    best_before = max(p.validation_full_sequence for p in curve if p.step <= now - window)
    best_last = max(p.validation_full_sequence for p in last)
    return (mean_last > (1 - settings.plateau_min_drop) * mean_before
            and best_last < best_before + PLATEAU_ACCURACY_GAIN)


def _early_stop(settings: TrainSettings) -> float:
    return settings.early_stop_accuracy or settings.target_accuracy


def _curve_point(model: nn.Module, task: Task, device: torch.device, step: int, start: float,
                 losses: list[float]) -> CurvePoint:
    validation = evaluate(model, task.validation, device)
    finite = [loss for loss in losses if math.isfinite(loss)]
    return CurvePoint(step=step, seconds=round(time.monotonic() - start, 3),
                      loss=round(float(np.mean(finite)), 5) if finite else None,
                      validation_full_sequence=validation.full_sequence,
                      validation_token=round(validation.token, 5))


def _time_stop(start: float, settings: TrainSettings, deadline: float | None) -> str:
    now = time.monotonic()
    if deadline is not None and now >= deadline:
        return "deadline"
    if now - start >= settings.max_seconds:
        return "max_seconds"
    return ""


def _optimisation_step(model: nn.Module, task: Task, settings: TrainSettings,
                       optimizer: torch.optim.Optimizer, rng: np.random.Generator,
                       device: torch.device) -> float:
    inputs, targets, mask = to_tensors(task.sample_train(settings.batch_size, rng), device)
    loss = masked_loss(model(inputs), targets, mask)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if settings.grad_clip > 0:
        nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
    optimizer.step()
    return float(loss.detach())


def _finish(model: nn.Module, task: Task, settings: TrainSettings, device: torch.device,
            extrapolation_task: Task | None, steps: int, start: float, loss_value: float,
            stop_reason: str) -> TrainResult:
    validation = evaluate(model, task.validation, device)
    test = evaluate(model, task.test, device)
    extrapolation = (evaluate(model, extrapolation_task.test, device)
                     if extrapolation_task is not None else None)
    if stop_reason == "nan loss" or not _parameters_finite(model):
        status = DIVERGED
    elif test.full_sequence >= settings.target_accuracy:
        status = REACHED
    elif stop_reason == "deadline":
        status = CUT
    else:
        status = NOT_REACHED
    return TrainResult(status=status, steps=steps, seconds=time.monotonic() - start,
                       final_loss=loss_value, validation=validation, test=test,
                       extrapolation=extrapolation, stop_reason=stop_reason)


def _parameters_finite(model: nn.Module) -> bool:
    return all(bool(torch.isfinite(parameter).all()) for parameter in model.parameters())
