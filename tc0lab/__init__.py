"""tc0lab: the circuit complexity of sequence models, compiled, checked and probed.

The public API for notebooks (importing tc0lab never imports torch):

    import tc0lab
    compiled = tc0lab.compile_stack("mamba", layers=4, n=64)      # an nx.DiGraph inside
    compiled.measure()                                            # depth, gates, threshold cost
    tc0lab.measure(compiled.graph, precision_bits=12)             # the same, from the nx.DiGraph
    compiled.evaluate(x)                                           # == tc0lab.reference.run_stack(...)
    b = tc0lab.CircuitBuilder(); ...                               # assemble a custom circuit
    tc0lab.compile_stack(my_recurrence, layers=2, n=32)            # a user-written spec
    tc0lab.check_recurrence(my_recurrence)                         # TC0 / NC1-hard (with witness) / open
    tc0lab.predict("mamba", "A5")                                  # what theory predicts for the probe

See README.md ("How it works") for the stages and the files that implement them.
"""
__version__ = "0.1.0"

# Every public name loads on first use (PEP 562): `import tc0lab` stays light, and a command
# that needs only the checker (or only the CLI's --help) never imports networkx or the compiler.
_LAZY = {
    "CircuitBuilder": "tc0lab.circuit.build", "COST_MODEL": "tc0lab.circuit.cost", "evaluate": "tc0lab.circuit.evaluate",
    "export": "tc0lab.circuit.export", "classify_growth": "tc0lab.circuit.measure",
    "default_precision": "tc0lab.circuit.measure", "measure": "tc0lab.circuit.measure",
    "compile_circuit": "tc0lab.compiler", "compile_stack": "tc0lab.compiler", "construction_for": "tc0lab.compiler",
    "AttentionLayer": "tc0lab.spec.recurrence", "Block": "tc0lab.spec.recurrence",
    "Recurrence": "tc0lab.spec.recurrence", "SpecError": "tc0lab.spec.recurrence", "Stack": "tc0lab.spec.recurrence",
    "TokenMap": "tc0lab.spec.recurrence", "input_symbols": "tc0lab.spec.recurrence",
    "symbol_array": "tc0lab.spec.recurrence",
    "check_recurrence": "tc0lab.check", "check_arch": "tc0lab.check", "check_stack": "tc0lab.check",
    "find_witness": "tc0lab.check", "predict": "tc0lab.check", "prediction_table": "tc0lab.check",
    "latex_table": "tc0lab.check", "Verdict": "tc0lab.check", "Witness": "tc0lab.check",
    "run_proofs": "tc0lab.proofs", "parse_group": "tc0lab.groups", "classify_word_problem": "tc0lab.groups",
    "parse_monoid": "tc0lab.monoids", "classify_monoid": "tc0lab.monoids",
}
_RENAMED = {"analyze_structure": ("tc0lab.spec.structure", "analyze")}
_MODULES = {"reference": "tc0lab.spec.reference", "zoo": "tc0lab.spec.zoo"}


def __getattr__(name: str):
    import importlib
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _MODULES:
        return importlib.import_module(_MODULES[name])
    if name in _RENAMED:
        module_name, attribute = _RENAMED[name]
        return getattr(importlib.import_module(module_name), attribute)
    raise AttributeError(f"module 'tc0lab' has no attribute {name!r}")



__all__ = sorted([*_LAZY, *_RENAMED, *_MODULES])
