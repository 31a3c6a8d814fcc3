"""The worked examples in docs/exposure-model.md are real: each row is run and checked."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from residency_audit.cli import app

DOC = Path(__file__).parent.parent / "docs" / "exposure-model.md"
ROW = re.compile(r"^\| `(explain [^`]+)` \| (\w+) \| ([A-Z, -]+) \|")
GRID_ROW = re.compile(r"^\| (territorial|operator|parent|regime) \| (partner|other) \| (\w+) \| (\w+) \| (\w+) \|$")
ROWS = [m.groups() for line in DOC.read_text().splitlines() if (m := ROW.match(line))]


def test_the_doc_has_examples() -> None:
    assert len(ROWS) >= 8


@pytest.mark.parametrize(("command", "level", "reach"), ROWS)
def test_worked_example(command: str, level: str, reach: str) -> None:
    result = CliRunner().invoke(app, [*shlex.split(command), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assessment = json.loads(result.stdout)["assessment"]
    assert assessment["level"] == level
    assert assessment["foreign_reach"] == [s.strip() for s in reach.split(",")]


def test_the_documented_grid_is_the_code_grid() -> None:
    from residency_audit.classify import GRID

    rows = [m.groups() for line in DOC.read_text().splitlines() if (m := GRID_ROW.match(line))]
    documented = {(basis, tier): tuple(levels) for basis, tier, *levels in rows}
    assert documented == {key: tuple(str(level) for level in levels) for key, levels in GRID.items()}


def test_china_cites_its_own_territorial_law() -> None:
    result = CliRunner().invoke(app, ["explain", "aws:cn-north-1", "--format", "json"])
    reasons = "\n".join(json.loads(result.stdout)["assessment"]["reasons"])
    assert "Data Security Law" in reasons and "National Intelligence Law" in reasons
