"""docs/ARCHITECTURES.md is exactly what `tc0lab check --arch all --markdown` generates, and the README links it."""
from pathlib import Path

import pytest
from click.testing import CliRunner

from tc0lab.check.table import DOCUMENT, REGENERATE
from tc0lab.cli import main
from tc0lab.spec import zoo

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    # the session's check cache (shared with tests/test_cli_check.py), never the user's
    monkeypatch.setenv("TC0LAB_CACHE", str(tmp_path_factory.getbasetemp() / "check-cache"))


def test_the_committed_table_is_what_the_code_generates(tmp_path):
    target = tmp_path / "ARCHITECTURES.md"
    result = CliRunner().invoke(main, ["check", "--arch", "all", "--markdown", "--output", str(target)])
    assert result.exit_code == 0, result.output
    generated, committed = target.read_text(encoding="utf-8"), (ROOT / DOCUMENT).read_text(encoding="utf-8")
    assert generated == committed, f"{DOCUMENT} is stale: regenerate it with `{REGENERATE}` and commit it"
    rows = [line.split(" | ")[0][2:] for line in generated.splitlines() if line.startswith("| ")][1:]
    assert rows == list(zoo.ARCHS)


def test_the_readme_links_the_table():
    assert f"({DOCUMENT})" in (ROOT / "README.md").read_text(encoding="utf-8")
