"""Claim: one RNN-SSM layer (h = tanh(A h + B x)) solves the S5 word problem (Thm 5.1, constructed)."""
from __future__ import annotations

from tc0lab.check.verdict import construct_witness
from tc0lab.proofs.ids4_solves_s5 import _summary
from tc0lab.spec import zoo

STATEMENT = ("The zoo's RNN-SSM with the Thm 5.1 construction (75 threshold units: (last token, point, position)) "
             "is right on every S5 word up to length 3 and on 1,000 random words of length 64.")
CITATION = "Illusion of State Thm 5.1"
SKETCH = ("Each unit is the AND of 'the previous permutation maps p to g^-1(j)' and 'the token is g', one "
          "threshold; tanh(40 z) saturates to +-1 exactly in float64, so the state stays exact.")


def check() -> dict:
    witness, failure = construct_witness(zoo.core("rnn", 3, 75))
    if witness is None:
        return {"holds": False, "failure": failure}
    return {"holds": witness.verified and witness.group == "S5", **_summary(witness)}
