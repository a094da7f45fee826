"""The case table (tests/zoo_cases.py) has exactly one row per zoo architecture, and its rows agree with each other."""
from tc0lab.compiler import CONSTANT_DEPTH_CONSTRUCTIONS, CONSTRUCTIONS
from tc0lab.spec import zoo
from tests.zoo_cases import BY_ARCH, CASES


def test_every_zoo_architecture_has_exactly_one_row():
    names = [case.arch for case in CASES]
    assert len(names) == len(set(names)), "an architecture with two rows"
    missing = [arch for arch in zoo.ARCHS if arch not in BY_ARCH]
    assert not missing, f"add a ZooCase row to tests/zoo_cases.py for {', '.join(missing)}"
    stale = [name for name in names if name not in zoo.ARCHS]
    assert not stale, f"rows in tests/zoo_cases.py for architectures not in zoo.ARCHS: {', '.join(stale)}"


def test_the_illusion_rows_are_the_illusion_zoo():
    assert {case.arch for case in CASES if case.illusion} == set(zoo.ILLUSION_ARCHS)


def test_rows_name_constructions_whose_depth_class_is_their_growth():
    for case in CASES:
        assert case.construction in CONSTRUCTIONS, case
        assert (case.construction in CONSTANT_DEPTH_CONSTRUCTIONS) == (case.growth == "constant"), case
        if case.verdict == "TC0" and case.status == "constructed":  # the checker built the flat circuit
            assert case.growth == "constant", case
