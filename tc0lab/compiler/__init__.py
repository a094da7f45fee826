"""The compiler: spec stacks to arithmetic circuits (one file per pass or construction)."""
from tc0lab.compiler.compiling import CONSTRUCTIONS, CompiledCircuit, compile_circuit, compile_stack, construction_for

__all__ = ["CONSTRUCTIONS", "CompiledCircuit", "compile_circuit", "compile_stack", "construction_for"]
