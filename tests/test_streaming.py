"""Streaming `check` and `diff` (issue 17) write exactly what the whole-report code wrote before.

tests/golden/check/ holds the outputs of `check --format …` and `diff` made by the last release's code on two
deterministic reports (tests/streaming_inputs.py) and a profile under which every rule fires. They depend on the
knowledge base: after an intended change, rerun with UPDATE_GOLDEN=1 and read the diff before committing.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from residency_audit.cli import app

from .streaming_inputs import write

GOLDEN = Path(__file__).parent / "golden" / "check"
FORMATS = ("table", "json", "sarif", "csv", "markdown", "junit")
# the law is read as it stood on the goldens' day: a report records that date (viewpoint.as_of), which would
# otherwise be today's, and the comparison would fail the day after the goldens were made
AS_OF = ("--as-of", "2026-11-29")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """old.json and new.json (raw scans) and check.json / checknew.json (checked with the golden profile)."""
    where = tmp_path_factory.mktemp("golden")
    write(where / "old.json", 240)
    write(where / "new.json", 250, shift=3, skips=2, drop=4)
    (where / "profile.toml").write_bytes((GOLDEN / "profile.toml").read_bytes())  # named relative, as a user would
    return where


def _run(where: Path, *args: str) -> tuple[int, str, str]:
    cwd = os.getcwd()
    os.chdir(where)  # the reports name their source by the relative path they were given
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout, result.stderr


def _compare(name: str, text: str) -> None:
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(text.encode())
    expected = golden.read_bytes().decode()
    assert text == expected, f"{name} differs from tests/golden/check/{name}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_check_writes_what_it_always_wrote(saved: Path, fmt: str) -> None:
    profile = "profile.toml"
    code, _, err = _run(saved, "check", "old.json", "--profile", profile, "--format", fmt, "-o", f"check.{fmt}", *AS_OF)
    assert code == 1, err
    _compare(f"check.{fmt}", (saved / f"check.{fmt}").read_bytes().decode())


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_diff_writes_what_it_always_wrote(saved: Path, fmt: str) -> None:
    profile = "profile.toml"
    for src, dst in (("old.json", "check.json"), ("new.json", "checknew.json")):
        _run(saved, "check", src, "--profile", profile, "--format", "json", "-o", dst, *AS_OF)
    code, out, err = _run(saved, "diff", "check.json", "checknew.json", "--format", fmt)
    assert code == 0, err
    _compare("diff.json" if fmt == "json" else "diff.txt", out)


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_WAIVER = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"resource": _TEXT, "rule": _TEXT, "reason": _TEXT, "expires": _TEXT, "expired": st.booleans()}
    ),
)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    f=st.fixed_dictionaries(
        {
            "rule": st.sampled_from(["RA001", "RA004", "RA999"]),
            "severity": st.sampled_from(["error", "note"]),
            "provider": st.one_of(st.none(), _TEXT),
            "account": _TEXT,
            "service": _TEXT,
            "resource": _TEXT,
            "name": st.one_of(st.just(""), _TEXT),
            "message": _TEXT,
            "reasons": st.lists(_TEXT, max_size=5),
            "title": _TEXT,
            "fingerprint": _TEXT,
            "waived": st.booleans(),
            "waiver": _WAIVER,
        },
    ),
    resource=st.one_of(
        st.none(), st.tuples(st.lists(_TEXT, max_size=3), st.one_of(st.none(), _TEXT), st.lists(_TEXT, max_size=3))
    ),
    uri=st.one_of(st.none(), _TEXT),
)
def test_a_sarif_result_is_written_as_json_dumps_writes_it(f: dict[str, Any], resource: Any, uri: str | None) -> None:
    """SARIF writes its results by hand (json.dumps with an indent is pure Python, 25,000 times): the same text."""
    from residency_audit.reporters import sarifresult
    from residency_audit.rules import RULES

    rules = list(RULES)
    result = sarifresult._result(f, rules, resource, uri)
    expected = json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False)
    assert sarifresult._result_text(f, rules, resource, uri) == expected.replace("\n", "\n        ")


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.lists(st.tuples(st.integers(-6, 1), st.text(max_size=4), st.text(max_size=4)), max_size=60))
def test_rows_sorted_on_disk_come_back_as_sorted_keeps_them(rows: list[tuple[int, str, str]]) -> None:
    """The spill the CSV and JUnit writers sort with: runs merged from disk, ties in arrival order, keys as text."""
    from residency_audit.reporters import spill

    sorted_rows = spill.Sorted()
    seen = spill.Seen()
    spill_every = spill.RUN
    try:
        spill.RUN = 7  # many runs, merged
        for i, (lv, a, b) in enumerate(rows):
            sorted_rows.add(chr(0x40 + lv) + spill.text_key(a, b), i)
            assert seen.add((a, b)) or (a, b) not in {(x, y) for _, x, y in rows[:i]}
            assert seen.add((a, b))  # once noted, always "maybe"
        assert [i for _, i in sorted_rows.keyed()] == sorted(range(len(rows)), key=lambda i: (rows[i], i))
    finally:
        spill.RUN = spill_every
        sorted_rows.close()


def test_csv_rows_of_one_id_list_every_finding_on_it() -> None:
    """Two resources with one id (at different levels) and a finding raised at the end: each row lists them all."""
    from residency_audit.reporters import csv_report

    def resource(level: str) -> dict[str, Any]:
        return {"provider": "aws", "account": "a", "service": "s3", "type": "T", "id": "dup", "name": "n",
                "footprint": [], "countries": [], "key_control": "unknown", "assessment": {"level": level}}  # fmt: skip

    writer = csv_report.Writer()
    writer.resource(resource("high"))
    writer.finding({"provider": "aws", "account": "a", "resource": "dup", "rule": "RA001", "waived": False})
    writer.resource({**resource("low"), "id": "other"})
    writer.resource(resource("low"))
    writer.finding({"provider": "aws", "account": "a", "resource": "dup", "rule": "RA002", "waived": True})
    writer.finding({"provider": "aws", "account": "a", "resource": "dup", "rule": "RA005", "waived": False})
    out = io.StringIO()
    writer.write(out, {})
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert [(r[4], r[10], r[13], r[14]) for r in rows[1:4]] == [
        ("dup", "high", "RA001 RA005", "RA002"), ("dup", "low", "RA001 RA005", "RA002"), ("other", "low", "", "")
    ]  # fmt: skip
