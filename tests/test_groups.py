"""Tests for tc0lab.groups: parsing, enumeration, tables, classification, words."""
from __future__ import annotations

import csv
from functools import reduce

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tc0lab import groups
from tc0lab.groups import (GroupError, all_words, classify_word_problem, parse_group,
                           random_words, words_to_csv)


@pytest.mark.parametrize("name, order, degree", [
    ("S5", 120, 5), ("A5", 60, 5), ("Z60", 60, 60), ("A4xZ5", 60, 9), ("D5", 10, 5),
    ("Q8", 8, 8), ("S3xZ2xZ2", 24, 7), ("C7", 7, 7), ("Z1", 1, 1), ("S1", 1, 1), ("A2", 1, 2),
])
def test_order_and_degree(name: str, order: int, degree: int) -> None:
    group = parse_group(name)
    assert (group.order, group.degree) == (order, degree)
    assert len(group.elements) == order and group.table.shape == (order, order)
    assert group.table.dtype == np.int32


@pytest.mark.parametrize("name, kind, series", [
    ("S5", "non-solvable", [120, 60]), ("A5", "non-solvable", [60]),
    ("A4xZ5", "solvable", [60, 4, 1]), ("Z60", "abelian", [60, 1]),
    ("Q8", "solvable", [8, 2, 1]), ("S4", "solvable", [24, 12, 4, 1]),
    ("D5", "solvable", [10, 5, 1]),
])
def test_word_problem_class(name: str, kind: str, series: list[int]) -> None:
    group = parse_group(name)
    result = classify_word_problem(group)
    assert (result.kind, result.derived_series) == (kind, series)
    assert group.word_problem_class() == result
    if kind == "non-solvable":
        assert result.complexity == "NC1-complete (Barrington 1989)"
        assert "Barrington" in result.citation and "1989" in result.citation
    else:
        assert result.complexity == "TC0: in ACC0 (Barrington-Therien 1988)"
        assert "1988" in result.citation


def _element_orders(group: groups.FiniteGroup) -> list[int]:
    orders = []
    for a in range(group.order):
        power, k = a, 1
        while power != 0:
            power, k = int(group.table[power, a]), k + 1
        orders.append(k)
    return sorted(orders)


def test_q8_and_d4_are_different_groups_of_order_8() -> None:
    # Q8 has one involution and six elements of order 4; D4 has five involutions
    assert _element_orders(parse_group("Q8")) == [1, 2, 4, 4, 4, 4, 4, 4]
    assert _element_orders(parse_group("D4")) == [1, 2, 2, 2, 2, 2, 4, 4]


@pytest.mark.parametrize("spelling", ["A4_x_Z5", "a4xz5", " A4 × Z5 ", "A4xC5", "a4 _X_ c5"])
def test_spellings_of_a_product_give_the_same_group(spelling: str) -> None:
    reference, group = parse_group("A4xZ5"), parse_group(spelling)
    assert group.name == "A4xZ5"
    assert np.array_equal(group.table, reference.table)
    assert group.elements == reference.elements


def test_ids_are_deterministic_identity_first_then_lexicographic() -> None:
    first, second = parse_group("S4xZ2"), parse_group("S4xZ2")
    assert np.array_equal(first.table, second.table)
    forms = [tuple(row) for row in first.array_forms]
    assert forms[0] == tuple(range(first.degree)) and forms == sorted(forms)
    assert first.elements[0].is_Identity


@pytest.mark.parametrize("name", ["S0", "Z0", "foo", "S5x", "", "A4xxZ5", "S-1", "Z2.5"])
def test_malformed_names_list_the_grammar(name: str) -> None:
    with pytest.raises(GroupError, match=r"S<n>.*Z<n>"):
        parse_group(name)


def test_only_q8_is_a_quaternion_group() -> None:
    with pytest.raises(GroupError, match="only quaternion group supported is Q8"):
        parse_group("Q16")


def test_too_large_is_refused_before_enumerating(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise AssertionError("enumerated a group that should have been refused")

    monkeypatch.setattr(groups, "_enumerate", fail)
    with pytest.raises(GroupError, match="S8 has order 40320, more than the 5040"):
        parse_group("S8")
    with pytest.raises(GroupError, match=r"S100000 has order about 10\^456573"):
        parse_group("S100000")
    with pytest.raises(GroupError, match="S5 has order 120, more than the 100"):
        parse_group("s5", max_order=100)


def test_max_order_is_inclusive_and_storage_is_bounded() -> None:
    assert parse_group("S5", max_order=120).order == 120
    with pytest.raises(GroupError, match="S5 has order 120, more than the 119"):
        parse_group("S5", max_order=119)
    with pytest.raises(GroupError, match="Z2000 has 2000 elements on 2000 points"):
        parse_group("Z2000")


# ---------------------------------------------------------------------------------------------
# Property tests over random names from a small grammar
# ---------------------------------------------------------------------------------------------

SMALL_FACTORS = ["S1", "S2", "S3", "S4", "A3", "A4", "A5", "Z1", "Z2", "Z3", "Z5", "C4", "D1",
                 "D2", "D3", "D5", "Q8"]
JOINERS = ["x", "_x_", "×", " x "]


@st.composite
def small_group_names(draw: st.DrawFn) -> str:
    factors = draw(st.lists(st.sampled_from(SMALL_FACTORS), min_size=1, max_size=3)
                   .filter(lambda fs: groups.group_order("x".join(fs)) <= 240))
    joiner = draw(st.sampled_from(JOINERS))
    lower = draw(st.booleans())
    name = joiner.join(factors)
    return name.lower() if lower else name


@settings(max_examples=40, deadline=None)
@given(name=small_group_names(), seed=st.integers(0, 2**32 - 1))
def test_table_is_a_group_table(name: str, seed: int) -> None:
    group = parse_group(name)
    table, order, ids = group.table, group.order, np.arange(group.order)
    assert np.array_equal(table[0], ids) and np.array_equal(table[:, 0], ids)
    # a Latin square: every row and column is a permutation of the ids
    assert (np.sort(table, axis=1) == ids).all() and (np.sort(table, axis=0).T == ids).all()
    assert (table[ids, group.inverse] == 0).all() and (table[group.inverse, ids] == 0).all()
    a, b, c = np.random.default_rng(seed).integers(0, order, size=(3, 200))
    assert np.array_equal(table[table[a, b], c], table[a, table[b, c]])
    # differential: the table is sympy's composition elements[a] * elements[b]
    for x, y in zip(a[:30], b[:30]):
        assert group.elements[x] * group.elements[y] == group.elements[table[x, y]]
    assert order == int(group.permutation_group.order())


@settings(max_examples=40, deadline=None)
@given(name=small_group_names())
def test_canonical_name_round_trips(name: str) -> None:
    group = parse_group(name)
    again = parse_group(group.name)
    assert again.name == group.name and np.array_equal(again.table, group.table)
    assert group.order == groups.group_order(name)


# ---------------------------------------------------------------------------------------------
# Prefix products and permutation matrices
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["S5", "A4xZ5", "Q8", "D5"])
def test_prefix_products_match_a_sympy_fold(name: str) -> None:
    group = parse_group(name)
    words = random_words(group, count=12, length=9, rng=np.random.default_rng(0)).reshape(3, 4, 9)
    products = group.prefix_products(words)
    assert products.shape == words.shape
    for word, prefixes in zip(words.reshape(-1, 9), products.reshape(-1, 9)):
        for t in range(1, 10):
            folded = reduce(lambda p, q: p * q, [group.elements[g] for g in word[:t]])
            assert group.elements[prefixes[t - 1]] == folded


def test_prefix_products_edge_cases() -> None:
    group = parse_group("Z5")
    assert group.prefix_products(np.zeros((4, 0), dtype=np.int64)).shape == (4, 0)
    # Z5's ids are its rotations in lexicographic order, so id k is "rotate by k"
    assert group.prefix_products(np.array([1, 1, 1, 1, 1])).tolist() == [1, 2, 3, 4, 0]
    with pytest.raises(GroupError, match="0..4"):
        group.prefix_products(np.array([0, 5]))
    with pytest.raises(GroupError, match="integer"):
        group.prefix_products(np.array([0.5]))


@pytest.mark.parametrize("name", ["Q8", "D5", "S3xZ2", "A4"])
def test_permutation_matrices_compose_in_reverse_order(name: str) -> None:
    group = parse_group(name)
    matrices = np.stack([group.permutation_matrix(g) for g in range(group.order)])
    assert (matrices.sum(axis=1) == 1).all() and (matrices.sum(axis=2) == 1).all()
    assert np.array_equal(matrices[0], np.eye(group.degree, dtype=matrices.dtype))
    for a in range(group.order):
        for b in range(group.order):
            assert np.array_equal(matrices[group.table[a, b]], matrices[b] @ matrices[a])


def test_permutation_matrix_state_tracks_prefix_products() -> None:
    group = parse_group("S5")
    word = random_words(group, count=1, length=30, rng=np.random.default_rng(1))[0]
    prefixes = group.prefix_products(word)
    state = np.eye(group.degree, dtype=np.int64)
    for g, prefix in zip(word, prefixes):
        state = group.permutation_matrix(g) @ state        # h_t = M(g_t) h_{t-1}
        assert np.array_equal(state, group.permutation_matrix(prefix))
    with pytest.raises(GroupError, match="out of range"):
        group.permutation_matrix(120)


# ---------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------

def test_all_words_lists_every_word_once_in_order() -> None:
    group = parse_group("S3")
    words = all_words(group, 3)
    assert words.shape == (216, 3)
    assert len({tuple(w) for w in words}) == 216
    assert [tuple(w) for w in words] == sorted(tuple(w) for w in words)
    assert all_words(group, 0).shape == (1, 0)
    with pytest.raises(GroupError, match="1728000 words of length 3"):
        all_words(parse_group("S5"), 3)


def test_random_words_are_in_range_and_reproducible() -> None:
    group = parse_group("A5")
    first = random_words(group, 50, 7, np.random.default_rng(3))
    second = random_words(group, 50, 7, np.random.default_rng(3))
    assert first.shape == (50, 7) and np.array_equal(first, second)
    assert first.min() >= 0 and first.max() < group.order


def test_words_to_csv_round_trips(tmp_path) -> None:
    group = parse_group("A4xZ5")
    words = random_words(group, 5, 6, np.random.default_rng(4))
    targets = group.prefix_products(words)
    path = tmp_path / "words.csv"
    words_to_csv(words, targets, path)
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [list(map(int, row["input"].split())) for row in rows] == words.tolist()
    assert [list(map(int, row["target"].split())) for row in rows] == targets.tolist()
    with pytest.raises(GroupError, match="differ in count"):
        words_to_csv(words, targets[:2], path)
