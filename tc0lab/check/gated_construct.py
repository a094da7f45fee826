"""Thm 5.1 for a general state update: saturate the gates until the update is a dense RNN, then solve.

Illusion of State Thm 5.1 is about h_t = f(A h_{t-1} + B x_t) with a saturating f and free
A, B (`construct.py` builds its S5 machine: one-hot (state, last token) threshold units). A
`StateRecurrence` such as sLSTM is not of that form, but it can contain it: read the update
as G(h, x, a) with a_k = f_k(P_k), P_k = J_k(x) h + p_k(x) affine in h
(`state_recurrence.affine_parts`), and group the applications into families by function and
by the parameter arrays their pre-activations read (sLSTM: z, i, f, o). Then

1. reduction  one family with a saturating f drives the machine (its applications are the
              units); every other family is frozen at a level f(-K), f(0) or f(K) (its
              pre-activation solved to read no state and to equal -K, 0 or K at every witness
              token). The reduction holds when, with those levels, some state coordinate
              equals a_u for every unit u, whatever the rest of the state (checked on random
              states and units at each witness token). sLSTM: f -> sigmoid(-K) ~ 0,
              i -> exp(0) = 1, o -> sigmoid(K) ~ 1 make h_t = tanh(W_z x + R_z h_{t-1} + b_z).
2. density    (Thm 5.1's dense-update hypothesis) each target row reads units of its own
              connected component (for S5: 5 components of 15 units, one per tracked point);
              every component must fit in a block of units whose pre-activations read each
              other's coordinates, with every needed coefficient structurally present. A
              diagonal Jacobian (each unit reads only itself) never fits.
3. solve      the units' coefficients = A*, their offsets at the tokens = B*, unused units
              read nothing and write 0; `solve.solve_parameters` (bare coefficients assigned).

Nothing here is verified: `verify.verify_machine` runs the layer's own update on the
solved parameters and decodes its output y_t.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import sympy

from tc0lab.check.construct import S5_GENERATORS, requirement, target_matrices
from tc0lab.check.solve import ACCEPTED, Solution, solve_parameters
from tc0lab.check.verify import Machine
from tc0lab.spec.functions import NUMPY
from tc0lab.spec.numeric import by_name, numpy_function
from tc0lab.spec.state_recurrence import AffineParts, StateRecurrence, _blocks, affine_parts, numeric_h0

SATURATING = ("tanh", "sigmoid", "sgn")  # a driver's f must separate -K/2 from K/2 and stay bounded
GAIN = 40.0  # K of the machine's units (construct.py)
GATE_GAIN = 40.0  # |pre-activation| of a frozen gate: sigmoid(-40) ~ 4e-18
LEVELS = {"mid": 0.0, "high": GATE_GAIN, "low": -GATE_GAIN}
MATCH = 1e-9  # a coordinate equals a unit's value when they agree to this (relative) on every sample
FAMILY_SIZES = (30, 75)  # d_state values tried when the spec's own width is too small


@dataclass(frozen=True)
class Reduction:
    driver: tuple  # the family key (function, arrays) of the units
    levels: dict  # family key -> level name, for every other family
    units: tuple[int, ...]  # indices of the driver's applications
    coordinate: dict  # unit -> the state coordinate whose update equals a_unit

    def describe(self) -> str:
        frozen = ", ".join(f"{key[0]}({'/'.join(sorted(key[1])) or 'no parameters'}) -> {level}"
                           for key, level in self.levels.items())
        return (f"units: {len(self.units)} {self.driver[0]} applications reading "
                f"{'/'.join(sorted(self.driver[1]))}; frozen: {frozen or 'none'}")


def families(parts: AffineParts) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = {}
    for k, application in enumerate(parts.applications):
        groups.setdefault((application.function, application.arrays), []).append(k)
    return groups


def find_reduction(mixer: StateRecurrence, tokens: np.ndarray, seed: int = 0) -> tuple[Reduction | None, str]:
    """The first driver family and levels under which the update copies every unit into a coordinate."""
    parts = affine_parts(mixer)
    if not parts.applications:
        return None, "the update has no application f(P) with P affine in the state (no gate or unit to saturate)"
    groups = families(parts)
    rng = np.random.default_rng(seed)
    parameters = sorted(mixer.parameters(), key=by_name)
    values = {s: float(rng.normal()) for s in parameters}
    gated = numpy_function(tuple(mixer.state) + parts.symbols + tuple(mixer.inputs) + tuple(parameters), parts.gated)
    reads = {s for a in parts.applications for s in a.coefficients}
    tried, fallback = 0, None
    for driver in sorted((k for k in groups if k[0] in SATURATING), key=lambda k: -len(groups[k])):
        others = [k for k in groups if k != driver]
        for combo in itertools.product(LEVELS, repeat=len(others)):
            tried += 1
            levels = dict(zip(others, combo))
            coordinate = _copies(gated, mixer, parts, groups, driver, levels, tokens, values, reads, rng)
            if coordinate is None:
                continue
            reduction = Reduction(driver, levels, tuple(groups[driver]), coordinate)
            if set(coordinate.values()) <= reads:  # the units' copies are what the pre-activations read
                return reduction, ""
            fallback = fallback or reduction
    if fallback is not None:
        return fallback, ""
    return None, (f"no reduction to a saturating RNN: {tried} choices of a driving family (saturating f) and levels "
                  "of the other gates, and none makes the update copy every unit into a state coordinate")


STEPS = 8  # steps of the reduced update run from h0 when testing a reduction
TRAJECTORIES = 4


def _copies(gated, mixer, parts, groups, driver, levels, tokens, values, reads, rng) -> dict | None:
    """unit -> a state coordinate that equals a_unit after every step of the reduced update (random units, from h0).

    The reduced update is run, not sampled at arbitrary states: what a coordinate holds depends on
    the states the update reaches (a forget gate at 1/2 next to an input gate at e^40 is not a copy,
    because the cell state grows like e^40 too).
    """
    S, units = mixer.state_size, groups[driver]
    a = np.zeros((TRAJECTORIES, len(parts.applications)))
    for key, level in levels.items():
        a[:, groups[key]] = NUMPY[key[0]](LEVELS[level])
    states = np.tile(numeric_h0(mixer, values), (TRAJECTORIES, 1))
    close = np.ones((S, len(units)), dtype=bool)
    for step in range(STEPS):
        a[:, units] = rng.uniform(-0.9, 0.9, size=(TRAJECTORIES, len(units)))
        token = np.tile(tokens[step % len(tokens)], (TRAJECTORIES, 1))
        rows = np.concatenate([states, a, token], axis=1)
        with np.errstate(all="ignore"):
            outputs = gated(*rows.T, *values.values())
            states = np.stack(np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in outputs], rows[:, 0]),
                              axis=1)[:, :S]
        unit_values = a[:, units]
        close &= np.all(np.abs(states[:, :, None] - unit_values[:, None, :]) <= MATCH * (1 + np.abs(unit_values[:, None, :])),
                        axis=0)
        if not close.any(axis=0).all():
            return None
    coordinate = {}
    for column, unit in enumerate(units):
        candidates = list(np.flatnonzero(close[:, column]))
        read = [r for r in candidates if r in reads]
        coordinate[unit] = int((read or candidates)[0])
    return coordinate if len(set(coordinate.values())) == len(units) else None


def assign(parts: AffineParts, reduction: Reduction, A_target: np.ndarray) -> tuple[list[int] | None, str, int]:
    """Target index -> unit, with every needed coefficient structurally present; (None, why, largest block) if not."""
    size = A_target.shape[0]
    components = _blocks([set(np.flatnonzero(A_target[i])) for i in range(size)])
    position = {reduction.coordinate[u]: u for u in reduction.units}
    unit_reads = [{position[s] for s in parts.applications[u].coefficients if s in position} for u in reduction.units]
    index = {u: i for i, u in enumerate(reduction.units)}
    blocks = sorted(_blocks([{index[v] for v in reads} for reads in unit_reads]), key=len, reverse=True)
    largest = len(blocks[0]) if blocks else 0
    need = max(len(c) for c in components)
    capacity = sum(len(b) // need for b in blocks)
    if capacity < len(components):
        return None, (f"Thm 5.1's dense-update hypothesis is not met: the S5 machine needs {len(components)} groups of "
                      f"{need} units whose pre-activations read each other's state, and the update's units form blocks "
                      f"of at most {largest} (room for {capacity} groups)"), largest
    free = [list(b) for b in blocks]
    unit_of = [0] * size
    for component in components:
        block = next(b for b in free if len(b) >= len(component))
        for target, slot in zip(sorted(component), block[:len(component)]):
            unit_of[target] = reduction.units[slot]
        del block[:len(component)]
    for i, j in zip(*np.nonzero(A_target)):
        if reduction.coordinate[unit_of[j]] not in parts.applications[unit_of[i]].coefficients:
            return None, (f"Thm 5.1's dense-update hypothesis is not met: unit {unit_of[i]}'s pre-activation does not "
                          f"read the state of unit {unit_of[j]}, which the machine needs"), largest
    return unit_of, "", largest


def _equations(mixer: StateRecurrence, parts: AffineParts, reduction: Reduction, unit_of: list[int],
               A_target: np.ndarray, B_target: np.ndarray, tokens: np.ndarray) -> list:
    target_of = {u: i for i, u in enumerate(unit_of)}
    column_of = {reduction.coordinate[u]: i for i, u in enumerate(unit_of)}
    level_of = {k: LEVELS[level] for key, level in reduction.levels.items() for k in families(parts)[key]}
    equations: dict = {}
    for t, token in enumerate(tokens):
        substitution = {x: sympy.Integer(int(v)) for x, v in zip(mixer.inputs, token)}
        for k, application in enumerate(parts.applications):
            row = target_of.get(k)
            for s, coefficient in application.coefficients.items():
                goal = float(A_target[row, column_of[s]]) if row is not None and s in column_of else 0.0
                equations[(coefficient.xreplace(substitution), goal)] = None
            goal = float(B_target[row, t]) if row is not None else level_of.get(k, 0.0)
            equations[(application.offset.xreplace(substitution), goal)] = None
    return [(e, goal) for e, goal in equations if not (e.is_number and abs(float(e) - goal) <= 1e-15)]


def _linear(expr: sympy.Expr, unknowns: set) -> dict | None:
    """{symbol or 1: number} when expr is a number plus numbers times single unknowns, else None."""
    terms: dict = {}
    for term in sympy.Add.make_args(expr):
        coefficient, rest = term.as_coeff_Mul()
        if rest == 1 or rest in unknowns:
            terms[rest] = terms.get(rest, 0.0) + float(coefficient)
        else:
            return None
    return terms


def _independent(linear: list) -> list[list]:
    """The linear equations grouped into blocks that share no unknown."""
    parent: dict = {}

    def find(s):
        while parent.setdefault(s, s) != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    for _, _, terms in linear:
        symbols = [s for s in terms if s != 1]
        for s in symbols[1:]:
            parent[find(s)] = find(symbols[0])
    blocks: dict = {}
    for equation in linear:
        symbols = [s for s in equation[2] if s != 1]
        blocks.setdefault(find(symbols[0]) if symbols else None, []).append(equation)
    return list(blocks.values())


def _solve(equations: list, parameters: list, start: dict) -> Solution:
    """Linear equations (e.g. W[r, j] + b[r] = B*[r, j] at one-hot tokens) by a minimum-change least-squares
    solve from the random start; the rest by `solve_parameters` (bare symbols are assigned there)."""
    unknowns = set(parameters)
    linear = [(e, goal, terms) for e, goal in equations if not isinstance(e, sympy.Symbol)
              for terms in [_linear(e, unknowns)] if terms is not None]
    rest = [(e, goal) for e, goal in equations if isinstance(e, sympy.Symbol) or _linear(e, unknowns) is None]
    values = dict(start)
    for block in _independent(linear):  # equations sharing no unknown are solved apart (small dense solves)
        symbols = sorted({s for _, _, terms in block for s in terms if s != 1}, key=by_name)
        column = {s: i for i, s in enumerate(symbols)}
        matrix = np.zeros((len(block), len(symbols)))
        target = np.zeros(len(block))
        for row, (_, goal, terms) in enumerate(block):
            target[row] = goal - terms.get(1, 0.0)
            for s, c in terms.items():
                if s != 1:
                    matrix[row, column[s]] = c
        x0 = np.array([start[s] for s in symbols])
        delta = np.linalg.lstsq(matrix, target - matrix @ x0, rcond=None)[0]
        values.update(zip(symbols, (x0 + delta).tolist()))
    if linear:
        fixed = {s: sympy.Float(values[s]) for _, _, terms in linear for s in terms if s != 1}
        rest = [(e.xreplace(fixed), goal) for e, goal in rest]
    solution = solve_parameters(rest, parameters, values) if rest else Solution(values, 0.0, 0)
    linear_residual = max((abs(sum(c * (1.0 if s == 1 else solution.values[s]) for s, c in terms.items()) - goal)
                           for _, goal, terms in linear), default=0.0)
    return Solution(solution.values, max(solution.residual, linear_residual), solution.iterations)


@dataclass
class Built:
    """What `construct_gated` did: the solved (unverified) machine, or why not and whether a wider layer may do."""

    machine: Machine | None
    residual: float
    description: str  # the method (built) or the failure
    widen: bool = False  # the failure is one of width: the family at a larger size may realise the machine


def construct_gated(mixer: StateRecurrence, generators=S5_GENERATORS, seed: int = 0) -> Built:
    """Reduce, assign and solve (see the module docstring); nothing is verified here."""
    need = requirement(generators)
    if mixer.d_in < need.d_in:
        return Built(None, float("inf"), f"the construction needs {need.d_in} one-hot tokens; this spec has "
                                         f"{mixer.d_in} inputs", widen=True)
    tokens = np.eye(mixer.d_in)[:need.d_in]
    reduction, why = find_reduction(mixer, tokens, seed)
    if reduction is None:
        return Built(None, float("inf"), why)
    f = NUMPY[reduction.driver[0]]
    lo, hi = float(f(-GAIN / 2)), float(f(GAIN / 2))
    A_target, B_target = target_matrices(generators, lo, hi, GAIN)
    parts = affine_parts(mixer)
    unit_of, why, largest = assign(parts, reduction, A_target)
    if unit_of is None:  # units that read only themselves stay so at any width
        return Built(None, float("inf"), f"{reduction.describe()}; {why}", widen=largest > 1)
    parameters = sorted(mixer.parameters(), key=by_name)
    start = dict(zip(parameters, np.random.default_rng(seed).normal(size=len(parameters)).tolist()))
    solution = _solve(_equations(mixer, parts, reduction, unit_of, A_target, B_target, tokens), parameters, start)
    if solution.residual > ACCEPTED:
        return Built(None, float("inf"), f"{reduction.describe()}; the parameters could not be solved to the machine "
                                         f"(residual {solution.residual:.3g})")
    coordinates = tuple(reduction.coordinate[u] for u in unit_of)
    machine = Machine(mixer, solution.values, tokens[:-1], tokens[-1:], coordinates)
    return Built(machine, solution.residual, f"Thm 5.1 construction (gain K = {GAIN:g}) in the update's own "
                                             f"parameters, gates saturated: {reduction.describe()}")
