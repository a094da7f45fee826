"""Turn a finished sweep into its outputs: the predictions-vs-measured comparison, the summary
(summary.json, also the CLI's --json output) and the text tables; `write_outputs` writes the
summary and the figures (figures.py).

The min-layers table has one row per model and one column per length; a cell is the smallest
L that reached the target, "not reached (budget ...)" with the per-run budget beside it, or
"—" when the sweep's time budget ran out before the cell was tried.

Predictions come from the checker, `tc0lab.check.predict.predict(model, group)`, through
`checker_prediction` only; if the checker fails the column says so; nothing is invented. Agreement vocabulary (finite-n, finite-budget runs show consistency, never proof):
- "agree": the measurement is consistent with the prediction (1 layer at every tested n for
  "1 layer suffices"; a depth that grows, or a target that stops being reached, as n grows for
  "depth grows with n");
- "inconclusive": the measurement cannot speak to the prediction. "depth grows with n" is an
  asymptotic statement, so a flat depth at the tested n does not contradict it; "1 layer
  suffices" is about expressivity, so a 1-layer model that does not learn within budget does
  not contradict it either;
- "disagree": never produced from these measurements, for the two reasons above; the word is
  kept so that the column's vocabulary is the one researchers expect.
- "—": no prediction to compare with.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tc0lab import atomic_file
from tc0lab.probe.config import ProbeConfig
from tc0lab.probe.figures import (length_curves, write_curves_figure, write_figure,
                                  write_length_figure)
from tc0lab.probe.results import SCHEMA_VERSION
from tc0lab.probe.runs import NOT_REACHED, REACHED, Cell
from tc0lab.probe.tasks import named_task

NO_PREDICTION = "no prediction"


# ---------------------------------------------------------------------------------------------
# Predictions
# ---------------------------------------------------------------------------------------------

def checker_prediction(model: str, group: str) -> dict[str, Any]:
    """The checker's prediction for (model, group); 'unavailable' if the checker fails."""
    if named_task(group) is not None:     # copy, recall, parity, flipflop
        return {"prediction": NO_PREDICTION, "verdict": "",
                "reason": f"{group!r} is not a group word problem; the checker predicts depth "
                          f"for word problems only (its verdict: tc0lab check --arch {model})"}
    from tc0lab.check.predict import predict    # the checker (sympy) loads only when asked
    try:
        return dict(predict(model, group))
    except ValueError as error:     # e.g. a task that is not a group
        return {"prediction": NO_PREDICTION, "reason": str(error), "verdict": ""}
    except Exception as error:      # a checker bug must not cost the measured results
        return {"prediction": f"unavailable (checker failed: {type(error).__name__})",
                "reason": str(error), "verdict": ""}


def measured_outcome(cells: list[dict[str, Any]]) -> tuple[str, str]:
    """(kind, text) of one model's min depths over lengths.

    kind is one of: "one layer", "constant", "grows", "irregular", "none reached", "not run".
    """
    tried = sorted((c for c in cells if c["status"] != "not run"), key=lambda c: c["length"])
    if not tried:
        return "not run", "not run"
    text = ", ".join(f"n={c['length']}: {c['min_layers'] if c['min_layers'] else 'x'}"
                     for c in tried)
    depths = [c["min_layers"] for c in tried]
    if all(depth is None for depth in depths):
        return "none reached", f"not reached at any n ({text})"
    first_reached = next(i for i, depth in enumerate(depths) if depth is not None)
    if first_reached > 0:
        return "irregular", f"not reached at the shortest n, reached later ({text})"
    if any(depth is None for depth in depths) or len(set(depths)) > 1:
        return "grows", f"depth grows or target lost with n ({text})"
    if depths[0] == 1:
        return "one layer", f"1 layer at every n ({text})"
    return "constant", f"constant depth {depths[0]} ({text})"


def agreement(prediction: str, measured_kind: str) -> str:
    """See the module docstring for the vocabulary."""
    if prediction == "1 layer suffices":
        return "agree" if measured_kind == "one layer" else "inconclusive"
    if prediction == "depth grows with n":
        return "agree" if measured_kind == "grows" else "inconclusive"
    return "—"


MIN_GROWTH_LENGTHS = 3


def measured_growth(cells: list[dict[str, Any]]) -> str:
    """The growth class of the measured min depth against n, by the compiler's own circuit-depth
    classifier (tc0lab.circuit.measure.classify_growth), over the lengths where a depth was
    measured; "not reached" cells are lower bounds and are left out."""
    from tc0lab.circuit.measure import classify_growth
    measured = sorted((c["length"], c["min_layers"]) for c in cells if c["status"] == REACHED)
    if len(measured) < MIN_GROWTH_LENGTHS:
        return f"— ({len(measured)} of {MIN_GROWTH_LENGTHS} lengths needed measured)"
    ns, depths = zip(*measured)
    return classify_growth(list(ns), [float(depth) for depth in depths])


def predictions_rows(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for task, model in dict.fromkeys((c["task"], c["model"]) for c in cells):
        predicted = checker_prediction(model, task)
        own = [c for c in cells if c["task"] == task and c["model"] == model]
        kind, text = measured_outcome(own)
        rows.append({"task": task, "model": model, "prediction": predicted["prediction"],
                     "predicted_growth": predicted.get("growth", "—"),
                     "reason": predicted.get("reason", ""),
                     "verdict": predicted.get("verdict", ""), "measured": text,
                     "measured_kind": kind, "measured_growth": measured_growth(own),
                     "agreement": agreement(predicted["prediction"], kind)})
    return rows


# ---------------------------------------------------------------------------------------------
# Summary and text tables
# ---------------------------------------------------------------------------------------------

def summarize(config: ProbeConfig, cells: list[Cell], records: dict[str, dict[str, Any]],
              sweep_info: dict[str, Any]) -> dict[str, Any]:
    """The summary document (also the CLI's --json output)."""
    cell_dicts = [_cell_dict(cell, records) for cell in cells]
    budgets = {model: {"max_steps": config.settings_for(model)[0].max_steps,
                       "max_seconds": config.settings_for(model)[0].max_seconds}
               for model in config.sweep.models}
    return {"schema_version": SCHEMA_VERSION, "experiment_hash": config.experiment_hash(),
            "preset": config.preset, "target_accuracy": config.train.target_accuracy,
            "metric": "full-sequence test accuracy (every position correct)",
            "seed_rule": config.sweep.seed_rule, "seeds": config.sweep.seeds,
            "protocol": "curriculum" if config.train.curriculum else "one run per length",
            "max_layers": config.sweep.max_layers, "per_run_budget": budgets,
            "sweep": sweep_info, "cells": cell_dicts,
            "predictions": predictions_rows(cell_dicts),
            "curves": curve_entries(config, records)}


def curve_entries(config: ProbeConfig, records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The learning curve of every run of the grid (a curriculum run: one part per length)."""
    entries = []
    for record in records.values():
        if (record.get("curriculum_run") or record["task"] not in config.sweep.tasks
                or record["model"] not in config.sweep.models):
            continue
        parts = record.get("stages") or [{**record, "length": record["length"]}]
        entries.append({"run_key": record["run_key"], "task": record["task"],
                        "model": record["model"], "layers": record["layers"],
                        "seed": record["seed"],
                        "stages": [{"length": part["length"], "status": part["status"],
                                    "seconds": part["seconds"], "curve": part.get("curve", [])}
                                   for part in parts]})
    return sorted(entries, key=lambda e: (e["task"], e["model"], e["layers"], e["seed"]))


def _cell_dict(cell: Cell, records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    runs = [_run_summary(records[key]) for key in cell.run_keys if key in records]
    return {"task": cell.task, "model": cell.model, "length": cell.length,
            "status": cell.status if cell.status in (REACHED, NOT_REACHED) else "not run",
            "min_layers": cell.min_layers, "tried_layers": cell.tried_layers,
            "diverged_runs": cell.diverged_runs, "runs": runs,
            "note": cell.note}


def _run_summary(record: dict[str, Any]) -> dict[str, Any]:
    extrapolation = record.get("extrapolation") or {}
    return {"run_key": record["run_key"], "layers": record["layers"], "seed": record["seed"],
            "status": record["status"], "steps": record["steps"], "seconds": record["seconds"],
            "params": record["params"], "test_full_sequence": record["test"]["full_sequence"],
            "test_token": record["test"]["token"],
            "extrapolation_length": extrapolation.get("length"),
            "extrapolation_full_sequence": extrapolation.get("full_sequence"),
            "extrapolation_by_length": extrapolation.get("by_length") or {},
            "stop_reason": record.get("stop_reason"),
            "curriculum_run": record.get("curriculum_run")}


def _cell_text(cell: dict[str, Any], budget: dict[str, Any]) -> str:
    """The min depth (or "not reached"), then the deciding run's test accuracy at n and its
    extrapolation accuracy, e.g. "1 (0.99; 0.95 @32)"."""
    if cell["status"] == REACHED:
        return f"{cell['min_layers']} {_accuracy_note(_deciding_run(cell))}".rstrip()
    if cell["status"] == NOT_REACHED and not cell["runs"] and cell.get("note"):
        return "not reached (a shorter n was not reached)"
    if cell["status"] == NOT_REACHED:
        return (f"not reached {_accuracy_note(_deciding_run(cell))}".rstrip()
                + f" [budget {budget['max_seconds']:g}s/{budget['max_steps']} steps]")
    return "—"


def _deciding_run(cell: dict[str, Any]) -> dict[str, Any] | None:
    """The run that reached at the min depth, else the most accurate run of the cell."""
    runs = cell["runs"]
    if cell["status"] == REACHED:
        runs = [run for run in runs if run["layers"] == cell["min_layers"]
                and run["status"] == REACHED] or runs
    return max(runs, key=lambda run: run["test_full_sequence"], default=None)


def _accuracy_note(run: dict[str, Any] | None) -> str:
    if run is None:
        return ""
    note = f"{run['test_full_sequence']:.2f}"
    if run["extrapolation_length"]:
        note += f"; {run['extrapolation_full_sequence']:.2f} @{run['extrapolation_length']}"
    return f"({note})"


def _format_rows(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(value).ljust(width) for value, width in zip(row, widths)).rstrip()
             for row in [header, *rows]]
    return "\n".join([lines[0], "  ".join("-" * width for width in widths), *lines[1:]])


def format_min_layers(summary: dict[str, Any]) -> str:
    """One table per task: min layers per model x length."""
    blocks = []
    for task in dict.fromkeys(c["task"] for c in summary["cells"]):
        cells = [c for c in summary["cells"] if c["task"] == task]
        lengths = sorted({c["length"] for c in cells})
        models = list(dict.fromkeys(c["model"] for c in cells))
        by_key = {(c["model"], c["length"]): c for c in cells}
        rows = [[model] + [_cell_text(by_key[(model, n)], summary["per_run_budget"][model])
                           if (model, n) in by_key else "—" for n in lengths]
                for model in models]
        title = (f"{task}: min layers reaching {summary['target_accuracy']:.0%} "
                 f"{summary['metric']}; {summary['seed_rule']} of {summary['seeds']} seed(s); "
                 f"max layers {summary['max_layers']}\n(in brackets: that run's test accuracy "
                 f"at n; accuracy at the extrapolation length @m)")
        blocks.append(title + "\n" + _format_rows(["model"] + [f"n={n}" for n in lengths], rows))
    return "\n\n".join(blocks)


def format_runs(summary: dict[str, Any]) -> str:
    """Every run behind the table: layers, seed, status, steps, seconds, accuracies."""
    rows = []
    for cell in summary["cells"]:
        for run in cell["runs"]:
            extrapolation = "—"
            if run["extrapolation_length"]:
                extrapolation = (f"{run['extrapolation_full_sequence']:.3f} "
                                 f"@n={run['extrapolation_length']}")
            rows.append([cell["task"], cell["model"], str(cell["length"]), str(run["layers"]),
                         str(run["seed"]), run["status"], run.get("stop_reason") or "",
                         str(run["steps"]),
                         f"{run['seconds']:.1f}", f"{run['test_full_sequence']:.3f}",
                         f"{run['test_token']:.3f}", extrapolation, str(run["params"])])
    header = ["task", "model", "n", "L", "seed", "status", "stopped by", "steps", "seconds",
              "test seq acc",
              "test tok acc", "extrapolation seq acc", "params"]
    return _format_rows(header, rows) if rows else "(no runs)"


def format_predictions(summary: dict[str, Any]) -> str:
    rows = [[row["task"], row["model"], row["prediction"], row.get("predicted_growth", "—"),
             row["measured"], row.get("measured_growth", "—"), row["agreement"]]
            for row in summary["predictions"]]
    return ("Predictions vs measured (finite n and budget: consistency, not proof; growth "
            "classes by the compiler's circuit-depth classifier)\n"
            + _format_rows(["task", "model", "checker prediction", "predicted growth",
                            "measured", "measured growth", "agreement"], rows))


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------

def write_outputs(out_dir: Path, summary: dict[str, Any]) -> dict[str, str]:
    """summary.json, figure.png and, when runs were tested on length bins, accuracy_by_length.png;
    returns their paths."""
    summary_path, figure_path = out_dir / "summary.json", out_dir / "figure.png"
    atomic_file.write_text(summary_path, json.dumps(summary, indent=2) + "\n")
    write_figure(summary, figure_path)
    files = {"results": str(out_dir / "results.jsonl"), "summary": str(summary_path),
             "figure": str(figure_path), "config": str(out_dir / "config.json")}
    if any(stage["curve"] for entry in summary.get("curves", []) for stage in entry["stages"]):
        write_curves_figure(summary, out_dir / "curves.png")
        files["curves"] = str(out_dir / "curves.png")
    if length_curves(summary):
        write_length_figure(summary, out_dir / "accuracy_by_length.png")
        files["length_figure"] = str(out_dir / "accuracy_by_length.png")
    return files
