"""Finite matrix groups: which group do a layer's token transitions generate?

A witness needs token transitions that generate a finite non-solvable group. They need not
be permutation matrices: a 3x3 rotation group of the icosahedron is A5, and reflections
through the simple roots of the 4-dimensional standard representation generate S5.

`permutation_action` turns matrices into permutations that sympy.combinatorics can classify:

- permutation matrices give their action on the coordinates (degree = the block size);
- otherwise the group is closed numerically, breadth first, with matrices identified when
  they agree to 1e-8, up to `MAX_ELEMENTS` elements (an infinite or too large group stops
  the closure); each generator then permutes the orbit of a generic vector, whose points
  are distinct for distinct group elements (a generic vector has a trivial stabiliser in a
  finite matrix group), so the action is faithful and the permutation group is isomorphic
  to the matrix group. Matrices count as equal only to rounding (1e-11): generators that
  are group elements only to 1e-10 generate an infinite group, and the closure says so.

`group_name` names the group: S_k or A_k when the action is on k moved coordinates and the
order says so, the non-solvable groups of order 60 and 120 by their center and derived
subgroup, otherwise its order.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
from sympy.combinatorics import Permutation, PermutationGroup

MAX_ELEMENTS = 2000  # the largest matrix group closed numerically
AGREEMENT = 1e-11  # two matrices (or orbit points) closer than this in max-norm are one (rounding, not more)


@dataclass(frozen=True)
class Action:
    """Generators as permutations (array forms: P[pi(i), i] = 1) of a faithful action."""

    maps: list[np.ndarray]
    on: str  # what the points are: 'coordinates' or 'an orbit of a generic vector'


def as_permutation(matrix: np.ndarray, tolerance: float = 1e-12) -> np.ndarray | None:
    """The array form pi (P[pi(i), i] = 1) if `matrix` is a permutation matrix, else None."""
    if np.iscomplexobj(matrix):
        if np.max(np.abs(matrix.imag)) > tolerance:
            return None
        matrix = matrix.real
    rounded = np.round(matrix)
    if np.max(np.abs(matrix - rounded)) > tolerance or np.any((rounded != 0) & (rounded != 1)):
        return None
    if not (np.all(rounded.sum(axis=0) == 1) and np.all(rounded.sum(axis=1) == 1)):
        return None
    return np.argmax(rounded, axis=0)


class _NearSet:
    """Points (matrices or vectors, flattened) identified when they agree to AGREEMENT in max-norm.

    A lookup compares with every stored point (vectorised): rounding to a grid would split
    a point whose computed copies straddle a grid line.
    """

    def __init__(self, width: int, dtype, capacity: int):
        self.points = np.empty((capacity, width), dtype=dtype)
        self.size = 0

    def find(self, point: np.ndarray) -> int | None:
        if not self.size:
            return None
        distances = np.max(np.abs(self.points[:self.size] - point.ravel()), axis=1)
        index = int(np.argmin(distances))
        return index if distances[index] <= AGREEMENT else None

    def add(self, point: np.ndarray) -> int:
        self.points[self.size] = point.ravel()
        self.size += 1
        return self.size - 1


def close_matrix_group(generators: list[np.ndarray], max_elements: int = MAX_ELEMENTS) -> list[np.ndarray] | None:
    """Every element of the group the (invertible) generators generate, or None past max_elements."""
    size = generators[0].shape[0]
    dtype = np.result_type(*generators)
    identity = np.eye(size, dtype=dtype)
    elements, seen = [identity], _NearSet(size * size, dtype, max_elements + 1)
    seen.add(identity)
    queue = deque([identity])
    while queue:
        current = queue.popleft()
        for generator in generators:
            child = generator @ current
            if not np.all(np.isfinite(child)) or np.max(np.abs(child)) > 1e6:
                return None  # entries grow: not a finite group
            if seen.find(child) is None:
                if len(elements) >= max_elements:
                    return None
                seen.add(child)
                elements.append(child)
                queue.append(child)
    return elements


def _orbit_action(generators: list[np.ndarray], elements: list[np.ndarray], seed: int) -> list[np.ndarray] | None:
    vector = np.random.default_rng(seed).normal(size=generators[0].shape[0])
    orbit = np.array([element @ vector for element in elements])
    points = _NearSet(len(vector), orbit.dtype, len(orbit))
    for point in orbit:
        if points.find(point) is not None:
            return None  # the vector was not generic: two elements move it to one point
        points.add(point)
    maps = []
    for generator in generators:
        images = [points.find(generator @ point) for point in orbit]
        if any(image is None for image in images):
            return None
        maps.append(np.array(images, dtype=np.int64))
    return maps


def permutation_action(matrices: list[np.ndarray], seed: int = 0) -> Action | None:
    """A faithful permutation action of the group the matrices generate (None: not finite here)."""
    direct = [as_permutation(m) for m in matrices]
    if all(p is not None for p in direct):
        return Action(direct, "coordinates")
    elements = close_matrix_group(matrices)
    if elements is None:
        return None
    maps = _orbit_action(matrices, elements, seed)
    return Action(maps, "an orbit of a generic vector") if maps is not None else None


def group_of(maps: list[np.ndarray]) -> PermutationGroup:
    return PermutationGroup([Permutation(list(map(int, m))) for m in maps])


def group_name(action: Action) -> tuple[str, int, bool]:
    """(name, order, solvable) of the group generated by the action's permutations."""
    group = group_of(action.maps)
    order, solvable = int(group.order()), bool(group.is_solvable)
    if action.on == "coordinates":
        moved = len({i for m in action.maps for i in range(len(m)) if m[i] != i})
        if moved and order == math.factorial(moved):
            return f"S{moved}", order, solvable
        if moved > 2 and 2 * order == math.factorial(moved):
            return f"A{moved}", order, solvable
    if not solvable and order == 60:
        return "A5", order, solvable  # the only non-solvable group of order 60
    if not solvable and order == 120:
        center, derived = int(group.center().order()), int(group.derived_subgroup().order())
        name = "S5" if center == 1 else ("SL(2,5)" if derived == 120 else "A5 x Z2")
        return name, order, solvable
    kind = "solvable" if solvable else "non-solvable"
    return f"a {kind} group of order {order}", order, solvable


def cycles(perm: np.ndarray) -> str:
    """Cycle notation of an array form ('()' for the identity)."""
    return str(Permutation(list(map(int, perm))).cyclic_form) if np.any(perm != np.arange(len(perm))) else "()"
