"""Verdicts: TC0, NC1-hard or open, each with its rule, citation and (when needed) a witness.

Rules, in order (Illusion of State = Merrill, Petty & Sabharwal 2024):

    softmax attention                     -> TC0       Merrill & Sabharwal 2023
    update wrapped in a nonlinearity      -> NC1-hard  Thm 5.1, backed by the constructed,
                                                       verified S5 machine (construct.py)
    A fixed / diagonal / commuting        -> TC0       Thm 4.2 / 4.4 / 4.6
    non-commuting, verified witness       -> NC1-hard  Barrington 1989; Thm 5.2
    non-commuting, no verified witness    -> open

A witness is verified by running the spec (verify.py). The nonlinear rule holds by the
theorem for the family; at widths too small for the construction, the verdict says that no
witness was run. Nothing here reads a layer's name: `check_arch` only builds the zoo's
matrices and hands them over.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from tc0lab.check import citations
from tc0lab.spec.structure import analyze
from tc0lab.check.construct import S5_GENERATORS, construct, requirement
from tc0lab.check.eigen import negative_eigenvalues
from tc0lab.spec.numeric import coordinate_blocks
from tc0lab.check import cache
from tc0lab.check.search import find_candidates, generic_rank, group_of
from tc0lab.check.verify import Machine, Verification, verify_machine
from tc0lab.spec import zoo
from tc0lab.spec.recurrence import AttentionLayer, Mixer, Recurrence, SpecError

Family = Callable[[int, int], Mixer]  # (d_model, d_state) -> mixer with the same structure


@dataclass
class Witness:
    """Concrete parameters and inputs under which the layer tracks a non-solvable group."""

    group: str
    group_order: int
    solvable: bool
    generators: list[str]  # each token's permutation, in cycle notation on the decoded points
    inputs: list[list[float]]  # the input vector of each generator token
    start_inputs: list[list[float]]  # tokens read once before any word
    coordinates: list[int]
    d_model: int
    d_state: int
    method: str
    transition_deviation: float  # max |A(x_j) - P_j| (or the construction's residual)
    verified: bool
    verification: dict
    machine: Machine | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """JSON-ready: everything but the machine (its parameters can be large)."""
        data = {k: v for k, v in self.__dict__.items() if k != "machine"}
        data.update({"words_exhaustive": self.verification.get("words_exhaustive", 0),
                     "words_random": self.verification.get("words_random", 0)})
        return data


@dataclass
class Verdict:
    layer: str
    verdict: str  # 'TC0' | 'NC1-hard' | 'open'
    rule: str
    citation: str
    structure: str  # fixed | diagonal | commuting | general | attention
    nonlinear: bool
    evidence: str
    negative_eigenvalues: bool | None
    eigenvalue_evidence: str
    witness: Witness | None = None
    transition_rank: int | None = None  # generic rank of A(x) - I on the largest block
    block_size: int | None = None  # size of that block (rank == size: full-rank updates)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "witness"}
        data["witness"] = self.witness.to_dict() if self.witness is not None else None
        return data


def _group_name(maps: list[np.ndarray]) -> tuple[str, int, bool]:
    group = group_of(maps)
    order = int(group.order())
    moved = len({i for m in maps for i in range(len(m)) if m[i] != i})
    if order == math.factorial(moved):
        name = f"S{moved}"
    elif 2 * order == math.factorial(moved):
        name = f"A{moved}"
    else:
        name = f"a group of order {order}"
    return name, order, bool(group.is_solvable)


def _cycles(perm: np.ndarray) -> str:
    from sympy.combinatorics import Permutation
    return str(Permutation(list(map(int, perm))).cyclic_form) if np.any(perm != np.arange(len(perm))) else "()"


def _witness(rec: Recurrence, machine: Machine, maps: list[np.ndarray], method: str, deviation: float,
             check: Verification) -> Witness:
    name, order, solvable = _group_name(maps)
    verification = {k: v for k, v in check.__dict__.items() if k != "extra"} | check.extra
    return Witness(name, order, solvable, [_cycles(m) for m in maps], machine.tokens.tolist(),
                   machine.start.tolist(), list(machine.coordinates), rec.d_in, rec.state_size, method,
                   float(deviation), check.verified, verification, machine)


def find_witness(rec: Recurrence, seed: int = 0, **verify_options) -> tuple[Witness | None, str]:
    """Search and verify a non-solvable witness for a linear non-commuting layer."""
    last_failure = "no transitions that are permutation matrices generating a non-solvable group were found"
    for candidate, machine in find_candidates(rec, seed):
        _, _, solvable = _group_name(candidate.maps)
        if solvable:
            continue
        check = verify_machine(machine, candidate.maps, seed=seed, **verify_options)
        if check.verified:
            return _witness(rec, machine, candidate.maps, candidate.method, candidate.max_deviation, check), ""
        last_failure = f"a candidate ({candidate.method}) failed verification: {check.failure}"
    return None, last_failure


def construct_witness(rec: Recurrence, family: Family | None = None, seed: int = 0,
                      **verify_options) -> tuple[Witness | None, str]:
    """The Thm 5.1 machine for S5, at the spec's width or (with a family) the width it needs."""
    need = requirement()
    if rec.d_in < need.d_in or rec.state_size < need.state_size:
        if family is None:
            return None, (f"the construction needs d_model >= {need.d_in} and state size >= "
                          f"{need.state_size}; this spec has {rec.d_in} and {rec.state_size}")
        rec = family(max(rec.d_in, need.d_in), max(rec.state_size, need.state_size))
    failure = "the spec's parameters cannot realise the construction"
    for gain in (40.0, 2.0):
        built = construct(rec, gain=gain, seed=seed)
        if built is None:
            continue
        machine, residual = built
        check = verify_machine(machine, list(S5_GENERATORS), seed=seed, **verify_options)
        if check.verified:
            method = f"Thm 5.1 construction (gain K = {gain:g}): one-hot (state, last token) threshold units"
            return _witness(rec, machine, list(S5_GENERATORS), method, residual, check), ""
        failure = f"the construction (K = {gain:g}) failed verification: {check.failure}"
    return None, failure


def _attention_verdict(layer: AttentionLayer) -> Verdict:
    return Verdict(layer.name, "TC0", "softmax attention", citations.ATTENTION, "attention", False,
                   "an attention layer (its own spec kind)", None, "not applicable: no recurrence")


_TC0_RULES = {
    "fixed": ("A independent of the input", citations.FIXED),
    "diagonal": ("A(x) diagonal", citations.DIAGONAL),
    "commuting": ("A(x) pairwise commuting", citations.COMMUTING),
}


def check_recurrence(mixer: Mixer, family: Family | None = None, seed: int = 0, **verify_options) -> Verdict:
    """The verdict for one layer, decided from its matrices (never its name)."""
    if isinstance(mixer, AttentionLayer):
        return _attention_verdict(mixer)
    if not isinstance(mixer, Recurrence):
        raise SpecError(f"expected a Recurrence or AttentionLayer, got {type(mixer).__name__}")
    structure = analyze(mixer, seed)
    sign = negative_eigenvalues(mixer, structure.kind, seed)
    verdict = Verdict(mixer.name, "open", "", "", structure.kind, structure.nonlinear, structure.commutator_proof,
                      sign.negative, sign.evidence)
    if structure.nonlinear:
        verdict.negative_eigenvalues, verdict.eigenvalue_evidence = None, "not applicable: the update is nonlinear"
        witness, failure = construct_witness(mixer, family, seed, **verify_options)
        verdict.verdict, verdict.rule, verdict.citation = "NC1-hard", "update wrapped in a nonlinearity", citations.NONLINEAR
        verdict.witness = witness
        if witness is None:
            verdict.notes.append(f"verdict by the theorem alone; no witness was run: {failure}")
        return verdict
    if structure.kind in _TC0_RULES:
        verdict.verdict = "TC0"
        verdict.rule, verdict.citation = _TC0_RULES[structure.kind]
        return verdict
    witness, failure = find_witness(mixer, seed, **verify_options)
    block = tuple(max(coordinate_blocks(mixer.A), key=len))
    verdict.transition_rank, verdict.block_size = generic_rank(mixer, block, seed), len(block)
    if witness is not None:
        verdict.verdict, verdict.rule = "NC1-hard", "non-commuting A(x) with a verified non-solvable witness"
        verdict.citation, verdict.witness = citations.WITNESS, witness
        return verdict
    verdict.rule = "non-commuting A(x), no verified witness"
    verdict.citation = "none: the checker could not decide"
    verdict.notes.append(f"open: the transitions do not commute, and no witness was found ({failure}); "
                         "this is neither a proof of TC0 nor of NC1-hardness")
    return verdict


WITNESS_WIDTH = (5, 5)  # d_model, d_state at which zoo layers are checked by default


def check_arch(name: str, d_model: int = WITNESS_WIDTH[0], d_state: int = WITNESS_WIDTH[1], seed: int = 0,
               **verify_options) -> Verdict:
    """Check a zoo architecture: its matrices at (d_model, d_state), resizable for witnesses."""
    mixer = zoo.core(name, d_model, d_state)
    return check_recurrence(mixer, family=lambda d, N: zoo.core(name, d, N), seed=seed, **verify_options)


def check_cached(name: str, d_model: int = WITNESS_WIDTH[0], d_state: int = WITNESS_WIDTH[1], seed: int = 0,
                 **verify_options) -> dict:
    """`check_arch(...).to_dict()`, through the disk cache (see cache.py)."""
    cache_key = cache.zoo_key(name, d_model, d_state, seed=seed, **verify_options)
    document = cache.load(cache_key)
    if document is None:
        document = check_arch(name, d_model, d_state, seed, **verify_options).to_dict()
        document = {**document, "cached": False}
        cache.store(cache_key, {**document, "cached": True})
    document["layer"] = name
    return document
