"""Bit-level threshold circuits: the gadgets behind the cost model, built and verified.

  circuit.py      ThresholdCircuit (gates THR(w, theta) over bits), evaluate, measure
  fixed_point.py  the p-bit fixed-point format and the exact meaning of every op on words
  gadgets.py      one constant-depth threshold gadget per arithmetic op
  lower.py        lower a compiled arithmetic circuit; word-level reference; verification
"""
from tc0lab.threshold.circuit import ThresholdCircuit, Word
from tc0lab.threshold.fixed_point import FixedPoint
from tc0lab.threshold.gadgets import gadget_circuit, integer_circuit, lookup_circuit
from tc0lab.threshold.lower import (LoweredCircuit, check_lowering, evaluate_fixed_point,
                                    gadget_level_count, lower_and_measure, lower_circuit)

__all__ = ["ThresholdCircuit", "Word", "FixedPoint", "gadget_circuit", "integer_circuit",
           "lookup_circuit", "LoweredCircuit", "check_lowering", "evaluate_fixed_point",
           "gadget_level_count", "lower_and_measure", "lower_circuit"]
