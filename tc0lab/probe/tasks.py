"""The probe's task registry: every task by name (numpy only, no torch).

A name is either a registered named task, with options after ':' (e.g. 'recall:pairs=4'), or
a finite group, whose word problem is the task (word_problems.py). `NAMED_TASKS` maps a base
name to how the task is made and how its full name is normalised; the selection tasks
(selection_tasks.py: copy, recall, parity, flipflop) are registered here, explicitly, and the
training loop knows no task by name. The interface every task implements (`Batch`, `Task`)
is in batches.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from tc0lab.groups import parse_group
from tc0lab.probe.batches import Task
from tc0lab.probe.selection_tasks import (SELECTION_TASKS, canonical_selection_name,
                                          make_selection_task)
from tc0lab.probe.word_problems import StrictSplit, make_word_problem

TaskFactory = Callable[[str, int, int, float, int], Task]


@dataclass(frozen=True)
class NamedTask:
    """A registered task: its factory (name with options, length, eval_size,
    short_words_fraction, seed) and the normaliser of its name with options."""

    make: TaskFactory
    canonical_name: Callable[[str], str]


NAMED_TASKS: dict[str, NamedTask] = {
    kind: NamedTask(make_selection_task, canonical_selection_name) for kind in SELECTION_TASKS}


def named_task(name: str) -> NamedTask | None:
    """The registered task of 'recall:pairs=4' (base 'recall'), or None for a group."""
    return NAMED_TASKS.get(name.strip().lower().partition(":")[0])


def canonical_task_name(name: str) -> str:
    """'s5' -> 'S5', 'a4_x_z5' -> 'A4xZ5'; a registered task name (with its options, e.g.
    'Recall:vocab=16') is normalised by its module and validated."""
    registered = named_task(name)
    if registered is not None:
        return registered.canonical_name(name)
    return parse_group(name).name


def make_task(name: str, length: int, eval_size: int = 512, short_words_fraction: float = 0.1,
              seed: int = 0, split: StrictSplit | None = None) -> Task:
    """A registered task by name, otherwise the word problem of the group `name`."""
    registered = named_task(name)
    if registered is None:
        return make_word_problem(name, length, eval_size, short_words_fraction, seed, split)
    if split is not None:
        raise ValueError(f"task.strict_length (the paper's fixed datasets) is for group word "
                         f"problems only, not {name!r}")
    return registered.make(name, length, eval_size, short_words_fraction, seed)
