"""The one training loop: stopping rules, statuses, metrics, schedule (tiny models, Z2/Z3)."""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from torch import nn

from tc0lab.groups import parse_group
from tc0lab.probe.config import TrainSettings
from tc0lab.probe.word_problems import WordProblem
from tc0lab.probe.train import (CUT, DIVERGED, NOT_REACHED, REACHED, evaluate,
                                learning_rate_factor, train)

torch.set_num_threads(1)


class OracleModel(nn.Module):
    """Computes the prefix products exactly; optionally wrong at the last position."""

    def __init__(self, table: np.ndarray, wrong_last: bool = False) -> None:
        super().__init__()
        self.register_buffer("table", torch.as_tensor(table, dtype=torch.long))
        self.unused = nn.Parameter(torch.zeros(1))
        self.wrong_last = wrong_last

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        running = torch.zeros_like(tokens[:, 0])
        products = []
        for t in range(tokens.shape[1]):
            running = self.table[running, tokens[:, t]]
            products.append(running)
        answer = torch.stack(products, dim=1)                     # (B, T)
        if self.wrong_last:
            answer[:, -1] = (answer[:, -1] + 1) % self.table.shape[0]
        return nn.functional.one_hot(answer, self.table.shape[0]).float() + 0 * self.unused


class TinyRecurrent(nn.Module):
    """A throwaway GRU tagger for loop tests (the real models live in models.py)."""

    def __init__(self, vocab: int, d: int = 16) -> None:
        super().__init__()
        self.embed, self.gru, self.out = nn.Embedding(vocab, d), nn.GRU(d, d, batch_first=True), \
            nn.Linear(d, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.out(self.gru(self.embed(tokens))[0])          # (B, T, vocab)


Z2, Z3 = parse_group("Z2"), parse_group("Z3")
FAST = TrainSettings(max_steps=600, max_seconds=30, batch_size=32, lr=1e-2, eval_every=25,
                     warmup_steps=0)


def test_full_sequence_and_token_accuracy_differ_as_defined():
    task = WordProblem(Z3, 5, eval_size=64)
    exact = evaluate(OracleModel(Z3.table), task.test, torch.device("cpu"))
    assert exact.full_sequence == exact.token == 1.0
    off_by_last = evaluate(OracleModel(Z3.table, wrong_last=True), task.test, "cpu")
    assert off_by_last.full_sequence == 0.0
    assert off_by_last.token == pytest.approx(4 / 5)


def test_a_learnable_task_is_reached_and_stops_at_an_evaluation():
    torch.manual_seed(0)
    task = WordProblem(Z2, 4, eval_size=16)
    result = train(TinyRecurrent(2), task, FAST, seed=0,
                   extrapolation_task=task.at_length(16))
    assert result.status == REACHED and result.stop_reason == "target"
    assert result.steps % FAST.eval_every == 0 and result.steps < FAST.max_steps
    assert result.test.full_sequence >= 0.9 and result.validation.full_sequence >= 0.9
    assert result.extrapolation is not None and result.extrapolation.length == 16


def test_step_budget_ends_an_unsolved_run_as_not_reached():
    settings = TrainSettings(max_steps=3, max_seconds=30, batch_size=8, eval_every=100)
    result = train(TinyRecurrent(3), WordProblem(Z3, 8, eval_size=32), settings, seed=0)
    assert (result.status, result.steps, result.stop_reason) == (NOT_REACHED, 3, "max_steps")


def test_seconds_budget_and_sweep_deadline_stop_the_run():
    settings = TrainSettings(max_steps=10**6, max_seconds=0.3, batch_size=8, eval_every=10**6)
    task = WordProblem(Z3, 8, eval_size=32)
    timed = train(TinyRecurrent(3), task, settings, seed=0)
    assert timed.stop_reason == "max_seconds" and 0.3 <= timed.seconds < 5
    cut = train(TinyRecurrent(3), task, settings, seed=0, deadline=time.monotonic())
    assert (cut.status, cut.steps) == (CUT, 0)


def test_nan_loss_is_reported_as_diverged():
    model = TinyRecurrent(3)
    with torch.no_grad():
        model.out.bias.fill_(float("nan"))
    result = train(model, WordProblem(Z3, 4, eval_size=8), FAST, seed=0)
    assert result.status == DIVERGED and result.steps == 1 and math.isnan(result.final_loss)


def test_same_seed_gives_the_same_run():
    task = WordProblem(Z3, 4, eval_size=16)
    settings = TrainSettings(max_steps=20, max_seconds=30, batch_size=16, eval_every=100)
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        runs.append(train(TinyRecurrent(3), task, settings, seed=5))
    assert runs[0].final_loss == runs[1].final_loss


def test_warmup_then_constant_or_cosine_schedule():
    cosine = TrainSettings(max_steps=110, warmup_steps=10, schedule="cosine")
    factors = [learning_rate_factor(step, cosine) for step in range(111)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert factors[10] == pytest.approx(1.0) and factors[110] == pytest.approx(0.0)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:]))
    constant = TrainSettings(max_steps=110, warmup_steps=0, schedule="constant")
    assert {learning_rate_factor(step, constant) for step in range(200)} == {1.0}
