"""The compiler's orchestrator: spec stack at length n -> measured arithmetic circuit.

Stages (the README's "How it works" follows this list):
  1. validate     the stack's blocks (`Stack.__post_init__` reports every problem at once) and
                  that every parameter value is finite
  2. inputs       one 'input' node per token coordinate; fixed positions added as constants
  3. per layer    pre map -> mixer by the cheapest sound construction -> post map -> mlp
                  (construction chosen by `choose_construction` from the matrices' structure and,
                  for a commuting A(x), from the bound values: is there a proven eigenbasis?)
  4. measure      the builder tallies depths and sizes as gates are added; the nx.DiGraph is
                  built on first use (`tc0lab.circuit.measure` recomputes the tallies from it)
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Mapping

import networkx as nx
import numpy as np

from tc0lab.circuit.build import CircuitBuilder
from tc0lab.circuit.evaluate import evaluate_outputs
from tc0lab.circuit.measure import Measurement, default_precision
from tc0lab.circuit.no_gc import paused_gc
from tc0lab.compiler.back_substitution import compile_triangular
from tc0lab.compiler.diagonal_decay import compile_diagonal
from tc0lab.compiler.diagonalised import compile_diagonalised, diagonalising_basis
from tc0lab.compiler.lti_kernel import compile_fixed
from tc0lab.compiler.memoryless import compile_memoryless
from tc0lab.compiler.recurrence_terms import bind_recurrence
from tc0lab.compiler.scan_tree import compile_scan_tree
from tc0lab.compiler.sequential_chain import compile_chain
from tc0lab.compiler.softmax_attention import compile_attention
from tc0lab.compiler.state_chain import compile_state_chain
from tc0lab.compiler.token_maps import compile_token_map
from tc0lab.spec import zoo
from tc0lab.spec.mixers import Mixer
from tc0lab.spec.recurrence import AttentionLayer, Recurrence, SpecError, Stack, sinusoidal_positions
from tc0lab.spec.state_recurrence import StateRecurrence
from tc0lab.spec.structure import analyze

# construction name -> (compiler of the recurrence, the rule it implements)
CONSTRUCTIONS = {
    "lti-kernel": (compile_fixed, "fixed A: constant kernel C A^k B (Illusion Thm 4.2)"),
    "diagonal-decay": (compile_diagonal, "diagonal A(x): iterated scalar products (Illusion Thm 4.4)"),
    "triangular": (compile_triangular, "A(x) triangular after a permutation of the coordinates: back-substitution, one "
                                       "scalar decay sum per coordinate over the earlier ones (depth grows with the "
                                       "dependency chain, not with n)"),
    "diagonalised": (compile_diagonalised, "commuting A(x) and A(x0) with distinct eigenvalues (exact discriminant): "
                                           "constant eigenbasis W, W^-1 A(x) W diagonal for all x, iterated scalar "
                                           "products (Illusion Thm 4.6)"),
    "scan-tree": (compile_scan_tree, "A(x) with no constant-depth construction (non-commuting, or commuting without "
                                     "a proven eigenbasis): balanced tree of matrix products, depth Theta(log n)"),
    "memoryless": (compile_memoryless, "nonlinear update with A = 0: a position-wise map, constant depth"),
    "sequential-chain": (compile_chain, "nonlinear update: sequential chain, depth Theta(n)"),
    "softmax-attention": (None, "softmax attention: Merrill-Sabharwal constant-depth construction"),
    # StateRecurrence (a general update h_t = U(h_{t-1}, x_t)); its update that reads no state is 'memoryless'
    "state-chain": (compile_state_chain, "general state-dependent update (e.g. gates reading h_{t-1}): sequential "
                                         "chain of the update's expressions, depth Theta(n)"),
}

# the constructions whose threshold depth is constant in n
CONSTANT_DEPTH_CONSTRUCTIONS = frozenset({"lti-kernel", "diagonal-decay", "triangular", "diagonalised", "memoryless",
                                          "softmax-attention"})

_NEEDS_VALUES = "commuting"  # the structural choice that depends on the bound parameter values
_BY_KIND = {"fixed": "lti-kernel", "diagonal": "diagonal-decay", "triangular": "triangular", "commuting": _NEEDS_VALUES}


@dataclass(frozen=True)
class ConstructionChoice:
    name: str  # a key of CONSTRUCTIONS
    reason: str  # why it is sound (and, for a fallback, why nothing cheaper is)


@functools.lru_cache(maxsize=256)
def _by_structure(mixer: Mixer) -> ConstructionChoice:
    """The choice the matrices' structure alone decides (name _NEEDS_VALUES when values must decide)."""
    if isinstance(mixer, AttentionLayer):
        return ConstructionChoice("softmax-attention", "softmax attention")
    if isinstance(mixer, StateRecurrence):
        if not mixer.reads_state():
            return ConstructionChoice("memoryless", "state update that reads no state symbol: a position-wise map")
        return ConstructionChoice("state-chain", "state-dependent update that reads h_{t-1}")
    structure = analyze(mixer)
    if structure.nonlinear:
        if all(entry == 0 for entry in mixer.A):
            return ConstructionChoice("memoryless", "nonlinear update whose A is structurally zero: h_t = f(B(x_t) x_t)")
        return ConstructionChoice("sequential-chain", "nonlinear update that reads h_{t-1}")
    name = _BY_KIND.get(structure.kind, "scan-tree")
    reason = structure.reason if structure.kind != "commuting" else structure.commutator_proof
    return ConstructionChoice(name, reason)


def choose_construction(mixer: Mixer, values: Mapping | None = None) -> ConstructionChoice:
    """The cheapest construction that is sound for the mixer, and why.

    `values` (the layer's parameter values) are needed only for a commuting A(x): whether a
    constant eigenbasis exists depends on them (`diagonalised.diagonalising_basis`); without
    one, the scan tree is used and the reason says why.
    """
    if isinstance(mixer, Recurrence):
        mixer = mixer.widened()  # a token shift is an input, not state: it changes no construction
    choice = _by_structure(mixer)
    if choice.name != _NEEDS_VALUES:
        return choice
    if values is None:
        raise ValueError(f"the construction for {mixer.name!r} (commuting A(x)) depends on the parameter values: pass them")
    search = diagonalising_basis(bind_recurrence(mixer, dict(values)))
    if search.basis is not None:
        return ConstructionChoice("diagonalised", f"{choice.reason}; {search.reason}")
    return ConstructionChoice("scan-tree", f"commuting A(x) ({choice.reason}), but {search.reason}")


def construction_for(mixer: Mixer, values: Mapping | None = None) -> str:
    """The name of `choose_construction(mixer, values)`."""
    return choose_construction(mixer, values).name


@dataclass
class CompiledCircuit:
    """A compiled stack: its gates, measured while built, and the nx.DiGraph on first use."""

    builder: CircuitBuilder
    stack: Stack
    n: int
    inputs: list[list[str]]
    output_nodes: list[list]  # handles (names or indices) of the last layer's outputs
    constructions: list[str]  # per layer, a key of CONSTRUCTIONS
    reasons: list[str] = field(default_factory=list)  # per layer, why that construction

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
        """Run the circuit on inputs x of shape (n, d); compare with `reference.run_stack`.

        Raises SpecError for inputs of another shape, or that are not finite real numbers.
        """
        return evaluate_outputs(self.graph, self.outputs, checked_inputs(x, self.n, self.stack.d))

    def measure(self, precision_bits: int | None = None) -> Measurement:
        """Depths and sizes, tallied while building (`measure(self.graph, p)` recomputes them with networkx)."""
        return self.builder.measurement(precision_bits or default_precision(self.n))


def checked_inputs(x, n: int, d: int) -> np.ndarray:
    """x as a float array of shape (n, d), or a SpecError saying what is wrong with it."""
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise SpecError(f"inputs must be an array of shape (n, d) = ({n}, {d}): {error}") from None
    if array.shape != (n, d):
        raise SpecError(f"inputs must have shape (n, d) = ({n}, {d}) for this circuit, got {array.shape}")
    if array.dtype.kind not in "biuf":
        raise SpecError(f"inputs must be real numbers, got dtype {array.dtype}")
    if not np.all(np.isfinite(array)):
        t, i = np.argwhere(~np.isfinite(array))[0]
        raise SpecError(f"inputs must be finite, got x[{t}, {i}] = {array[t, i]} (position t = {t + 1})")
    return array.astype(float)


def _check_values(stack: Stack) -> None:
    """Every bound parameter value is a finite number (NaN or inf would compile to a NaN circuit)."""
    for layer, values in enumerate(stack.values, start=1):
        bad = sorted(str(symbol) for symbol, value in values.items() if not _finite_number(value))
        if bad:
            raise SpecError(f"layer {layer}: parameter values must be finite numbers, got other values for {', '.join(bad[:5])}")


def _finite_number(value) -> bool:
    try:
        return bool(np.isfinite(complex(value)))
    except (TypeError, ValueError):
        return False


def _compile_mixer(builder: CircuitBuilder, mixer: Mixer, values: dict, z: list[list[str]],
                   layer: int) -> tuple[list[list[str]], ConstructionChoice]:
    choice = choose_construction(mixer, values)
    if choice.name == "softmax-attention":
        return compile_attention(builder, mixer, values, z, layer), choice
    if isinstance(mixer, StateRecurrence):
        return compile_state_chain(builder, mixer, values, z, layer), choice
    if mixer.state_size == 0:
        raise SpecError(f"layer {layer}: {mixer.name!r} has a 0 x 0 state")
    construct, _ = CONSTRUCTIONS[choice.name]
    if mixer.reads_previous_token:  # the token shift is wiring: step t also reads step t-1's input nodes
        builder.at(layer, 0)
        zero = [builder.const(0.0, name=f"L{layer}.x0[i={i}]", role="const") for i in range(mixer.d_in)]
        mixer, z = mixer.widened(), [row + previous for row, previous in zip(z, [zero] + z[:-1])]
    return construct(builder, bind_recurrence(mixer, values), z, layer), choice


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
    _check_values(stack)
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
    return CompiledCircuit(builder, stack, n, inputs, x, [c.name for c in used], [c.reason for c in used])


def compile_stack(arch: str | Stack | Mixer, layers: int = 1, n: int = 8, d_model: int = 2,
                  d_state: int = 2, seed: int = 0, norm: bool = False) -> CompiledCircuit:
    """Compile a zoo architecture (by name), a user mixer, or a ready `Stack` at length n."""
    if isinstance(arch, Stack):
        stack = arch
    elif isinstance(arch, (Recurrence, AttentionLayer, StateRecurrence)):
        stack = zoo.custom_stack(arch, layers=layers, seed=seed)
    else:
        stack = zoo.stack(arch, layers, d_model, d_state, seed=seed, norm=norm)
    return compile_circuit(stack, n)
