"""tc0lab: the circuit complexity of sequence models, compiled, checked and probed.

The public API for notebooks (importing tc0lab never imports torch):

    import tc0lab
    compiled = tc0lab.compile_stack("mamba", layers=4, n=64)      # an nx.DiGraph inside
    tc0lab.measure(compiled.graph, precision_bits=12)             # depth, gates, threshold cost
    compiled.evaluate(x)                                           # == tc0lab.reference.run_stack(...)
    b = tc0lab.CircuitBuilder(); ...                               # assemble a custom circuit
    tc0lab.compile_stack(my_recurrence, layers=2, n=32)            # a user-written spec
    tc0lab.check_recurrence(my_recurrence)                         # TC0 / NC1-hard (with witness) / open
    tc0lab.predict("mamba", "A5")                                  # what theory predicts for the probe

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

# checker, groups and proofs load on first use (PEP 562), keeping `import tc0lab` light
_LAZY = {
    "check_recurrence": "tc0lab.check", "check_arch": "tc0lab.check", "check_stack": "tc0lab.check",
    "find_witness": "tc0lab.check", "predict": "tc0lab.check", "prediction_table": "tc0lab.check",
    "latex_table": "tc0lab.check", "Verdict": "tc0lab.check", "Witness": "tc0lab.check",
    "run_proofs": "tc0lab.proofs", "parse_group": "tc0lab.groups", "classify_word_problem": "tc0lab.groups",
    "parse_monoid": "tc0lab.monoids", "classify_monoid": "tc0lab.monoids",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tc0lab' has no attribute {name!r}")

__all__ = [
    "AttentionLayer", "Block", "COST_MODEL", "CircuitBuilder", "Recurrence", "SpecError", "Stack", "TokenMap",
    "analyze_structure", "classify_growth", "compile_circuit", "compile_stack", "construction_for",
    "default_precision", "evaluate", "export", "input_symbols", "measure", "reference", "symbol_array", "zoo",
    *sorted(_LAZY),
]
