"""Streaming `check` and `diff` (issue 17) write exactly what the whole-report code wrote before.

tests/golden/check/ holds the outputs of `check --format …` and `diff` made by the last release's code on two
deterministic reports (tests/streaming_inputs.py) and a profile under which every rule fires. They depend on the
knowledge base: after an intended change, rerun with UPDATE_GOLDEN=1 and read the diff before committing.
"""

from __future__ import annotations

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
    code, _, err = _run(saved, "check", "old.json", "--profile", profile, "--format", fmt, "-o", f"check.{fmt}")
    assert code == 1, err
    _compare(f"check.{fmt}", (saved / f"check.{fmt}").read_bytes().decode())


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_diff_writes_what_it_always_wrote(saved: Path, fmt: str) -> None:
    profile = "profile.toml"
    for src, dst in (("old.json", "check.json"), ("new.json", "checknew.json")):
        _run(saved, "check", src, "--profile", profile, "--format", "json", "-o", dst)
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
    from residency_audit.reporters import sarif
    from residency_audit.rules import RULES

    rules = list(RULES)
    expected = json.dumps(sarif._result(f, rules, resource, uri), indent=2, sort_keys=True, ensure_ascii=False)
    assert sarif._result_text(f, rules, resource, uri) == expected.replace("\n", "\n        ")
