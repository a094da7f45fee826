"""tc0lab: the circuit complexity of sequence models, compiled, checked and probed.

The public API for notebooks (importing tc0lab never imports torch):

    import tc0lab
    compiled = tc0lab.compile_stack("mamba", layers=4, n=64)      # an nx.DiGraph inside
    tc0lab.measure(compiled.graph, precision_bits=12)             # depth, gates, threshold cost
    compiled.evaluate(x)                                           # == tc0lab.reference.run_stack(...)
    b = tc0lab.CircuitBuilder(); ...                               # assemble a custom circuit
    tc0lab.compile_stack(my_recurrence, layers=2, n=32)            # a user-written spec

See README.md ("How it works") for the stages and the files that implement them.
"""
from tc0lab.circuit.build import CircuitBuilder
from tc0lab.circuit.cost import COST_MODEL
from tc0lab.circuit.evaluate import evaluate
from tc0lab.circuit.export import export
from tc0lab.circuit.measure import classify_growth, default_precision, measure
from tc0lab.compiler import compile_circuit, compile_stack, construction_for
from tc0lab.spec import reference, zoo
from tc0lab.spec.recurrence import (AttentionLayer, Block, Recurrence, SpecError, Stack, TokenMap, input_symbols,
                                    symbol_array)
from tc0lab.spec.structure import analyze as analyze_structure

__version__ = "0.1.0"

__all__ = [
    "AttentionLayer", "Block", "COST_MODEL", "CircuitBuilder", "Recurrence", "SpecError", "Stack", "TokenMap",
    "analyze_structure", "classify_growth", "compile_circuit", "compile_stack", "construction_for",
    "default_precision", "evaluate", "export", "input_symbols", "measure", "reference", "symbol_array", "zoo",
]
