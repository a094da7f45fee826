"""The symbolic checker: TC0 / NC1-hard / open verdicts from a layer's matrices, with witnesses.

Stages (one module each):
  (structure of A(x) comes from tc0lab.spec.structure, shared with the compiler)
  eigen.py      can a diagonal/commuting transition reach a negative eigenvalue?
  search.py     non-commuting layers: parameters and inputs whose transitions are permutations
  construct.py  nonlinear layers: the Thm 5.1 machine for S5
  verify.py     run a witness on every short word and on random long words
  verdict.py    the rules, in order, with citations; `check_recurrence`, `check_arch`
  stack.py      L-layer verdicts with the compiled threshold depth; the LaTeX table
  predict.py    what theory predicts for the probe, per (model, group)
"""
from tc0lab.check.predict import predict, prediction_table
from tc0lab.check.stack import check_stack, latex_table
from tc0lab.check.verdict import Verdict, Witness, check_arch, check_recurrence, find_witness

__all__ = ["Verdict", "Witness", "check_arch", "check_recurrence", "check_stack", "find_witness",
           "latex_table", "predict", "prediction_table"]
