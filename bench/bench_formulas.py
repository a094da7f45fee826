"""Benchmark: time of formulas_for and of formula queries at n = 10^6 for every zoo arch.

Run:  /work/venv/bin/python bench/bench_formulas.py [--layers 4] [--out bench/FORMULA_RESULTS.md]
formulas_for compiles the stack at n = 1, 2, 3 (the measured per-token part) and derives the
rest; a query substitutes n and p into the sympy expressions. Numbers are wall-clock seconds
measured on this machine (shared CPU), one run each after a warm-up import.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

from tc0lab.compiler import formulas as formula_module
from tc0lab.spec import zoo


def bench(arch: str, layers: int, d: int, N: int, n: int, bits: int) -> dict:
    stack = zoo.stack(arch, layers, d, N)
    started = time.perf_counter()
    formulas = formula_module.formulas_for(stack)
    derive = time.perf_counter() - started
    started = time.perf_counter()
    values = formulas.at(n, bits)
    query = time.perf_counter() - started
    return {"arch": arch, "derive_s": derive, "query_s": query, **values}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--n", type=int, default=10**6)
    parser.add_argument("--bits", type=int, default=40)
    parser.add_argument("--out", default="bench/FORMULA_RESULTS.md")
    args = parser.parse_args()
    rows = [bench(arch, args.layers, 2, 2, args.n, args.bits) for arch in zoo.ARCHS]
    lines = [
        "# Formula benchmark (measured)",
        "",
        f"Command: `/work/venv/bin/python bench/bench_formulas.py --layers {args.layers} --n {args.n} --bits {args.bits}`",
        f"Machine: {os.cpu_count()} CPU cores shared with other agents, {platform.python_implementation()} "
        f"{platform.python_version()}; one run each, wall-clock.",
        f"Stacks: zoo.stack(arch, layers={args.layers}, d=2, N=2, seed=0). `derive` = formulas_for (includes compiling "
        "at n = 1, 2, 3); `query` = formulas.at(n, p). Values below are formula evaluations, not built circuits "
        "(the tests check the formulas against built circuits at n <= 17).",
        "",
        f"| arch | derive (s) | query at n={args.n:.0e} (s) | depth (arith) | depth (threshold) | nodes | edges | threshold gates (p={args.bits}) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['arch']} | {r['derive_s']:.3f} | {r['query_s']:.4f} | {r['depth_arithmetic']} | "
                     f"{r['depth_threshold']} | {r['nodes']:.3e} | {r['edges']:.3e} | {r['threshold_gates']:.3e} |")
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as handle:
        handle.write(text)
    print(text)


if __name__ == "__main__":
    main()
