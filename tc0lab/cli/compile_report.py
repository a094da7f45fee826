"""The report of `tc0lab compile`: compile an architecture at several n, measure each
circuit, and classify the growth.

The library behind the command (the compiler itself is `tc0lab.compiler`): it returns plain
dicts (one per (arch, n) and one per arch) that the CLI prints as a table or as JSON. Every
figure here is measured on a circuit that was built (or, in formula mode, evaluated from the
symbolic formulas, and labelled so).
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from tc0lab.circuit.measure import PRECISION_FACTOR, classify_growth, default_precision
from tc0lab.compiler.compiling import CONSTRUCTIONS, compile_circuit, construction_for
from tc0lab.parallel import map_in_processes
from tc0lab.spec import zoo
from tc0lab.spec.recurrence import Stack

# Measured peak memory per gate (bench/bench_compile.py): ~150 bytes built and measured (28.4M
# gates in 3.99 GiB), ~1,400 bytes once the nx.DiGraph is materialised (export, --lower).
# The default limits keep either under about 3.5 GiB.
BYTES_PER_NODE = 160
GRAPH_BYTES_PER_NODE = 1_400
DEFAULT_MAX_NODES = 20_000_000
DEFAULT_MAX_GRAPH_NODES = 2_500_000


@dataclass(frozen=True)
class CompileRequest:
    layers: int = 4
    ns: tuple[int, ...] = (8, 16, 32)
    d_model: int = 2
    d_state: int = 2
    precision: int | None = None  # None: log precision, c * ceil(log2 n) per n
    seed: int = 0
    max_nodes: int = DEFAULT_MAX_NODES

    def precision_at(self, n: int) -> int:
        return self.precision if self.precision is not None else default_precision(n)


def refuse_if_too_large(stack: Stack, n: int, max_nodes: int, graph: bool = False) -> None:
    """Estimate the circuit's size from the formulas before building; refuse what won't fit
    (`graph`: the nx.DiGraph will be materialised too, which costs ~9x the memory)."""
    from tc0lab.formulas import FormulaUnsupported, cached_zoo_formulas, estimate_nodes
    try:
        if stack.d_state is not None and stack.blocks[0] is zoo.block(stack.arch, stack.d, stack.d_state, False):
            estimate = cached_zoo_formulas(stack.arch)[0].nodes_at(n, stack.layers, stack.d, stack.d_state)
        else:
            estimate = estimate_nodes(stack, n)
    except (FormulaUnsupported, ValueError):
        return  # no formula for this structure or size: nothing to estimate from, so build as asked
    if estimate > max_nodes:
        gib = estimate * (GRAPH_BYTES_PER_NODE if graph else BYTES_PER_NODE) / 2**30
        what = "build and turn into a graph" if graph else "build"
        raise MemoryError(
            f"{stack.arch} with {stack.layers} layers at n={n} would {what} about {estimate:,} nodes "
            f"(~{gib:.1f} GiB), more than the {max_nodes:,}-node limit; use --formula to read depth and "
            f"sizes from the symbolic formulas without building")


def measure_architecture(arch: str, request: CompileRequest, build: bool = True) -> tuple[list[dict], dict]:
    """Rows for every n (built and measured, or from formulas) and a summary for the arch."""
    from tc0lab.formulas import FormulaUnsupported, cached_zoo_formulas, formulas_for
    stack = zoo.stack(arch, request.layers, request.d_model, request.d_state, seed=request.seed)
    try:
        formulas, formula_strings = cached_zoo_formulas(arch)
        provenance = formulas.provenance
    except FormulaUnsupported as error:
        formulas, formula_strings, provenance = None, {}, f"no formulas: {error}"  # measured circuits need none
        if not build:  # formulas in n and p at this stack's own d, N and L, exact where they are derived
            formulas = formulas_for(stack)
            formula_strings = formulas.as_strings()
            provenance = (f"no formula in d and N ({error}); in n and p at d_model={request.d_model}, "
                          f"d_state={request.d_state}, layers={request.layers}: {formulas.provenance}")
    sizes = {"layers": request.layers, "d_model": request.d_model, "d_state": request.d_state}
    rows = []
    for n in request.ns:
        bits = request.precision_at(n)
        row = {"arch": arch, "layers": request.layers, "n": n, "d_model": request.d_model,
               "d_state": request.d_state, "precision_bits": bits}
        if build:
            refuse_if_too_large(stack, n, request.max_nodes)
            started = time.perf_counter()
            compiled = compile_circuit(stack, n)
            measurement = compiled.measure(bits)
            row.update(measurement.as_dict())
            row.update(source="measured", seconds=round(time.perf_counter() - started, 4))
        else:
            row.update(formulas.at(n, bits, **sizes))
            row.update(source="formula")
        rows.append(row)
    construction = construction_for(stack.blocks[0].mixer, stack.values[0])
    summary = {
        "arch": arch,
        "construction": construction,
        "rule": CONSTRUCTIONS[construction][1],
        "growth": ("not derived" if any(r["depth_threshold"] is None for r in rows) else
                   classify_growth([r["n"] for r in rows], [r["depth_threshold"] for r in rows]) if len(rows) > 1
                   else "unknown"),
        "size_growth": classify_growth([r["n"] for r in rows], [r["nodes"] for r in rows]) if len(rows) > 1 else "unknown",
        "formulas": formula_strings,
        "formula_provenance": provenance,
    }
    return rows, summary


def scaling_report(archs: list[str], request: CompileRequest, build: bool = True, workers: int | None = None) -> dict:
    """The whole `tc0lab compile` result as one JSON-ready document (architectures side by side
    on `workers` processes, default one per core; formula queries run in-process)."""
    from tc0lab.circuit.cost import COST_MODEL
    circuits, architectures = [], []
    job = functools.partial(measure_architecture, request=request, build=build)
    for rows, summary in map_in_processes(job, archs, workers if build else 1):
        circuits.extend(rows)
        architectures.append(summary)
    cost_model = [{"op": e.op, "depth": e.depth, "size": str(e.size), "status": e.status, "source": e.source}
                  for e in COST_MODEL.values()]
    precision = (f"fixed: p = {request.precision} bits" if request.precision is not None else
                 f"log: p = c * ceil(log2 n) bits with c = {PRECISION_FACTOR}")
    return {"precision": precision, "circuits": circuits, "architectures": architectures, "cost_model": cost_model}
