"""The probe's figures (matplotlib, Agg), drawn from the summary document (report.py).

- figure.png, Fig. 3 of the Illusion of State paper in style: min layers against n, one line
  per model, one panel per task; "not reached" is drawn as an x above max layers;
- curves.png: learning curves (validation full-sequence accuracy and training loss) per task
  and model, one line per run; each length of a curriculum run starts at a marked point;
- accuracy_by_length.png, for runs tested on length bins: full-sequence accuracy against
  length, one line per (model, layers) (the mean over seeds), colour = model, line style =
  layers.

Each is written atomically (tc0lab.atomic_file).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tc0lab import atomic_file
from tc0lab.probe.runs import REACHED


def _save(figure: Any, path: Path, dpi: int) -> None:
    """Write the figure as PNG atomically (tc0lab.atomic_file), like every other probe file."""
    atomic_file.write_with(Path(path), lambda stream: figure.savefig(stream, format="png", dpi=dpi))


def write_figure(summary: dict[str, Any], path: Path) -> None:
    """Fig. 3 style: min layers vs n per model, one panel per task (matplotlib, Agg)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(c["task"] for c in summary["cells"]))
    models = list(dict.fromkeys(c["model"] for c in summary["cells"]))
    ceiling = summary["max_layers"] + 1
    figure, axes = plt.subplots(1, len(tasks), figsize=(4.5 * len(tasks), 3.8), squeeze=False)
    for axis, task in zip(axes[0], tasks):
        for index, model in enumerate(models):
            _plot_model(axis, [c for c in summary["cells"]
                               if c["task"] == task and c["model"] == model],
                        model, f"C{index}", ceiling, offset=0.06 * (index - len(models) / 2))
        axis.axhline(ceiling - 0.5, color="grey", linestyle=":", linewidth=0.8)
        axis.set_yticks(list(range(1, ceiling + 1)),
                        [str(i) for i in range(1, ceiling)] + ["not\nreached"])
        axis.set_ylim(0.5, ceiling + 0.5)
        axis.set_xscale("log", base=2)
        lengths = sorted({c["length"] for c in summary["cells"]})
        axis.set_xticks(lengths, [str(n) for n in lengths])
        axis.set_xlabel("sequence length n")
        axis.set_title(task)
    axes[0][0].set_ylabel(f"min layers for ≥{summary['target_accuracy']:.0%} seq. acc.")
    axes[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    budgets = {(b["max_seconds"], b["max_steps"]) for b in summary["per_run_budget"].values()}
    budget_text = ""
    if len(budgets) == 1:
        seconds, steps = budgets.pop()
        unit = "length (curriculum)" if summary.get("protocol") == "curriculum" else "run"
        budget_text = f"\nbudget {seconds:g}s/{steps} steps per {unit}"
    figure.suptitle(f"measured min depth (preset {summary['preset']}, {summary['seed_rule']} of "
                    f"{summary['seeds']} seed(s)){budget_text}", fontsize=9)
    figure.tight_layout()
    _save(figure, path, dpi=150)
    plt.close(figure)


def _plot_model(axis: Any, cells: list[dict[str, Any]], model: str, color: str, ceiling: int,
                offset: float) -> None:
    tried = sorted((c for c in cells if c["status"] != "not run"), key=lambda c: c["length"])
    # a small vertical offset per model keeps overlapping lines visible
    xs = [c["length"] for c in tried]
    ys = [(c["min_layers"] if c["status"] == REACHED else ceiling) + offset for c in tried]
    axis.plot(xs, ys, color=color, linewidth=1.2, alpha=0.7, label=model)
    reached = [(x, y) for x, y, c in zip(xs, ys, tried) if c["status"] == REACHED]
    missed = [(x, y) for x, y, c in zip(xs, ys, tried) if c["status"] != REACHED]
    if reached:
        axis.scatter(*zip(*reached), color=color, marker="o", s=28, zorder=3)
    if missed:
        axis.scatter(*zip(*missed), color=color, marker="x", s=40, zorder=3)


def _run_points(cell: dict[str, Any], run: dict[str, Any]) -> list[tuple[float, float]]:
    """(length, full-sequence accuracy) at the training length n, then at the middle of each
    extrapolation bin; empty when the run has no binned extrapolation."""
    bins = run.get("extrapolation_by_length") or {}
    if not bins:
        return []
    points = [(float(cell["length"]), run["test_full_sequence"])]
    for label, accuracy in bins.items():
        low, high = (int(edge) for edge in label.split("-"))
        points.append(((low + high) / 2, accuracy))
    return sorted(points)           # stored records may sort the bin keys as text


def length_curves(summary: dict[str, Any]) -> dict[str, list[tuple[float, float]]]:
    """Per "task model L=layers seed=s": (length, full-sequence accuracy) at the training length
    n and at the middle of each extrapolation bin. Only runs with binned extrapolation."""
    curves = {}
    for cell in summary["cells"]:
        for run in cell["runs"]:
            points = _run_points(cell, run)
            if points:
                curves[f"{cell['task']} {cell['model']} L={run['layers']} "
                       f"seed={run['seed']}"] = points
    return curves


@dataclass(frozen=True)
class DepthCurve:
    """Accuracy against length of one (task, model, training length, layers): the mean over
    its seeds at each point (seeds of one cell share their bins)."""

    task: str
    model: str
    length: int
    layers: int
    seeds: int
    points: list[tuple[float, float]]


def depth_curves(summary: dict[str, Any]) -> list[DepthCurve]:
    """One curve per (task, model, training length, layers), in the order of the cells."""
    grouped: dict[tuple[str, str, int, int], list[list[tuple[float, float]]]] = {}
    for cell in summary["cells"]:
        for run in cell["runs"]:
            points = _run_points(cell, run)
            if points:
                key = (cell["task"], cell["model"], cell["length"], run["layers"])
                grouped.setdefault(key, []).append(points)
    curves = []
    for (task, model, length, layers), runs in grouped.items():
        by_x: dict[float, list[float]] = {}
        for points in runs:
            for x, accuracy in points:
                by_x.setdefault(x, []).append(accuracy)
        curves.append(DepthCurve(task, model, length, layers, len(runs),
                                 [(x, statistics.fmean(v)) for x, v in sorted(by_x.items())]))
    return curves


def write_length_figure(summary: dict[str, Any], path: Path) -> None:
    """Accuracy against length, one line per (model, layers): colour = model, line style =
    layers; the training length n then the extrapolation bins."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = depth_curves(summary)
    models = list(dict.fromkeys(curve.model for curve in curves))
    several_tasks = len({curve.task for curve in curves}) > 1
    several_lengths = len({curve.length for curve in curves}) > 1
    styles = ["--", "-", ":", "-."]
    markers = ["s", "o", "^", "D"]
    figure, axis = plt.subplots(figsize=(6.5, 3.8))
    for curve in curves:
        label = " ".join([curve.task] * several_tasks + [curve.model]
                         + [f"n={curve.length}"] * several_lengths
                         + [f"L={curve.layers}"]
                         + [f"(mean of {curve.seeds} seeds)"] * (curve.seeds > 1))
        axis.plot(*zip(*curve.points), color=f"C{models.index(curve.model) % 10}",
                  linestyle=styles[(curve.layers - 1) % len(styles)],
                  marker=markers[(curve.layers - 1) % len(markers)], label=label)
    lengths = sorted({c["length"] for c in summary["cells"]})
    for length in lengths:
        axis.axvline(length, color="grey", linestyle=":", linewidth=0.8)
    axis.set_xlabel("sequence length (dotted: training length n; right of it: extrapolation)")
    axis.set_ylabel("full-sequence accuracy")
    axis.set_ylim(-0.05, 1.05)
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.suptitle(f"accuracy by length (preset {summary['preset']})", fontsize=9)
    figure.tight_layout()
    _save(figure, path, dpi=150)
    plt.close(figure)


def _curve_line(entry: dict[str, Any], key: str) -> tuple[list[float], list[float],
                                                         list[tuple[float, int]]]:
    """x (seconds since the run began), y (`key` of each curve point), stage starts."""
    xs, ys, starts, offset = [], [], [], 0.0
    for stage in entry["stages"]:
        starts.append((offset, stage["length"]))
        for point in stage["curve"]:
            if point.get(key) is not None:
                xs.append(offset + point["seconds"])
                ys.append(point[key])
        offset += stage["seconds"]
    return xs, ys, starts


def write_curves_figure(summary: dict[str, Any], path: Path) -> None:
    """Learning curves: per task two rows (validation full-sequence accuracy, training loss),
    one column per model; one line per run (colour = layers, dashes = seed); each length of a
    curriculum run starts at a marked, labelled point, so a plateau is visible as such."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entries = summary.get("curves") or []
    tasks = list(dict.fromkeys(e["task"] for e in entries))
    models = list(dict.fromkeys(c["model"] for c in summary["cells"]))
    figure, axes = plt.subplots(2 * len(tasks), len(models), squeeze=False,
                                figsize=(3.6 * len(models), 4.6 * len(tasks)))
    for row, task in enumerate(tasks):
        for column, model in enumerate(models):
            accuracy_axis, loss_axis = axes[2 * row][column], axes[2 * row + 1][column]
            for entry in (e for e in entries if e["task"] == task and e["model"] == model):
                _plot_curve(accuracy_axis, loss_axis, entry)
            accuracy_axis.set_title(f"{task} {model}", fontsize=9)
            accuracy_axis.set_ylim(-0.05, 1.05)
            loss_axis.set_yscale("log")
            loss_axis.set_xlabel("seconds (run total)", fontsize=8)
        axes[2 * row][0].set_ylabel("val. full-seq. acc.", fontsize=8)
        axes[2 * row + 1][0].set_ylabel("training loss", fontsize=8)
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.suptitle(f"learning curves (preset {summary['preset']}); dots: a new length n starts "
                    "(warm start)", fontsize=9)
    figure.tight_layout()
    _save(figure, path, dpi=110)
    plt.close(figure)


def _plot_curve(accuracy_axis: Any, loss_axis: Any, entry: dict[str, Any]) -> None:
    style = {"color": f"C{(entry['layers'] - 1) % 10}",
             "linestyle": "-" if entry["seed"] == 0 else "--", "linewidth": 1.0}
    label = f"L={entry['layers']} seed={entry['seed']}"
    xs, ys, starts = _curve_line(entry, "validation_full_sequence")
    accuracy_axis.plot(xs, ys, label=label, **style)
    for start, length in starts:
        accuracy_axis.plot([start], [0.0], marker="o", markersize=3, color=style["color"])
        accuracy_axis.annotate(f"{length}", (start, 0.02 + 0.06 * (entry["layers"] - 1)),
                               fontsize=6, color=style["color"])
    loss_xs, losses, _ = _curve_line(entry, "loss")
    loss_axis.plot(loss_xs, losses, **style)
