"""Claim: S5 and A5 are not solvable; A4xZ5 and Z60 are (the Illusion paper's three groups)."""
from __future__ import annotations

from tc0lab.groups import classify_word_problem, parse_group

STATEMENT = "S5 and A5 are not solvable (NC1-complete word problems); A4xZ5 and Z60 are solvable (in TC0)."
CITATION = "Barrington 1989; Barrington & Therien 1988; Illusion of State Sec. 6"
SKETCH = "The derived series of A5 stops at A5 (it is perfect); those of A4xZ5 and Z60 reach the trivial group."

EXPECTED = {"S5": False, "A5": False, "A4xZ5": True, "Z60": True}


def check(expected: dict | None = None) -> dict:
    expected = EXPECTED if expected is None else expected
    found = {}
    for name in expected:
        group_class = classify_word_problem(parse_group(name))
        found[name] = {"solvable": group_class.solvable, "derived_series": group_class.derived_series}
    holds = all(found[name]["solvable"] == solvable for name, solvable in expected.items())
    return {"holds": holds, "groups": found}
