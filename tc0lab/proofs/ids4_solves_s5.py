"""Claim: one IDS4 layer solves the S5 word problem (constructed by the witness search, then run)."""
from __future__ import annotations

from tc0lab.check.verdict import find_witness
from tc0lab.spec import zoo

STATEMENT = ("A one-layer IDS4 (A(x) = A0 + sum_i x_i A_in[i]) with solved parameters tracks S5: it is right on "
             "every word of S5 elements up to length 3 and on 1,000 random words of length 64.")
CITATION = "Illusion of State Thm 5.2; Barrington 1989"
SKETCH = ("Solve A(e_1) = P((0 1)), A(e_2) = P((0 1 2 3 4)) (linear in the parameters); these generate S5. "
          "The spec's own matrices are run on the words and the state is decoded by a codebook.")


def check(d_model: int = 5, d_state: int = 5) -> dict:
    witness, failure = find_witness(zoo.core("ids4", d_model, d_state))
    if witness is None:
        return {"holds": False, "failure": failure}
    return {"holds": witness.verified and witness.group == "S5", **_summary(witness)}


def _summary(witness) -> dict:
    return {"group": witness.group, "verified": witness.verified, "words_exhaustive": witness.verification["words_exhaustive"],
            "words_random": witness.verification["words_random"], "max_deviation": witness.verification["max_deviation"],
            "method": witness.method}
