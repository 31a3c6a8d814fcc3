"""The own-layout report reader against a strict JSON parser, on mutated bytes (hypothesis, derandomised).

The fast reader of residency-audit's own layout must accept only what RFC 8259 JSON accepts, and read it as a
JSON parser does: for any mutation of a saved report's item lines (a byte inserted, removed or replaced, a piece
duplicated, a line split), `check` either refuses the file with one line (exit 2) when it is not strict JSON, or
gives the same verdict and summary as the same JSON minified (which only the general reader reads). Never a
traceback. The red-team review found NaN/Infinity and UTF-8-encoded surrogates this way (tests/test_gate_inputs.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from residency_audit.cli import app

from .streaming_inputs import write

runner = CliRunner()
PIECES = [b",", b"{", b"}", b"[", b"]", b'"', b"\\", b":", b" ", b"\r", b"\n", b"0", b"-", b"e", b".", b"\x00",
          b'"assessment": ', b', "footprint": ']  # fmt: skip
VALUES = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999",
    b"99999999999999999999",
    b"-0",
    b"[]",
    b"{}",
    b"null",
    b'"x"',
]  # a new member's value
IN_STRING = [b"\xed\xa0\x80", b"\xc3", b"\xff", b"\\ud800", b"\\u0000", b"\x00", b"\x1b", b"\\"]  # fmt: skip


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("differential")
    write(where / "report.json", 8, skips=1)
    return where / "report.json"


def _check(path: Path) -> tuple[int, Any]:
    result = runner.invoke(app, ["check", str(path), "--profile", "eu-sovereign", "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        return 2, None
    out = json.loads(result.stdout)
    return result.exit_code, (out["summary"], out["complete"], len(out["findings"]))


def _strict(data: bytes) -> Any:
    """The value a strict JSON parser makes of `data`, or None when it is not RFC 8259 JSON in UTF-8."""

    def no_constant(name: str) -> Any:
        raise ValueError(name)

    try:
        return json.loads(data.decode("utf-8"), parse_constant=no_constant)
    except (ValueError, RecursionError):
        return None


@st.composite
def mutations(draw: st.DrawFn, text: bytes) -> bytes:
    lines = text.split(b"\n")
    items = [i for i, line in enumerate(lines) if line.startswith(b"    {")]
    for _ in range(draw(st.integers(1, 2))):
        i = draw(st.sampled_from(items))
        line = lines[i]
        at = draw(st.integers(0, len(line)))
        # what the fast reader could take where a strict parser does not (NaN, bytes that are not UTF-8) most often
        kinds = ["insert", "delete", "replace", "duplicate", "split", *["member"] * 3, *["in-string"] * 3]
        kind = draw(st.sampled_from(kinds))
        starts = [j + 1 for j in range(len(line)) if line[j : j + 1] == b"{"]
        texts = [j + 4 for j in range(len(line)) if line[j : j + 4] == b'": "']
        if kind == "member":  # a new first member of some object, its value a piece: `{"zz": NaN, …`
            at = draw(st.sampled_from(starts))
            line = line[:at] + b'"zz": ' + draw(st.sampled_from(VALUES)) + b", " + line[at:]
        elif kind == "in-string" and texts:  # a piece at the start of some string value
            at = draw(st.sampled_from(texts))
            line = line[:at] + draw(st.sampled_from(IN_STRING)) + line[at:]
        elif kind == "insert":
            line = line[:at] + draw(st.sampled_from(PIECES)) + line[at:]
        elif kind == "delete":
            line = line[:at] + line[at + draw(st.integers(1, 3)) :]
        elif kind == "replace":
            line = line[:at] + draw(st.sampled_from(PIECES)) + line[at + 1 :]
        elif kind == "duplicate":
            end = draw(st.integers(at, min(len(line), at + 60)))
            line = line[:end] + line[at:end] + line[end:]
        else:
            line = line[:at] + b"\n" + line[at:]
        lines[i] = line
    return b"\n".join(lines)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(data=st.data())
def test_the_own_layout_reader_agrees_with_a_strict_json_parser(report: Path, data: Any) -> None:
    where, text = report.parent, report.read_bytes()
    mutated = data.draw(mutations(text))
    path = where / "mutated.json"
    path.write_bytes(mutated)
    got = _check(path)
    value = _strict(mutated)
    try:  # a lone surrogate escape is JSON, but not text: the tool refuses it (issue 10)
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        value = None
    if value is None:
        assert got[0] == 2
        return
    # the same tokens on one line: not the own layout, so only the general reader reads it (JSON strings hold no
    # raw line break, so joining the lines changes nothing but the layout)
    minified = where / "one-line.json"
    minified.write_bytes(b" ".join(line.strip() for line in mutated.split(b"\n")))
    assert got == _check(minified)
