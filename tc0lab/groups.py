"""Finite groups for word problems: parse a name like "A4xZ5", enumerate it, classify it.

A group is built with `sympy.combinatorics` as a permutation group, then enumerated once into
plain numpy arrays that the checker and the probe use without sympy:

- `elements[i]` is a sympy `Permutation`; element 0 is the identity, and the rest are sorted
  lexicographically by their array form, so ids are the same on every run.
- `table[a, b]` is the id of "a then b".

Composition convention (used everywhere in tc0lab): "a then b" means apply a first, then b.
In sympy that is `elements[a] * elements[b]`, whose array form is `b[a[i]]`. The word problem
of g_1 ... g_n asks, at every position t, for the prefix product g_1 then g_2 ... then g_t.

Grammar of names (case-insensitive, whitespace ignored): `S<n>` symmetric, `A<n>` alternating,
`Z<n>` or `C<n>` cyclic, `D<n>` dihedral group of the n-gon (ORDER 2n, so D5 has order 10),
`Q8` quaternion, and direct products joined by `x`, `_x_` or `×` (e.g. `A4xZ5`, `A4_x_Z5`,
`S3xZ2xZ2`), which act on the disjoint union of the factors' points.

Word-problem complexity (cited, not measured): a solvable group's word problem is in ACC0, so
in TC0 (Barrington & Therien 1988); a non-solvable group's is NC1-complete (Barrington 1989).
"""
from __future__ import annotations

import csv
import math
import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from sympy.combinatorics import Permutation, PermutationGroup
from sympy.combinatorics.group_constructs import DirectProduct
from sympy.combinatorics.named_groups import (AlternatingGroup, CyclicGroup, DihedralGroup,
                                              SymmetricGroup)

DEFAULT_MAX_ORDER = 5040
# elements are stored as sympy Permutations, order x degree integers in all
MAX_STORED_ENTRIES = 1_000_000
MAX_EXHAUSTIVE_WORDS = 1_000_000

GRAMMAR = ("group names are S<n> (symmetric), A<n> (alternating), Z<n> or C<n> (cyclic), "
           "D<n> (dihedral group of the n-gon, order 2n), Q8 (quaternion), with n >= 1, "
           "and direct products joined by 'x', '_x_' or '×', e.g. A4xZ5, A4_x_Z5, S3xZ2xZ2")

BARRINGTON_1989 = ("D. A. Mix Barrington, Bounded-width polynomial-size branching programs "
                   "recognize exactly those languages in NC1, JCSS 38(1):150-164, 1989")
BARRINGTON_THERIEN_1988 = ("D. A. Mix Barrington and D. Therien, Finite monoids and the fine "
                           "structure of NC1, JACM 35(4):941-952, 1988")
COMPLEXITY_SOLVABLE = "TC0: in ACC0 (Barrington-Therien 1988)"
COMPLEXITY_NON_SOLVABLE = "NC1-complete (Barrington 1989)"


class GroupError(ValueError):
    """A group name that is unknown, malformed or too large to enumerate."""


# ---------------------------------------------------------------------------------------------
# Parsing: name -> factors -> sympy permutation group
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Factor:
    """One factor of a direct product, e.g. ("A", 4); its order is known without sympy."""

    letter: str
    n: int

    @property
    def name(self) -> str:
        return f"{self.letter}{self.n}"

    @property
    def order(self) -> int:
        return _FACTOR_ORDERS[self.letter](self.n)

    @property
    def log10_order(self) -> float:
        """log10 of the order without computing n! (names like S100000 stay cheap)."""
        if self.letter in "SA":
            halved = math.log10(2) if self.letter == "A" and self.n >= 2 else 0.0
            return math.lgamma(self.n + 1) / math.log(10) - halved
        return math.log10(self.order)

    def build(self) -> PermutationGroup:
        return _FACTOR_BUILDERS[self.letter](self.n)


def _alternating(n: int) -> PermutationGroup:
    # sympy's A2 acts on 1 point; keep "A<n> acts on n points" true for every n
    if n == 2:
        return PermutationGroup([Permutation(1)])
    return AlternatingGroup(n)


def _quaternion(n: int) -> PermutationGroup:
    # Q8 in its regular representation on {1,i,-1,-i, j,-k,-j,k} ~ points 0..7:
    # left multiplication by i and by j
    i = Permutation([[0, 1, 2, 3], [4, 5, 6, 7]])
    j = Permutation([[0, 4, 2, 6], [1, 7, 3, 5]])
    return PermutationGroup([i, j])


_FACTOR_ORDERS: dict[str, Callable[[int], int]] = {
    "S": math.factorial,
    "A": lambda n: max(1, math.factorial(n) // 2),
    "Z": lambda n: n,
    "D": lambda n: 2 * n,
    "Q": lambda n: 8,
}
_FACTOR_BUILDERS: dict[str, Callable[[int], PermutationGroup]] = {
    "S": SymmetricGroup,
    "A": _alternating,
    "Z": CyclicGroup,
    "D": DihedralGroup,
    "Q": _quaternion,
}
_FACTOR_PATTERN = re.compile(r"([sazcdq])(\d+)")


def _parse_factors(name: str) -> list[_Factor]:
    """Split a product name into factors; raise GroupError (listing the grammar) if malformed."""
    text = re.sub(r"\s+", "", str(name)).lower().replace("×", "x").replace("_x_", "x")
    factors = [_parse_factor(part, name) for part in text.split("x")]
    return factors


def _parse_factor(part: str, name: str) -> _Factor:
    match = _FACTOR_PATTERN.fullmatch(part)
    if match is None:
        raise GroupError(f"cannot parse group name {name!r} (at {part!r}); {GRAMMAR}")
    letter = {"c": "Z"}.get(match.group(1), match.group(1).upper())
    n = int(match.group(2))
    if letter == "Q" and n != 8:
        raise GroupError(f"the only quaternion group supported is Q8, got {part!r} in {name!r}")
    if n < 1:
        raise GroupError(f"{letter}{n} is not a group: n must be >= 1 (in {name!r}); {GRAMMAR}")
    return _Factor(letter, n)


# ---------------------------------------------------------------------------------------------
# Enumeration: generators -> sorted elements + multiplication table (shared with monoids.py)
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Closure:
    """Everything generated by some maps of {0..k-1} under "then" composition.

    `maps[i]` is the array form of element i (maps[0] is the identity, the rest sorted
    lexicographically); `table[a, b]` is the id of "a then b", i.e. maps[b][maps[a]];
    `generator_ids[j]` is the id of the j-th generator.
    """

    maps: np.ndarray           # (size, k) int
    table: np.ndarray          # (size, size) int32
    generator_ids: tuple[int, ...]


def close_under_composition(generator_maps: np.ndarray, degree: int, max_size: int,
                            too_large: Callable[[int], Exception]) -> Closure:
    """Enumerate the monoid generated by the rows of `generator_maps` (shape (g, degree)).

    Breadth-first search from the identity with right multiplication by generators; raises
    `too_large(max_size)` as soon as more than max_size elements are found.
    """
    generator_maps = np.asarray(generator_maps, dtype=np.int64).reshape(-1, degree)
    found, parents = _breadth_first_closure(generator_maps, degree, max_size, too_large)
    maps = np.array(found, dtype=np.int64).reshape(len(found), degree)   # (size, k), BFS order
    # canonical ids: identity first, then lexicographic (independent of the generator order)
    rest = 1 + np.lexsort(maps[1:].T[::-1])
    new_order = np.concatenate([[0], rest])
    new_id = np.empty(len(found), dtype=np.int64)
    new_id[new_order] = np.arange(len(found))
    maps = maps[new_order]
    index = {row.tobytes(): i for i, row in enumerate(maps)}
    right = np.array([[index[gen[row].tobytes()] for row in maps] for gen in generator_maps],
                     dtype=np.int32).reshape(len(generator_maps), len(maps))  # (g, size)
    table = _fill_table(right, [(new_id[child], new_id[parent], gen)
                                for child, parent, gen in parents])
    generator_ids = tuple(index[gen.tobytes()] for gen in generator_maps)
    return Closure(maps=maps, table=table, generator_ids=generator_ids)


def _breadth_first_closure(generator_maps: np.ndarray, degree: int, max_size: int,
                           too_large: Callable[[int], Exception]
                           ) -> tuple[list[np.ndarray], list[tuple[int, int, int]]]:
    """Elements in discovery order, and (child, parent, generator) with child = parent then gen."""
    identity = np.arange(degree, dtype=np.int64)
    found = [identity]
    seen = {identity.tobytes(): 0}
    parents: list[tuple[int, int, int]] = []
    queue = deque([0])
    while queue:
        current = queue.popleft()
        for gen_index, gen in enumerate(generator_maps):
            child = gen[found[current]]          # current then gen
            key = child.tobytes()
            if key in seen:
                continue
            if len(found) >= max_size:
                raise too_large(max_size)
            seen[key] = len(found)
            parents.append((len(found), current, gen_index))
            found.append(child)
            queue.append(seen[key])
    return found, parents


def _fill_table(right: np.ndarray, parents: list[tuple[int, int, int]]) -> np.ndarray:
    """Column b of the table from column parent(b): (a then p) then g, in BFS order."""
    size = right.shape[1]
    # filled by columns, so keep it column-major while filling
    table = np.empty((size, size), dtype=np.int32, order="F")
    table[:, 0] = np.arange(size, dtype=np.int32)
    # `parents` is in discovery order, so every parent column is filled before its children
    for child, parent, gen_index in parents:
        table[:, child] = right[gen_index][table[:, parent]]
    return np.ascontiguousarray(table)


# ---------------------------------------------------------------------------------------------
# Classification (cited complexity of the word problem)
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WordProblemClass:
    """Where a group's word problem sits: kind, cited complexity, derived series orders."""

    kind: str                     # "abelian" | "solvable" | "non-solvable"
    complexity: str
    derived_series: list[int]     # orders G, G', G'', ... down to the terminal member
    citation: str

    @property
    def solvable(self) -> bool:
        return self.kind != "non-solvable"


def classify_permutation_group(group: PermutationGroup) -> WordProblemClass:
    """Classify a sympy permutation group by its derived series."""
    series = [int(member.order()) for member in group.derived_series()]
    if group.is_abelian:
        kind = "abelian"
    elif series[-1] == 1:
        kind = "solvable"
    else:
        kind = "non-solvable"
    if kind == "non-solvable":
        return WordProblemClass(kind, COMPLEXITY_NON_SOLVABLE, series, BARRINGTON_1989)
    return WordProblemClass(kind, COMPLEXITY_SOLVABLE, series, BARRINGTON_THERIEN_1988)


# ---------------------------------------------------------------------------------------------
# The enumerated group
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class FiniteGroup:
    """A finite permutation group, enumerated. Element 0 is the identity.

    Composition: `table[a, b]` is "a then b" (apply a first), `elements[a] * elements[b]`.
    """

    name: str                         # canonical, e.g. "A4xZ5"
    order: int
    degree: int                       # number of points it acts on
    elements: tuple[Permutation, ...]
    array_forms: np.ndarray           # (order, degree): array_forms[a][i] = image of point i
    table: np.ndarray                 # (order, order) int32
    inverse: np.ndarray               # (order,) int32
    generators: tuple[int, ...]       # element ids
    permutation_group: PermutationGroup

    def prefix_products(self, words: np.ndarray) -> np.ndarray:
        """Prefix products of words of element ids: shape (..., n) -> (..., n).

        Position t holds g_1 then g_2 ... then g_t; vectorised over the leading axes.
        """
        words = self._check_ids(words)
        products = np.empty_like(words)
        if words.shape[-1] == 0:
            return products
        products[..., 0] = words[..., 0]
        for t in range(1, words.shape[-1]):
            products[..., t] = self.table[products[..., t - 1], words[..., t]]
        return products

    def permutation_matrix(self, index: int) -> np.ndarray:
        """The 0/1 matrix M with M[g(i), i] = 1, so M(a then b) = M(b) @ M(a).

        A state update h_t = M(g_t) @ h_{t-1} therefore tracks the prefix product.
        """
        if not 0 <= int(index) < self.order:
            raise GroupError(f"element id {index} is out of range for {self.name} "
                             f"(ids are 0..{self.order - 1})")
        matrix = np.zeros((self.degree, self.degree), dtype=np.int64)
        matrix[self.array_forms[int(index)], np.arange(self.degree)] = 1
        return matrix

    def word_problem_class(self) -> WordProblemClass:
        """The cited complexity class of this group's word problem."""
        return classify_word_problem(self)

    def _check_ids(self, words: np.ndarray) -> np.ndarray:
        words = np.asarray(words)
        if words.ndim == 0:
            raise GroupError("words must have at least one axis (..., n)")
        if not np.issubdtype(words.dtype, np.integer):
            raise GroupError(f"words must hold integer element ids, got dtype {words.dtype}")
        if words.size and (words.min() < 0 or words.max() >= self.order):
            raise GroupError(f"element ids must be in 0..{self.order - 1} for {self.name}, "
                             f"got values in {words.min()}..{words.max()}")
        return words


def classify_word_problem(group: FiniteGroup) -> WordProblemClass:
    """Abelian / solvable (ACC0, so TC0) / non-solvable (NC1-complete), with citation."""
    return classify_permutation_group(group.permutation_group)


def group_order(name: str) -> int:
    """The order of a named group, computed from the name alone (nothing is enumerated)."""
    return math.prod(factor.order for factor in _parse_factors(name))


def canonical_name(name: str) -> str:
    """The canonical spelling of a group name, e.g. "a4 _x_ c5" -> "A4xZ5"."""
    return "x".join(factor.name for factor in _parse_factors(name))


def parse_group(name: str, max_order: int = DEFAULT_MAX_ORDER) -> FiniteGroup:
    """Build and enumerate a group from its name (see the module docstring for the grammar).

    `D<n>` is the dihedral group of the n-gon, of ORDER 2n (D5 has order 10). A group whose
    order exceeds `max_order` is refused before anything is enumerated.
    """
    factors = _parse_factors(name)
    canonical = "x".join(factor.name for factor in factors)
    _refuse_above(canonical, factors, max_order)
    order = math.prod(factor.order for factor in factors)
    groups = [factor.build() for factor in factors]
    permutation_group = groups[0] if len(groups) == 1 else DirectProduct(*groups)
    degree = int(permutation_group.degree)
    if order * degree > MAX_STORED_ENTRIES:
        raise GroupError(f"{canonical} has {order} elements on {degree} points; storing them "
                         f"needs {order * degree} entries, more than {MAX_STORED_ENTRIES}")
    return _enumerate(canonical, order, permutation_group)


def _refuse_above(canonical: str, factors: list[_Factor], max_order: int) -> None:
    """Refuse a group larger than max_order from its factors' orders (S100000 stays cheap)."""
    log10_order = sum(factor.log10_order for factor in factors)
    if log10_order > 30:
        order_text = f"about 10^{int(log10_order)}"
    else:
        order_text = str(math.prod(factor.order for factor in factors))
        if int(order_text) <= max_order:
            return
    raise GroupError(f"{canonical} has order {order_text}, more than the {max_order} that can "
                     f"be enumerated; choose a smaller group or raise max_order")


def _enumerate(name: str, order: int, permutation_group: PermutationGroup) -> FiniteGroup:
    degree = int(permutation_group.degree)
    generator_maps = np.array([gen.array_form for gen in permutation_group.generators],
                              dtype=np.int64).reshape(-1, degree)
    closure = close_under_composition(generator_maps, degree, max_size=order,
                                      too_large=lambda size: GroupError(
                                          f"{name}: enumeration found more than {size} elements"))
    if len(closure.maps) != order:
        raise GroupError(f"{name}: enumerated {len(closure.maps)} elements, expected {order}")
    inverse = np.argmin(closure.table, axis=1).astype(np.int32)    # table[a, inv(a)] = 0
    generators = tuple(dict.fromkeys(closure.generator_ids))       # distinct, in order
    return FiniteGroup(name=name, order=order, degree=degree,
                       elements=tuple(Permutation(row.tolist()) for row in closure.maps),
                       array_forms=closure.maps, table=closure.table, inverse=inverse,
                       generators=generators, permutation_group=permutation_group)


# ---------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------

def all_words(group: FiniteGroup, length: int) -> np.ndarray:
    """Every word of `length` element ids, shape (order**length, length), lexicographic."""
    if length < 0:
        raise GroupError(f"word length must be >= 0, got {length}")
    count = group.order ** length
    if count > MAX_EXHAUSTIVE_WORDS:
        raise GroupError(f"{group.name} has {count} words of length {length}, more than the "
                         f"{MAX_EXHAUSTIVE_WORDS} that are listed exhaustively; sample instead")
    grids = np.indices((group.order,) * length).reshape(length, count)
    return np.ascontiguousarray(grids.T).astype(np.int64)


def random_words(group: FiniteGroup, count: int, length: int,
                 rng: np.random.Generator) -> np.ndarray:
    """`count` uniform random words of `length` element ids, shape (count, length)."""
    if count < 0 or length < 0:
        raise GroupError(f"count and length must be >= 0, got {count} and {length}")
    return rng.integers(0, group.order, size=(count, length), dtype=np.int64)


def words_to_csv(words: np.ndarray, targets: np.ndarray, path: str | Path) -> None:
    """Write columns input,target; each cell is space-separated element ids."""
    words, targets = np.asarray(words), np.asarray(targets)
    if words.shape[0] != targets.shape[0]:
        raise GroupError(f"words and targets differ in count: {words.shape[0]} vs "
                         f"{targets.shape[0]}")
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["input", "target"])
        for word, target in zip(words, targets):
            writer.writerow([_ids_text(word), _ids_text(target)])


def _ids_text(ids: np.ndarray) -> str:
    return " ".join(str(int(value)) for value in np.atleast_1d(ids))
