"""Verdicts: TC0, NC1-hard or open, each with its rule, citation and the evidence behind it.

Rules, in order (Illusion of State = Merrill, Petty & Sabharwal 2024):

    softmax attention                         -> TC0       Merrill & Sabharwal 2023
    nonlinear update, A = 0 (memoryless)      -> TC0       a position-wise map
    nonlinear update, Thm 5.1 realised        -> NC1-hard  Thm 5.1: the S5 machine built in the
                                                           spec's own parameters, verified
    nonlinear update, not realised            -> open      (Thm 5.1 is about a dense update with
                                                           free parameters; the unmet part is named)
    state update reading no state (U(x) only) -> TC0       a position-wise map (StateRecurrence)
    state update, Thm 5.1 realised by
      saturating its gates                    -> NC1-hard  Thm 5.1 in the update's own parameters
                                                           (gated_construct.py), verified
    state update, not realised                -> open      (the unmet step named: no reduction to a
                                                           saturating RNN, or the dense-update hypothesis)
    A fixed / diagonal / triangular /
      commuting and diagonalisable            -> TC0       Thm 4.2 / 4.4 / back-substitution / 4.6
    commuting, not diagonalisable             -> TC0       cited: simultaneous triangularisation
                                                           (hypothesis: commutation proven by sympy)
    non-commuting, verified witness           -> NC1-hard  Barrington 1989; Thm 5.2
    anything else                             -> open

Every TC0 verdict of tc0lab's own is CONSTRUCTED: the compiler builds the layer at two
lengths with a construction whose threshold depth is constant in n, the depths are measured
equal, and the circuit's outputs equal the numpy reference at the shorter length. If any of
that fails, the verdict is not TC0 on tc0lab's authority. Every NC1-hard verdict carries a
witness verified by running the layer and decoding its outputs (verify.py). Nothing here
reads a layer's name: `check_arch` only builds the zoo's matrices and hands them over.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy

from tc0lab.check import cache, citations
from tc0lab.check.construct import S5_GENERATORS, construct, requirement
from tc0lab.check.eigen import eigenvalue_answers
from tc0lab.check.matrix_groups import Action, cycles, group_name
from tc0lab.check.search import SearchLog, find_candidates, generic_rank
from tc0lab.check.verify import Machine, Verification, verify_machine
from tc0lab.spec import zoo
from tc0lab.spec.numeric import coordinate_blocks, numpy_function, parameter_symbols
from tc0lab.spec.functions import SMOOTHING_GAIN, smoothed, step
from tc0lab.spec.mixers import Mixer
from tc0lab.spec.recurrence import AttentionLayer, Recurrence, SpecError
from tc0lab.spec.state_recurrence import StateRecurrence
from tc0lab.spec.structure import Structure, analyze

Family = Callable[[int, int], Mixer]  # (d_model, d_state) -> mixer with the same structure

DEPTH_LENGTHS = (8, 32)  # a TC0 construction's threshold depth is measured at both, and must agree
CIRCUIT_TOLERANCE = 1e-9  # the compiled circuit against the reference, relative
MAX_COMPILED_STATE = 256  # larger layers are not compiled by the checker (said in the notes)


@dataclass
class Witness:
    """Concrete parameters and inputs under which the layer's outputs track a non-solvable group."""

    group: str
    group_order: int
    solvable: bool
    generators: list[str]  # each token's permutation, in cycle notation on the action's points
    action_on: str  # the points those permutations act on
    maps: list[list[int]]  # the same permutations as array forms (image of each point)
    inputs: list[list[float]]  # the input vector of each generator token
    start_inputs: list[list[float]]  # tokens read once before any word
    coordinates: list[int]
    d_model: int
    d_state: int
    method: str
    transition_deviation: float  # max |A(x_j) - T_j| (or the construction's residual)
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
class Construction:
    """The compiled circuit behind a TC0 verdict: what was built, and what was measured on it."""

    name: str  # the compiler's construction for the layer
    threshold_depths: dict[int, int]  # n -> measured threshold depth
    constant_depth: bool  # a constant-depth construction, and the depths agree
    max_relative_error: float  # circuit outputs against spec.reference at the shortest n

    def to_dict(self) -> dict:
        return {"name": self.name, "threshold_depths": {str(n): d for n, d in self.threshold_depths.items()},
                "constant_depth": self.constant_depth, "max_relative_error": self.max_relative_error}


@dataclass
class Verdict:
    layer: str
    verdict: str  # 'TC0' | 'NC1-hard' | 'open'
    rule: str
    citation: str
    structure: str  # fixed | diagonal | triangular | commuting | general | attention
    nonlinear: bool
    evidence: str
    negative_eigenvalues: bool | None
    eigenvalue_evidence: str
    non_real_eigenvalues: bool | None = None
    non_real_evidence: str = "not applicable"
    unit_interval: bool | None = None  # every eigenvalue of every transition in [0, 1] (True by proof only)
    unit_interval_evidence: str = "not applicable"
    status: str = "undecided"  # constructed | cited | witnessed | undecided
    construction: Construction | None = None
    witness: Witness | None = None
    transition_rank: int | None = None  # generic rank of A(x) - I on the largest block
    block_size: int | None = None  # size of that block (rank == size: full-rank updates)
    searched: list[str] = field(default_factory=list)  # what the witness search did
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k not in ("witness", "construction")}
        data["witness"] = self.witness.to_dict() if self.witness is not None else None
        data["construction"] = self.construction.to_dict() if self.construction is not None else None
        return data


PREVIOUS_TOKEN_AGREEMENT = 1e-13  # relative: x_{t-1} must change no matrix at the witness's tokens


def previous_token_failure(mixer: Recurrence, machine: Machine) -> str | None:
    """Why a witness found for `mixer.stationary()` is not one for the token-shifted layer (None: it is).

    It is when, at the solved parameters, every step's A, C, D and write term B x_t + B' x_{t-1}
    are the same for every previous token the witness can put before it (x_0 = 0, any witness
    token, any start token) as on a repeated token: the shifted layer then runs the very same
    machine on the witness's words.
    """
    letters = np.concatenate([machine.tokens, machine.start]).reshape(-1, mixer.d_in)
    wide, fixed = mixer.widened(), mixer.stationary()

    def step(rec: Recurrence):
        symbols = rec.inputs + parameter_symbols(rec)
        D = rec.D[:, :mixer.d_in]  # the widened D's x_{t-1} columns are zero
        exprs = tuple(rec.A) + tuple(rec.B * sympy.Matrix(rec.inputs)) + tuple(rec.C) + tuple(D)
        function = numpy_function(symbols, exprs)
        values = [machine.values[s] for s in parameter_symbols(rec)]
        return lambda token: np.asarray(function(*token, *values), dtype=complex).reshape(-1)

    shifted, repeated = step(wide), step(fixed)
    worst = 0.0
    for current in letters:
        target = repeated(current)
        for previous in np.concatenate([np.zeros((1, mixer.d_in)), letters]):
            difference = np.max(np.abs(shifted(np.concatenate([current, previous])) - target))
            worst = max(worst, float(difference / max(1.0, float(np.max(np.abs(target))))))
    if worst <= PREVIOUS_TOKEN_AGREEMENT:
        return None
    return (f"at the solved parameters the previous token changes a step's matrices by {worst:.3g} (relative), "
            f"over the limit {PREVIOUS_TOKEN_AGREEMENT:g}")


def smoothed_twin(rec: Recurrence) -> Recurrence:
    """`rec` with every step gate replaced by a steep sigmoid (itself when it has none): the
    solver needs derivatives, which a step does not have; the verifier runs `rec`."""
    matrices = {"A": rec.A, "B": rec.B, "C": rec.C, "D": rec.D}
    if not any(m.has(step) for m in matrices.values()):
        return rec
    return dataclasses.replace(rec, **{name: m.applyfunc(smoothed) for name, m in matrices.items()})


def _witness(rec: Recurrence, machine: Machine, action: Action, method: str, deviation: float,
             check: Verification) -> Witness:
    name, order, solvable = group_name(action)
    verification = {k: v for k, v in check.__dict__.items() if k != "extra"} | check.extra
    return Witness(name, order, solvable, [cycles(m) for m in action.maps], action.on,
                   [list(map(int, m)) for m in action.maps], machine.tokens.tolist(),
                   machine.start.tolist(), list(machine.coordinates), rec.d_in, rec.state_size, method,
                   float(deviation), check.verified, verification, machine)


def find_witness(rec: Recurrence, seed: int = 0, **verify_options) -> tuple[Witness | None, list[str]]:
    """Search and verify a non-solvable witness for a linear layer; (witness, what was searched)."""
    log = SearchLog()
    searched = smoothed_twin(rec)
    if searched is not rec:
        log.add(f"hard selection: the solver works on a smoothed twin (step(z) -> sigmoid({SMOOTHING_GAIN:g} z)); "
                "every candidate is verified on the layer itself")
    for candidate, machine in find_candidates(searched, log, seed):
        machine = dataclasses.replace(machine, rec=rec)
        check = verify_machine(machine, candidate.maps, seed=seed, **verify_options)
        if check.verified:
            log.add(f"verified: {candidate.method}")
            return _witness(rec, machine, candidate.action, candidate.method, candidate.max_deviation, check), log.lines
        start = "h0" if not len(machine.start) else f"start token {np.flatnonzero(machine.start[0]).tolist()}"
        log.add(f"a candidate ({candidate.method}; {start}) failed verification: {check.failure}")
    return None, log.lines


def construct_witness(rec: Recurrence, family: Family | None = None, seed: int = 0,
                      **verify_options) -> tuple[Witness | None, str]:
    """The Thm 5.1 machine for S5, at the spec's width or (with a family) the width it needs."""
    need = requirement()
    if rec.d_in < need.d_in or rec.state_size < need.state_size:
        if family is None:
            return None, (f"the construction needs d_model >= {need.d_in} and state size >= "
                          f"{need.state_size}; this spec has {rec.d_in} and {rec.state_size}")
        rec = family(max(rec.d_in, need.d_in), max(rec.state_size, need.state_size))
    failure = ("the spec's parameters cannot realise the construction (A(x) and B(x) x cannot be solved to "
               "the one-hot threshold machine)")
    for gain in (40.0, 2.0):
        built = construct(rec, gain=gain, seed=seed)
        if built is None:
            continue
        machine, residual = built
        check = verify_machine(machine, list(S5_GENERATORS), seed=seed, **verify_options)
        if check.verified:
            method = f"Thm 5.1 construction (gain K = {gain:g}): one-hot (state, last token) threshold units"
            action = Action(list(S5_GENERATORS), "coordinates")
            return _witness(rec, machine, action, method, residual, check), ""
        failure = f"the construction (K = {gain:g}) was solved but failed verification: {check.failure}"
    return None, failure


def build_construction(mixer: Mixer, seed: int = 0, lengths: tuple[int, ...] = DEPTH_LENGTHS) -> Construction:
    """Compile the layer (random parameter values) at each length, measure, and evaluate at the first."""
    from tc0lab.compiler.compiling import CONSTANT_DEPTH_CONSTRUCTIONS, compile_stack  # heavy: only for TC0
    from tc0lab.spec.reference import run_stack
    stack = zoo.custom_stack(mixer, layers=1, seed=seed)
    depths, names = {}, set()
    for n in lengths:
        compiled = compile_stack(stack, n=n)
        depths[n] = compiled.measure().depth_threshold
        names.update(compiled.constructions)
        if n == lengths[0]:
            x = np.random.default_rng(seed).normal(size=(n, mixer.d_in))
            expected = run_stack(stack, x)
            error = float(np.max(np.abs(compiled.evaluate(x) - expected)) / max(1.0, float(np.max(np.abs(expected)))))
    name = "+".join(sorted(names))
    constant = names <= set(CONSTANT_DEPTH_CONSTRUCTIONS) and len(set(depths.values())) == 1
    return Construction(name, depths, constant, error)


def _attach_construction(verdict: Verdict, mixer: Mixer, seed: int) -> bool:
    """Build the circuit behind a TC0 rule; True when it is flat and equals the reference."""
    size = mixer.d_out if isinstance(mixer, AttentionLayer) else mixer.state_size
    if size > MAX_COMPILED_STATE:
        verdict.notes.append(f"not compiled: the state has {size} coordinates (limit {MAX_COMPILED_STATE})")
        return False
    try:
        verdict.construction = built = build_construction(mixer, seed)
    except (SpecError, ValueError, ArithmeticError, TypeError, np.linalg.LinAlgError) as error:
        verdict.notes.append(f"the compiler could not build the layer: {type(error).__name__}: {error}")
        return False
    shown = ", ".join(f"{d} at n = {n}" for n, d in built.threshold_depths.items())
    if not built.constant_depth:
        verdict.notes.append(f"the compiler's construction ({built.name}) is not constant-depth here: "
                             f"threshold depth {shown}")
        return False
    if not built.max_relative_error <= CIRCUIT_TOLERANCE:
        verdict.notes.append(f"the compiled circuit ({built.name}) differs from the reference by "
                             f"{built.max_relative_error:.3g} (relative): not used as evidence")
        return False
    verdict.status = "constructed"
    verdict.notes.append(f"constructed: {built.name}, threshold depth {shown} (measured), outputs equal the "
                         f"reference to {built.max_relative_error:.1e} at n = {min(built.threshold_depths)} "
                         f"(one layer in a block, random parameter values, seed {seed})")
    return True


def _verdict_for(mixer: Recurrence, structure: Structure, seed: int) -> Verdict:
    answers = eigenvalue_answers(mixer, seed)
    return Verdict(mixer.name, "open", "", "", structure.kind, structure.nonlinear, structure.commutator_proof,
                   answers.negative, answers.negative_evidence, answers.non_real, answers.non_real_evidence,
                   answers.unit_interval, answers.unit_interval_evidence)


def _witnessed(verdict: Verdict, witness: Witness, rule: str, citation: str) -> Verdict:
    """NC1-hard, backed by a witness verified through the layer's output."""
    verdict.verdict, verdict.rule, verdict.citation = "NC1-hard", rule, citation
    verdict.witness, verdict.status = witness, "witnessed"
    return verdict


def _attention_verdict(layer: AttentionLayer, seed: int) -> Verdict:
    verdict = Verdict(layer.name, "open", "softmax attention", citations.ATTENTION, "attention", False,
                      "an attention layer (its own spec kind)", None, "not applicable: no recurrence", None,
                      "not applicable: no recurrence")
    if _attach_construction(verdict, layer, seed):
        verdict.verdict = "TC0"
    else:
        verdict.citation = "none: the Merrill-Sabharwal construction was not built for this layer"
    return verdict


def _memoryless(verdict: Verdict, mixer: Mixer, seed: int, rule: str) -> Verdict:
    """A layer that reads no earlier state: TC0 when its position-wise circuit is built and checked."""
    verdict.rule, verdict.citation = rule, citations.MEMORYLESS
    if _attach_construction(verdict, mixer, seed):
        verdict.verdict = "TC0"
    return verdict


def _thm51_not_realised(verdict: Verdict, kind: str, attempt: str, failure: str) -> Verdict:
    """Open: the update is nonlinear, and Thm 5.1's machine was not realised in the layer's own parameters."""
    verdict.rule = f"{kind}, Thm 5.1 not realised"
    verdict.citation = "none: Thm 5.1 (Illusion of State) needs a saturating dense update with free parameters"
    verdict.searched.append(f"Thm 5.1 by {attempt}: {failure}")
    verdict.notes.append(f"open: the update reads h_(t-1) nonlinearly, but Thm 5.1's machine could not be realised in "
                         f"this layer's own parameters ({failure}); the theorem says nothing about this layer, and no "
                         "constant-depth construction is known to tc0lab for it")
    return verdict


def _nonlinear_verdict(verdict: Verdict, mixer: Recurrence, family: Family | None, seed: int,
                       **verify_options) -> Verdict:
    if all(entry == 0 for entry in mixer.A):
        return _memoryless(verdict, mixer, seed, "nonlinear update that reads no earlier state (A = 0)")
    witness, failure = construct_witness(mixer, family, seed, **verify_options)
    if witness is not None:
        return _witnessed(verdict, witness, "update wrapped in a nonlinearity", citations.NONLINEAR)
    return _thm51_not_realised(verdict, "nonlinear update", "the construction", failure)


GATED_RANDOM_WORDS = 200  # random words of length 64 for a general update's witness (each step costs more)


def _gated_witness(mixer: StateRecurrence, family: Family | None, seed: int,
                   **verify_options) -> tuple[Witness | None, str]:
    """Thm 5.1 realised in a general update by saturating its gates (at the spec's width, else the family's)."""
    from tc0lab.check.gated_construct import FAMILY_SIZES, construct_gated
    built = construct_gated(mixer, seed=seed)
    for size in FAMILY_SIZES if family is not None else ():
        if built.machine is not None or not built.widen:
            break
        wider = family(max(mixer.d_in, requirement().d_in), size)
        if wider.state_size > mixer.state_size:
            built = construct_gated(wider, seed=seed)
    if built.machine is None:
        return None, built.description
    options = {"random_words": GATED_RANDOM_WORDS} | verify_options
    check = verify_machine(built.machine, list(S5_GENERATORS), seed=seed, **options)
    if not check.verified:
        return None, f"{built.description}; solved, but failed verification: {check.failure}"
    action = Action(list(S5_GENERATORS), "coordinates")
    return _witness(built.machine.rec, built.machine, action, built.description, built.residual, check), ""


def _state_verdict(mixer: StateRecurrence, family: Family | None, seed: int, **verify_options) -> Verdict:
    """A general update h_t = U(h_{t-1}, x_t): memoryless -> TC0; Thm 5.1 by saturated gates -> NC1-hard; else open."""
    jacobian = mixer.jacobian_summary()
    not_applicable = f"not applicable: nonlinear state update, no transition matrix ({jacobian})"
    verdict = Verdict(mixer.name, "open", "", "", "state-update", True, jacobian, None, not_applicable, None,
                      not_applicable)
    if not mixer.reads_state():
        return _memoryless(verdict, mixer, seed, "state update that reads no earlier state")
    witness, failure = _gated_witness(mixer, family, seed, **verify_options)
    if witness is not None:
        return _witnessed(verdict, witness, "state update whose saturated gates realise Thm 5.1", citations.NONLINEAR)
    if all(reads <= {r} for r, reads in enumerate(mixer.jacobian_pattern())):
        failure = (f"{failure}; the Jacobian dh_t/dh_(t-1) is structurally diagonal (no coordinate reads another), "
                   "and Thm 5.1's machine moves one coordinate's value into another: it needs a dense update")
    return _thm51_not_realised(verdict, "state update", "saturating gates", failure)


_TC0_RULES = {
    "fixed": ("A independent of the input", citations.FIXED),
    "diagonal": ("A(x) diagonal", citations.DIAGONAL),
    "triangular": ("A(x) triangular after a permutation of the coordinates", citations.TRIANGULAR),
    "commuting": ("A(x) pairwise commuting, diagonalised in one constant basis", citations.COMMUTING),
}


def _commuting_without_construction(verdict: Verdict, structure: Structure) -> Verdict:
    verdict.verdict, verdict.status = "TC0", "cited"
    verdict.rule, verdict.citation = "A(x) pairwise commuting (simultaneously triangularisable)", \
        citations.SIMULTANEOUS_TRIANGULAR
    verdict.notes.append("cited, not constructed: the hypothesis (pairwise commutation) is proven by sympy, but "
                         "the compiler found no constant diagonalising basis (A(x0) has repeated or too-close "
                         "eigenvalues), so tc0lab did not build the constant-depth circuit")
    return verdict


def _commuting_up_to_rounding(verdict: Verdict, mixer: Recurrence, seed: int) -> Verdict:
    """A family that commutes only up to its float constants' rounding: open, with what was built."""
    verdict.rule = "A(x) commuting only up to the rounding of its float constants"
    verdict.citation = "none: tc0lab cannot tell rounded constants from a family that truly does not commute"
    built = _attach_construction(verdict, mixer, seed)
    if built:
        verdict.status = "undecided"
        verdict.notes[-1] = verdict.notes[-1].replace("constructed:", "built (evidence, not a verdict):", 1)
    verdict.notes.append("open: the commutator's coefficients are rounding-sized but not zero; a tiny genuine "
                         "non-commuting part looks the same and can make the family NC1-hard at other parameter "
                         "values. Write the constants exactly (sympy Rational, or W.inv() of an exact W) to decide.")
    return verdict


def _linear_verdict(verdict: Verdict, mixer: Recurrence, structure: Structure, seed: int, **verify_options) -> Verdict:
    if structure.kind == "commuting" and structure.up_to_rounding:
        return _commuting_up_to_rounding(verdict, mixer, seed)
    if structure.kind in _TC0_RULES:
        verdict.rule, verdict.citation = _TC0_RULES[structure.kind]
        if _attach_construction(verdict, mixer, seed):
            verdict.verdict = "TC0"
            return verdict
        if structure.kind == "commuting":
            return _commuting_without_construction(verdict, structure)
        verdict.rule, verdict.citation = f"{verdict.rule}, not constructed", "none"
        verdict.notes.append("open: the structure has a TC0 rule, but its circuit was not built (above)")
        return verdict
    witness, verdict.searched = find_witness(mixer.stationary(), seed, **verify_options)
    if witness is not None and mixer.reads_previous_token:
        failure = previous_token_failure(mixer, witness.machine)
        verdict.searched.append("token shift: the witness of the layer on repeated tokens (x_{t-1} := x_t) "
                                + ("transfers: at its tokens x_{t-1} changes no matrix" if failure is None
                                   else f"does not transfer: {failure}"))
        witness = witness if failure is None else None
    blocks = coordinate_blocks(mixer.A)
    block = tuple(max(blocks, key=len))
    if mixer.state_size <= 64:
        verdict.transition_rank, verdict.block_size = generic_rank(mixer.widened(), block, seed), len(block)
    if witness is not None:
        return _witnessed(verdict, witness, "non-commuting A(x) with a verified non-solvable witness", citations.WITNESS)
    verdict.rule = "non-commuting A(x), no verified witness"
    verdict.citation = "none: the checker could not decide"
    verdict.notes.append("open: the transitions do not commute and no witness was found by the search below; "
                         "this is neither a proof of TC0 nor of NC1-hardness")
    return verdict


def check_recurrence(mixer: Mixer, family: Family | None = None, seed: int = 0, **verify_options) -> Verdict:
    """The verdict for one layer, decided from its matrices (never its name)."""
    if isinstance(mixer, AttentionLayer):
        return _attention_verdict(mixer, seed)
    if isinstance(mixer, StateRecurrence):
        return _state_verdict(mixer, family, seed, **verify_options)
    if not isinstance(mixer, Recurrence):
        raise SpecError(f"expected a Recurrence, StateRecurrence or AttentionLayer, got {type(mixer).__name__}")
    structure = analyze(mixer.widened(), seed)  # a token shift is an input: the pair (x_t, x_{t-1}) is the token
    verdict = _verdict_for(mixer.widened(), structure, seed)
    verdict.layer = mixer.name
    if structure.nonlinear and mixer.reads_previous_token:
        verdict.rule, verdict.citation = "nonlinear update that reads the previous token", "none"
        verdict.notes.append("open: tc0lab has no rule for a nonlinear update with a token shift")
        return verdict
    if structure.nonlinear:
        return _nonlinear_verdict(verdict, mixer, family, seed, **verify_options)
    return _linear_verdict(verdict, mixer, structure, seed, **verify_options)


WITNESS_WIDTH = (5, 5)  # d_model, d_state at which zoo layers are checked by default


def check_arch(name: str, d_model: int = WITNESS_WIDTH[0], d_state: int = WITNESS_WIDTH[1], seed: int = 0,
               **verify_options) -> Verdict:
    """Check a zoo architecture: its matrices at (d_model, d_state), resizable for witnesses."""
    mixer = zoo.core(name, d_model, d_state)
    return check_recurrence(mixer, family=lambda d, N: zoo.core(name, d, N), seed=seed, **verify_options)


def check_cached(name: str, d_model: int = WITNESS_WIDTH[0], d_state: int = WITNESS_WIDTH[1], seed: int = 0,
                 **verify_options) -> dict:
    """`check_arch(...).to_dict()`, through the disk cache (see cache.py) for the zoo's own architectures
    (a temporary `zoo.registered` one is not in the package source the cache is keyed by)."""
    cache_key = cache.zoo_key(name, d_model, d_state, seed=seed, **verify_options)
    document = cache.load(cache_key) if zoo.is_builtin(name) else None
    if document is None:
        document = check_arch(name, d_model, d_state, seed, **verify_options).to_dict()
        document = {**document, "cached": False}
        if zoo.is_builtin(name):
            cache.store(cache_key, {**document, "cached": True})
    document["layer"] = name
    return document
