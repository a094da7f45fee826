"""What theory predicts for the probe: one row per (model, group).

    TC0 model, non-solvable group            -> "depth grows with n" (unless TC0 = NC1)
    model with a verified one-layer witness  -> "1 layer suffices" (when one token per
                                                element fits one transition, see below)
    TC0 model, solvable group                -> "no prediction" (constant depth is possible
                                                in principle; learnability is not predicted)

The probe feeds one token per group element. A linear layer's verified witness reads an
element as a word of generator tokens, so "1 layer suffices" additionally needs a single
transition to move as much as an element does: rank(P_g - I) <= the generic rank of
A(x) - I, or that rank is full (it then grows with the state size, as for IDS4). DeltaNet's
I - beta k k^T has rank 1 at every width: transpositions only. A diagonal layer that
reaches eigenvalue -1 solves parity (Z2) in one layer (Grazzi et al. 2025).

The probe's models and the zoo architecture whose verdict each one takes are read from the
probe's recipe table (`tc0lab.probe.recipes.MODELS`, torch-free), so every probe model has a
prediction. `lstm` and `gru` have no spec in the zoo; their verdict is cited, not checked: a GRU with saturated gates (z = r = 1) is the tanh RNN-SSM whose witness
tc0lab does verify, and saturated LSTMs/GRUs simulate finite automata (Merrill 2019).

Each prediction also names a growth class of the minimum depth against n, in the vocabulary
of the compiler's circuit-depth classifier (`tc0lab.circuit.measure.classify_growth`), so one
table can put circuit, theory and trained models side by side:

    "1 layer suffices"    -> "constant"
    "depth grows with n"  -> "logarithmic": not constant (the lower bound above), and
                             O(log n) layers suffice for any finite group by composing
                             prefix products in a balanced tree (Liu et al., Transformers Learn
                             Shortcuts to Automata, ICLR 2023, Thm. 1); that is an upper bound
    "no prediction"       -> "—"

Finite-n experiments show consistency with these predictions, not proof.
"""
from __future__ import annotations

import numpy as np

from tc0lab.check import citations
from tc0lab.check.verdict import check_cached
from tc0lab.groups import classify_word_problem, parse_group
from tc0lab.probe.recipes import MODEL_NAMES, MODELS
from tc0lab.spec.zoo import ARCHS

PROBE_MODELS = MODEL_NAMES
CITED_MODELS = {name for name, recipe in MODELS.items() if not recipe.checker_arch}

DEPTH_GROWS, ONE_LAYER, NONE = "depth grows with n", "1 layer suffices", "no prediction"
PREDICTED_GROWTH = {ONE_LAYER: "constant", DEPTH_GROWS: "logarithmic", NONE: "—"}


def _cited_verdict(model: str) -> dict:
    return {"verdict": "NC1-hard", "rule": "saturated gated recurrence (cited, not checked)",
            "citation": f"{citations.SATURATED_RNN}; {citations.NONLINEAR}", "structure": "nonlinear",
            "negative_eigenvalues": None, "witness": None, "transition_rank": None, "nonlinear": True}


def model_verdict(model: str) -> dict:
    """The checker's verdict dictionary for a probe model name (or a zoo architecture)."""
    key = model.lower()
    if key in CITED_MODELS:
        return _cited_verdict(key)
    key = MODELS[key].checker_arch if key in MODELS else key
    if key not in ARCHS:
        raise ValueError(f"unknown model {model!r}; known: {', '.join(sorted(set(ARCHS) | CITED_MODELS))}")
    return check_cached(key)


def _largest_move(group) -> int:
    """max over elements g of rank(P_g - I) in the group's permutation representation."""
    identity = np.arange(group.degree)
    return max(int(np.sum(form != identity)) - _cycle_count_moved(form) for form in group.array_forms)


def _cycle_count_moved(form: np.ndarray) -> int:
    seen, cycles = set(), 0
    for start in range(len(form)):
        if start in seen or form[start] == start:
            continue
        cycles += 1
        point = start
        while point not in seen:
            seen.add(point)
            point = int(form[point])
    return cycles


def predict(model: str, group: str) -> dict:
    """{'prediction', 'reason', 'verdict', 'group_class'} for the probe's (model, group)."""
    finite_group = parse_group(group)
    kind = classify_word_problem(finite_group).kind
    verdict = model_verdict(model)
    prediction, reason = _decide(verdict, finite_group, kind)
    return {"model": model, "group": finite_group.name, "group_class": kind, "prediction": prediction,
            "growth": PREDICTED_GROWTH[prediction], "reason": reason, "verdict": verdict["verdict"],
            "rule": verdict["rule"]}


def _decide(verdict: dict, group, kind: str) -> tuple[str, str]:
    if verdict["verdict"] == "TC0":
        if kind == "non-solvable":
            return DEPTH_GROWS, (f"a TC0 layer ({verdict['rule']}) stacked a constant number of times stays in TC0, "
                                 f"while the {group.name} word problem is NC1-complete (Barrington 1989); "
                                 "so the minimum depth must grow with n unless TC0 = NC1")
        if group.order == 2 and verdict.get("negative_eigenvalues"):
            return ONE_LAYER, ("a diagonal transition reaching a negative eigenvalue flips the sign: parity in one "
                               f"layer ({citations.EIGENVALUES})")
        return NONE, (f"TC0 layer and a {kind} group (word problem in ACC0, so in TC0): constant depth is possible "
                      "in principle; learnability is not predicted")
    if verdict["verdict"] == "NC1-hard":
        if verdict.get("nonlinear"):
            return ONE_LAYER, ("a nonlinear recurrence recognises every regular language in one layer, one token per "
                               f"element included ({verdict['citation']})")
        needed, available = _largest_move(group), verdict.get("transition_rank") or 0
        words = (verdict.get("witness") or {}).get("verification", {}).get("tokens_per_element_max")
        if available >= needed or available == verdict.get("block_size"):
            return ONE_LAYER, (f"verified one-layer witness ({(verdict.get('witness') or {}).get('group')}); the "
                               f"transition's updates have full rank ({available} of {verdict.get('block_size')}, growing "
                               "with the state), so one token per element fits one transition (Illusion Thm 5.2 uses "
                               "one-hot tokens per element)")
        return NONE, (f"NC1-hard: the verified witness reads each element as a word of up to {words} tokens; but one "
                      f"transition moves rank <= {available} while elements of {group.name} need rank {needed}, so "
                      "one token per element cannot be one transition and one layer is not predicted")
    return NONE, "the checker's verdict is open"


def prediction_table(models: tuple[str, ...] = PROBE_MODELS,
                     groups: tuple[str, ...] = ("S5", "A5", "A4xZ5", "Z60")) -> list[dict]:
    """predict() for every (model, group) pair, models outermost."""
    return [predict(model, group) for model in models for group in groups]
