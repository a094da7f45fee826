"""The compiler: spec stacks to arithmetic circuits (one file per pass or construction)."""
from tc0lab.compiler.compiling import (CONSTANT_DEPTH_CONSTRUCTIONS, CONSTRUCTIONS, CompiledCircuit, ConstructionChoice,
                                      choose_construction, compile_circuit, compile_stack, construction_for)

__all__ = ["CONSTANT_DEPTH_CONSTRUCTIONS", "CONSTRUCTIONS", "CompiledCircuit", "ConstructionChoice", "choose_construction",
           "compile_circuit", "compile_stack", "construction_for"]
