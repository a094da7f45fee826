"""Benchmark the bit-level threshold lowering (not a timed test).

Measures, on the machine it runs on:
  0. every op's gadget at p bits: measured depth, gates, edges beside the cost model;
  1. threshold gates built per second and gate evaluations per second (gates x assignments),
     on a lowered 1-layer Mamba circuit;
  2. the largest lowered instance (doubling n) built within the time budget, verified against
     the fixed-point reference on a few random inputs;
  3. gadget-level counts (no materialisation) for large n.

Usage:  /work/venv/bin/python bench/bench_threshold.py [--arch mamba] [--bits 6] [--budget 60]
Prints one markdown report on stdout; progress goes to stderr.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from tc0lab.circuit.cost import COST_MODEL, threshold_size
from tc0lab.compiler import compile_stack
from tc0lab.threshold.fixed_point import FixedPoint, lookup_table
from tc0lab.threshold.gadgets import gadget_circuit
from tc0lab.threshold.lower import (check_lowering, default_frac_bits, gadget_level_count,
                                    lower_circuit, random_input_words)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def compiled_graph(arch: str, n: int):
    return compile_stack(arch, layers=1, n=n, d_model=1, d_state=1).graph


def gadget_table(bits: int, fan_in: int) -> list[dict]:
    """Measured depth/size/edges of every op's gadget beside the cost model."""
    fmt = FixedPoint(bits, default_frac_bits(bits))
    rows = []
    for op, entry in COST_MODEL.items():
        if op in ("input", "const"):
            continue
        k = 1 if op == "lookup" else 2 if op in ("mul", "div", "cmp") else fan_in
        options = {"table": lookup_table(fmt, np.exp)} if op == "lookup" else {}
        start = time.perf_counter()
        measured = gadget_circuit(op, fmt, k, **options).measure()
        rows.append({"op": op, "k": k, **measured, "seconds": time.perf_counter() - start,
                     "model_depth": entry.depth, "model_size": int(threshold_size(op, k, bits)),
                     "status": entry.status})
    return rows


def timed_lowering(arch: str, n: int, bits: int) -> dict:
    graph = compiled_graph(arch, n)
    start = time.perf_counter()
    lowered = lower_circuit(graph, bits)
    build_seconds = time.perf_counter() - start
    return {"n": n, "graph": graph, "lowered": lowered, "build_seconds": build_seconds,
            **lowered.measure()}


def throughput(arch: str, n: int, bits: int, batch: int) -> dict:
    run = timed_lowering(arch, n, bits)
    inputs = random_input_words(run["lowered"], batch)
    start = time.perf_counter()
    run["lowered"].circuit.evaluate_words(inputs)
    evaluate_seconds = time.perf_counter() - start
    return {"n": n, "gates": run["size"], "edges": run["edges"], "batch": batch,
            "build_gates_per_s": run["size"] / run["build_seconds"],
            "evaluated_gates_per_s": run["size"] * batch / evaluate_seconds,
            "evaluated_edges_per_s": run["edges"] * batch / evaluate_seconds}


def largest_within(arch: str, bits: int, budget: float, verify_samples: int) -> list[dict]:
    """Lower at n = 4, 8, 16, ... while the next build may fit in the budget.

    The next build time is predicted from the growth of the last two; a build predicted up
    to 1.5x the budget is still tried (and reported as over budget if it is)."""
    rows, n = [], 4
    while True:
        if len(rows) >= 2:
            growth = rows[-1]["build_seconds"] / max(rows[-2]["build_seconds"], 1e-3)
            if rows[-1]["build_seconds"] * growth > 1.5 * budget:
                break
        run = timed_lowering(arch, n, bits)
        verified = check_lowering(run["graph"], run["lowered"], samples=verify_samples)
        rows.append({key: run[key] for key in ("n", "build_seconds", "depth", "size", "edges")}
                    | {"verified": verified})
        log(f"n={n}: {run['size']} gates in {run['build_seconds']:.1f} s, verified={verified}")
        n = 2 * n
        if run["build_seconds"] > budget:
            break
    return rows


def gadget_level(arch: str, bits: int, ns: list[int]) -> list[dict]:
    rows = []
    for n in ns:
        start = time.perf_counter()
        counted = gadget_level_count(compiled_graph(arch, n), bits)
        rows.append({"n": n, **counted, "seconds": time.perf_counter() - start})
        log(f"gadget level n={n}: {counted['gates']} gates")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="mamba")
    parser.add_argument("--bits", type=int, default=6)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per lowered build")
    parser.add_argument("--throughput-n", type=int, default=16)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--verify-samples", type=int, default=8)
    parser.add_argument("--gadget-ns", default="64,256,512")
    parser.add_argument("--gadget-fan-in", type=int, default=4)
    args = parser.parse_args()

    gadgets = gadget_table(args.bits, args.gadget_fan_in)
    speed = throughput(args.arch, args.throughput_n, args.bits, args.batch)
    scaling = largest_within(args.arch, args.bits, args.budget, args.verify_samples)
    counted = gadget_level(args.arch, args.bits, [int(v) for v in args.gadget_ns.split(",")])

    fmt = FixedPoint(args.bits, default_frac_bits(args.bits))
    print(f"### Gadgets at p={fmt.bits}, f={fmt.frac_bits} (measured vs cost model)\n")
    print("| op | k | depth | model depth | gates | model gates | edges | status |")
    print("|---|---|---|---|---|---|---|---|")
    for row in gadgets:
        print(f"| {row['op']} | {row['k']} | {row['depth']} | {row['model_depth']} | {row['size']} | "
              f"{row['model_size']} | {row['edges']} | {row['status']} |")
    print()
    print(f"### Threshold lowering: {args.arch}, 1 layer, d_model=1, d_state=1, p={args.bits}\n")
    print(f"Throughput (n={speed['n']}, {speed['gates']} gates, {speed['edges']} edges, "
          f"batch {speed['batch']}): built {speed['build_gates_per_s']:,.0f} gates/s; "
          f"evaluated {speed['evaluated_gates_per_s']:,.0f} gate-evaluations/s "
          f"({speed['evaluated_edges_per_s']:,.0f} edge-evaluations/s).\n")
    print("| n | build s | threshold depth | gates | edges | verified |")
    print("|---|---|---|---|---|---|")
    for row in scaling:
        print(f"| {row['n']} | {row['build_seconds']:.1f} | {row['depth']} | {row['size']:,} | "
              f"{row['edges']:,} | {row['verified']} |")
    within = [row for row in scaling if row["build_seconds"] <= args.budget]
    if within:
        best = within[-1]
        print(f"\nLargest lowered instance built within {args.budget:.0f} s: n={best['n']}, "
              f"{best['size']:,} gates, {best['edges']:,} edges, {best['build_seconds']:.1f} s.\n")
    print("| n (gadget level, not materialised) | depth bound | gates | edges | distinct gadgets | s |")
    print("|---|---|---|---|---|---|")
    for row in counted:
        print(f"| {row['n']} | {row['depth']} | {row['gates']:,} | {row['edges']:,} | "
              f"{row['distinct_gadgets']} | {row['seconds']:.1f} |")


if __name__ == "__main__":
    main()
