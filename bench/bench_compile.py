"""Benchmark the compiler (not a test): whole-CLI time, build+measure throughput, largest n.

Run:  .venv/bin/python bench/bench_compile.py [--quick]
Prints a Markdown section for BENCHMARKS.md. Each measurement runs in a fresh subprocess so
peak memory (ru_maxrss) belongs to that one build. Throughput is nodes / (build + measure);
beside it, the baseline of materialising the nx.DiGraph and measuring it with networkx
(`tc0lab.measure(graph)`, which must give the same numbers).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
from tc0lab.compiler import compile_stack
from tc0lab.circuit.measure import measure
arch, n, layers, d, N, with_graph = sys.argv[1], *map(int, sys.argv[2:7])
started = time.perf_counter()
compiled = compile_stack(arch, layers=layers, n=n, d_model=d, d_state=N)
built = time.perf_counter()
m = compiled.measure()
done = time.perf_counter()
row = {"arch": arch, "n": n, "nodes": m.nodes, "edges": m.edges, "build_s": built - started, "measure_s": done - built,
       "total_s": done - started, "depth_threshold": m.depth_threshold}
if with_graph:  # the baseline: materialise the nx.DiGraph and measure it with networkx
    graph = compiled.graph
    graphed = time.perf_counter()
    assert measure(graph, m.precision_bits) == m
    row.update(graph_s=graphed - done, nx_measure_s=time.perf_counter() - graphed)
row["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(json.dumps(row))
"""

# (arch, n) pairs for the throughput table: each architecture at a size where its circuit is large
THROUGHPUT_CASES = [("mamba", 64), ("mamba", 128), ("mamba2", 128), ("gla", 128), ("s4", 128), ("s4d", 192),
                    ("transformer", 96), ("ids4", 256), ("deltanet", 192), ("rnn", 512)]


def child(n: int, arch: str = "mamba", layers: int = 4, d: int = 4, N: int = 4, with_graph: bool = False) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, arch, str(n), str(layers), str(d), str(N), str(int(with_graph))],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def cli_seconds(repeats: int) -> list[float]:
    tc0lab = os.path.join(os.path.dirname(sys.executable), "tc0lab")
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([tc0lab, "compile", "--layers", "4"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return times


def largest_n(limit_s: float = 30.0, limit_gib: float = 4.0) -> tuple[int, dict]:
    """Largest n (to within 8) where a 4-layer Mamba (d=4, N=4) builds and measures within the limits."""
    def fits(row: dict) -> bool:
        return row["total_s"] < limit_s and row["peak_rss_gib"] < limit_gib
    good, row = 16, child(16)
    n = 32
    while True:
        candidate = child(n)
        if not fits(candidate):
            break
        good, row, n = n, candidate, n * 2
    low, high = good, n
    while high - low > 8:
        middle = (low + high) // 2
        candidate = child(middle)
        if fits(candidate):
            low, row = middle, candidate
        else:
            high = middle
    return low, row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the largest-n search")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    times = cli_seconds(3)
    print(f"`tc0lab compile --layers 4` (whole process, 9 archs, n=8,16,32): median {statistics.median(times):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)})")
    print("\nbuild+measure, 4 layers, d = N = 4 (each in a fresh process); baseline: nx.DiGraph materialised "
          "and measured with networkx\n")
    print("| arch | n | nodes | edges | build+measure s | nodes/s | + nx graph s | nx measure s | nodes/s via networkx |")
    print("|---|---|---|---|---|---|---|---|---|")
    for arch, n in THROUGHPUT_CASES:
        row = child(n, arch, with_graph=True)
        via_networkx = row["total_s"] + row["graph_s"] + row["nx_measure_s"] - row["measure_s"]
        print(f"| {arch} | {n} | {row['nodes']:,} | {row['edges']:,} | {row['total_s']:.2f} | "
              f"{row['nodes'] / row['total_s']:,.0f} | {row['graph_s']:.2f} | {row['nx_measure_s']:.2f} | "
              f"{row['nodes'] / via_networkx:,.0f} |")
    if not args.quick:
        n, row = largest_n()
        print(f"largest n for 4-layer mamba d=4 N=4 within 30 s and 4 GiB: n={n} ({row['nodes']:,} nodes, "
              f"{row['total_s']:.1f} s, {row['peak_rss_gib']:.2f} GiB)")


if __name__ == "__main__":
    main()
