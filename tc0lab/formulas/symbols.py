"""The symbols every formula is written in (n length, L layers, d d_model, N d_state, p bits), and its error."""
from __future__ import annotations

import sympy

from tc0lab.circuit.cost import p

n = sympy.Symbol("n", positive=True, integer=True)
L = sympy.Symbol("L", positive=True, integer=True)
d, N = sympy.symbols("d N", positive=True, integer=True)



class FormulaUnsupported(ValueError):
    """The structure falls outside what the derivation covers (the message says what)."""


__all__ = ["n", "L", "d", "N", "p", "FormulaUnsupported"]
