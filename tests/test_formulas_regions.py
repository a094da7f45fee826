"""The region partitions of the size interpolation (tc0lab/formulas/interpolate.py): the architectures they
derive equal circuits built at (d, N) no partition ever samples, and the refusals name their reason."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from tc0lab.formulas import FormulaUnsupported
from tc0lab.formulas import interpolate
from tc0lab.formulas.general import cached_zoo_formulas
from tc0lab.spec import zoo
from tests.test_formulas import expected_formulas, general

# (L, d, N) per architecture derived by a partition other than the whole plane, away from every point sampled
HELD_OUT = {
    # d <= 2N folded (d <= N, and the wedge N < d <= 2N), d > 2N, d = 1 and N = 1 (lru holds from d = N = 1)
    "lru": ((2, 3, 7), (1, 7, 4), (2, 11, 3), (1, 1, 8), (2, 8, 1)),
    # the line N = 2 and N > 2 on both sides of d = N
    "longhorn": ((2, 8, 2), (1, 3, 8), (3, 8, 3)),
}
LENGTHS = (1, 3, 6)


def _sampled(arch: str) -> set[tuple[int, int]]:
    """Every (d, N) the derivation may build: grid and check points of every partition, and the domain lines."""
    points = {region.point(*key) for regions in interpolate.partitions(arch) for region in regions
              for key in region.grid()}
    points |= {point for regions in interpolate.partitions(arch) for region in regions for point in region.checks()}
    line = range(interpolate.LOW, interpolate.LOW + interpolate.DEGREE + 2)
    return points | {(1, state) for state in line} | {(width, 1) for width in line} | {(1, 1)}


def test_held_out_points_are_not_sampled() -> None:
    for arch, cases in HELD_OUT.items():
        assert not {(d, N) for _, d, N in cases} & _sampled(arch), arch


def test_the_fold_split_follows_the_real_state_size() -> None:
    """lru's complex diagonal is N (Re, Im) pairs: its kernel folds B up to d = 2N; s4 up to d = N; mamba's
    state d N depends on d (no fold line: the split stays at d = N)."""
    assert {arch: interpolate.fold_ratio(arch) for arch in ("lru", "s4", "mamba", "transformer")} == {
        "lru": 2, "s4": 1, "mamba": 1, "transformer": 1}
    below, _ = interpolate.fold_split(2)
    assert (8, 4) in below.checks() and (3, 2) in below.checks()  # the wedge's edges d = 2N and d = N + 1


def test_a_line_region_is_checked_one_step_beyond_in_d_only() -> None:
    line, rest = interpolate.FIRST_STATE_LINE
    assert [line.point(*key) for key in line.grid()] == [(2, 2), (3, 2), (4, 2), (5, 2)]
    assert line.checks() == [(6, 2)]
    assert rest.checks() == [(6, 3), (2, 7), (6, 7)]


@pytest.mark.parametrize("arch, regions", [("lru", ("d <= 2*N", "d > 2*N")), ("longhorn", ("N = 2", "N > 2"))])
def test_partitions_derive_formulas_equal_to_fresh_builds(arch: str, regions: tuple[str, str]) -> None:
    formulas = general(arch)
    assert all(f"{name} on a" in formulas.provenance or f"{name} on 4 points" in formulas.provenance
               for name in regions), formulas.provenance
    for layers, d, N in HELD_OUT[arch]:
        stack = zoo.stack(arch, layers, d, N, seed=13)
        for n in LENGTHS:
            assert formulas.at(n, 9, layers=layers, d_model=d, d_state=N) == expected_formulas(stack, n, 9), \
                (arch, layers, d, N, n)


@given(st.sampled_from(sorted(HELD_OUT)), st.integers(1, 3), st.integers(2, 9), st.integers(2, 7), st.integers(1, 7),
       st.integers(1, 12))
@settings(max_examples=12, deadline=None)
def test_partitioned_formulas_at_random_points(arch: str, layers: int, d: int, N: int, n: int, bits: int) -> None:
    stack = zoo.stack(arch, layers, d, N, seed=17)
    assert general(arch).at(n, bits, layers=layers, d_model=d, d_state=N) == expected_formulas(stack, n, bits)


@pytest.mark.parametrize("arch, reason", [
    ("hyena", "terms [n >= q] up to"),  # a kernel with one lag per register cell: sizes in min(n, N)
    ("pd-ssm", "the depth changes with d or N inside a region"),  # ceil(log2(N + 2)) levels of 'mul' per entry
])
def test_refusals_name_the_reason(arch: str, reason: str) -> None:
    with pytest.raises(FormulaUnsupported, match="disagree") as refusal:
        cached_zoo_formulas(arch)
    assert reason in str(refusal.value)
