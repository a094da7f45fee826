"""The compiler's orchestrator: spec stack at length n -> measured arithmetic circuit.

Stages (the README's "How it works" follows this list):
  1. validate     the stack's blocks (`Stack.__post_init__` reports every problem at once)
  2. inputs       one 'input' node per token coordinate; fixed positions added as constants
  3. per layer    pre map -> mixer by the cheapest sound construction -> post map -> mlp
                  (construction chosen by `construction_for` from the matrices' structure)
  4. measure      the builder tallies depths and sizes as gates are added; the nx.DiGraph is
                  built on first use (`tc0lab.circuit.measure` recomputes the tallies from it)
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import networkx as nx
import numpy as np

from tc0lab.circuit.build import CircuitBuilder
from tc0lab.circuit.evaluate import evaluate_outputs
from tc0lab.circuit.measure import Measurement, default_precision
from tc0lab.circuit.no_gc import paused_gc
from tc0lab.compiler.diagonal_decay import compile_diagonal
from tc0lab.compiler.lti_kernel import compile_fixed
from tc0lab.compiler.recurrence_terms import bind_recurrence
from tc0lab.compiler.scan_tree import compile_scan_tree
from tc0lab.compiler.sequential_chain import compile_chain
from tc0lab.compiler.softmax_attention import compile_attention
from tc0lab.compiler.token_maps import compile_token_map
from tc0lab.spec import zoo
from tc0lab.spec.recurrence import AttentionLayer, Mixer, Recurrence, SpecError, Stack, sinusoidal_positions
from tc0lab.spec.structure import analyze

# construction name -> (compiler of the recurrence, the rule it implements)
CONSTRUCTIONS = {
    "lti-kernel": (compile_fixed, "fixed A: constant kernel C A^k B (Illusion Thm 4.2)"),
    "diagonal-decay": (compile_diagonal, "diagonal A(x): iterated scalar products (Illusion Thm 4.4)"),
    "scan-tree": (compile_scan_tree, "non-commuting A(x): balanced tree of matrix products, depth Theta(log n)"),
    "sequential-chain": (compile_chain, "nonlinear update: sequential chain, depth Theta(n)"),
    "softmax-attention": (None, "softmax attention: Merrill-Sabharwal constant-depth construction"),
}

# the constructions whose threshold depth is constant in n
CONSTANT_DEPTH_CONSTRUCTIONS = frozenset({"lti-kernel", "diagonal-decay", "softmax-attention"})


@functools.lru_cache(maxsize=256)
def construction_for(mixer: Mixer) -> str:
    """The cheapest construction that is sound for the mixer's structure."""
    if isinstance(mixer, AttentionLayer):
        return "softmax-attention"
    structure = analyze(mixer)
    if structure.nonlinear:
        return "sequential-chain"
    return {"fixed": "lti-kernel", "diagonal": "diagonal-decay"}.get(structure.kind, "scan-tree")


@dataclass
class CompiledCircuit:
    """A compiled stack: its gates, measured while built, and the nx.DiGraph on first use."""

    builder: CircuitBuilder
    stack: Stack
    n: int
    inputs: list[list[str]]
    output_nodes: list[list]  # handles (names or indices) of the last layer's outputs
    constructions: list[str]

    @functools.cached_property
    def outputs(self) -> list[list[str]]:
        """The output gates' names, row t - 1 for position t."""
        return [[self.builder.name_of(node) for node in row] for row in self.output_nodes]

    @functools.cached_property
    def graph(self) -> nx.DiGraph:
        """The circuit as an nx.DiGraph (built once, when first asked for)."""
        with paused_gc():
            return self.builder.graph()

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """Run the circuit on inputs x of shape (n, d); compare with `reference.run_stack`."""
        return evaluate_outputs(self.graph, self.outputs, x)

    def measure(self, precision_bits: int | None = None) -> Measurement:
        """Depths and sizes, tallied while building (`measure(self.graph, p)` recomputes them with networkx)."""
        return self.builder.measurement(precision_bits or default_precision(self.n))


def _compile_mixer(builder: CircuitBuilder, mixer: Mixer, values: dict, z: list[list[str]], layer: int) -> tuple[list[list[str]], str]:
    name = construction_for(mixer)
    if name == "softmax-attention":
        return compile_attention(builder, mixer, values, z, layer), name
    construct, _ = CONSTRUCTIONS[name]
    return construct(builder, bind_recurrence(mixer, values), z, layer), name


def _input_rows(builder: CircuitBuilder, stack: Stack, n: int) -> tuple[list[list[str]], list[list[str]]]:
    raw = [[builder.input(t, i) for i in range(stack.d)] for t in range(1, n + 1)]
    if stack.positions != "sinusoidal":
        return raw, raw
    table = sinusoidal_positions(n, stack.d)
    rows = []
    for t, row in enumerate(raw, start=1):
        builder.at(0, t)
        rows.append([builder.add([node, builder.const(float(table[t - 1, i]), name=f"pos[t={t},i={i}]", role="pos")],
                                 name=f"x+pos[t={t},i={i}]", role="x+pos") for i, node in enumerate(row)])
    return raw, rows


def compile_circuit(stack: Stack, n: int) -> CompiledCircuit:
    """Compile every layer of `stack` at sequence length n into one circuit."""
    if n < 1:
        raise SpecError(f"n must be >= 1, got {n}")
    builder = CircuitBuilder()
    used = []
    with paused_gc():
        inputs, x = _input_rows(builder, stack, n)
        for layer, (blk, values) in enumerate(zip(stack.blocks, stack.values), start=1):
            z = compile_token_map(builder, blk.pre, values, x, layer) if blk.pre is not None else x
            y, construction = _compile_mixer(builder, blk.mixer, values, z, layer)
            x = compile_token_map(builder, blk.post, values, [xr + yr for xr, yr in zip(x, y)], layer)
            if blk.mlp is not None:
                x = compile_token_map(builder, blk.mlp, values, x, layer)
            used.append(construction)
    return CompiledCircuit(builder, stack, n, inputs, x, used)


def compile_stack(arch: str | Stack | Recurrence | AttentionLayer, layers: int = 1, n: int = 8, d_model: int = 2,
                  d_state: int = 2, seed: int = 0, norm: bool = False) -> CompiledCircuit:
    """Compile a zoo architecture (by name), a user mixer, or a ready `Stack` at length n."""
    if isinstance(arch, Stack):
        stack = arch
    elif isinstance(arch, (Recurrence, AttentionLayer)):
        stack = zoo.custom_stack(arch, layers=layers, seed=seed)
    else:
        stack = zoo.stack(arch, layers, d_model, d_state, seed=seed, norm=norm)
    return compile_circuit(stack, n)
