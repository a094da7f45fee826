"""Benchmark: formulas_for, zoo_formulas and formula queries at n = 10^6 for every zoo arch.

Run:  /work/venv/bin/python bench/bench_formulas.py [--layers 4] [--out bench/FORMULA_RESULTS.md]
formulas_for compiles the stack at n = 1, 2, 3 (the measured part) and derives the rest;
zoo_formulas(arch) gives the formulas in n, L, d, N, p (sizes derived, depth offsets measured
on a 3-layer reference stack); a query substitutes the numbers into the sympy expressions.
Each is timed in a fresh process (`--one ARCH`), so the in-process caches start empty, as in
one `tc0lab compile` run. Numbers are wall-clock seconds on this machine (shared CPU).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

from tc0lab.spec import zoo

WIDE = (64, 16)  # (d, N) of the second query: a size that can never be built


def bench_one(arch: str, layers: int, n: int, bits: int) -> dict:
    """Time one arch in this process (called in a fresh subprocess by main)."""
    import tc0lab.formulas as formula_module
    stack = zoo.stack(arch, layers, 2, 2)
    started = time.perf_counter()
    formulas = formula_module.formulas_for(stack)
    derive = time.perf_counter() - started
    started = time.perf_counter()
    general = formula_module.zoo_formulas(arch)
    general_s = time.perf_counter() - started
    started = time.perf_counter()
    values = formulas.at(n, bits)
    query = time.perf_counter() - started
    started = time.perf_counter()
    wide = general.at(n, bits, layers=layers, d_model=WIDE[0], d_state=WIDE[1])
    wide_query = time.perf_counter() - started
    return {"arch": arch, "derive_s": derive, "general_s": general_s, "query_s": query, "wide_query_s": wide_query,
            "symbolic": formulas.general is not None, "wide_nodes": wide["nodes"], **values}


def _fresh(arch: str, args) -> dict:
    command = [sys.executable, __file__, "--one", arch, "--layers", str(args.layers), "--n", str(args.n),
               "--bits", str(args.bits)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def _cli_seconds(layers: int) -> float:
    started = time.perf_counter()
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "tc0lab"), "compile", "--layers", str(layers),
                    "--json"], check=True, capture_output=True)
    return time.perf_counter() - started


def _formula_section() -> list[str]:
    """The formulas in n, L, d, N, p themselves, with where each part comes from."""
    from tc0lab.formulas import zoo_formulas
    lines = [
        "## The formulas in n, L, d, N, p (`zoo_formulas(arch)`)",
        "",
        "Sizes (gates by op, edges, nodes, threshold gates): the n-dependence comes from each construction's loops "
        "(tc0lab/formulas/counts.py) and the per-token gates are measured at n = 1, 2, for one-layer stacks on a "
        "grid of (d, N); each coefficient is interpolated exactly in d and N (degree <= 3 per coordinate; s4 in "
        "two regions, d <= N and d > N) and checked beyond the grid (tc0lab/formulas/interpolate.py); L identical "
        "layers cost the embedding plus L times one layer. Depth is a + b*L at n = 1 and n = 2, measured on the layer prefixes of "
        "zoo.stack(arch, 3, 2, 2, seed=0) (s4: also at d=3, N=2 for the region d > N), fitted on L = 1, 2 and "
        "checked on L = 3, plus the derived growth G(n, L) - G(2, L): 0 (constant-depth mixers), "
        "c * scan_units(n, L) for scan trees (c = 2 arithmetic, 5 threshold per composition), s * n for the chain "
        "(s = 3 arithmetic, 7 threshold per step). formulas_for(stack) of a zoo stack uses them after checking "
        "that they equal the stack's own formulas in n and p and its measured depth. tests/test_formulas.py "
        "checks zoo_formulas against circuits built with seed 7 at (L, d, N) = (1, 2, 2), (2, 3, 2), (3, 2, 3), "
        "(4, 3, 4) and n = 1, 2, 5, 7, at 20 random (arch, L <= 4, d, N in 2..4, n <= 9, p), and at each arch's "
        "smallest (d, N). `nodes` below; `tc0lab compile --json` prints every formula.",
        "",
        "| arch | domain | threshold depth | nodes |",
        "|---|---|---|---|",
    ]
    for arch in zoo.ARCHS:
        strings = zoo_formulas(arch).as_strings()
        low_d, low_n = zoo_formulas(arch).minimum
        lines.append(f"| {arch} | d >= {low_d}, N >= {low_n} | `{strings['depth_threshold']}` | `{strings['nodes']}` |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--n", type=int, default=10**6)
    parser.add_argument("--bits", type=int, default=40)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="bench/FORMULA_RESULTS.md")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(bench_one(args.one, args.layers, args.n, args.bits)))
        return
    rows = [_fresh(arch, args) for arch in zoo.ARCHS]
    cli = _cli_seconds(args.layers)
    lines = [
        "# Formula benchmark (measured)",
        "",
        f"Command: `/work/venv/bin/python bench/bench_formulas.py --layers {args.layers} --n {args.n} --bits {args.bits}`",
        f"Machine: {os.cpu_count()} CPU cores shared with other agents (load average {os.getloadavg()[0]:.1f} at the "
        f"end), {platform.python_implementation()} {platform.python_version()}; one run each, wall-clock, each arch "
        "in a fresh process.",
        f"Stacks: zoo.stack(arch, layers={args.layers}, d=2, N=2, seed=0). `formulas_for` includes compiling at "
        "n = 1, 2, 3 and checking the stack against the derived structure; `zoo_formulas` is the call after it "
        "(sizes cached, depth offsets measured on a 3-layer reference stack); `query` = formulas.at(n, p); "
        f"`query d={WIDE[0]}, N={WIDE[1]}` = zoo_formulas(arch).at(n, p, L, {WIDE[0]}, {WIDE[1]}). Values are "
        "formula evaluations, not built circuits (tests/test_formulas.py checks the formulas against built "
        "circuits at n <= 17, L <= 4, d, N <= 4).",
        f"`tc0lab compile --layers {args.layers} --json`, whole process, same machine: {cli:.2f} s.",
        "",
        f"| arch | in n, L, d, N | formulas_for (s) | zoo_formulas (s) | query (s) | query d={WIDE[0]}, N={WIDE[1]} (s) | "
        f"depth (arith) | depth (threshold) | nodes | edges | threshold gates (p={args.bits}) | "
        f"nodes at d={WIDE[0]}, N={WIDE[1]} |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['arch']} | {'yes' if r['symbolic'] else 'no'} | {r['derive_s']:.3f} | {r['general_s']:.3f} | "
                     f"{r['query_s']:.4f} | {r['wide_query_s']:.4f} | {r['depth_arithmetic']} | {r['depth_threshold']} | "
                     f"{r['nodes']:.3e} | {r['edges']:.3e} | {r['threshold_gates']:.3e} | {r['wide_nodes']:.3e} |")
    lines += ["", *_formula_section()]
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as handle:
        handle.write(text)
    print(text)


if __name__ == "__main__":
    main()
