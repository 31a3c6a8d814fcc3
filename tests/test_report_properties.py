"""Property-based tests of the report reader, `check` and `diff` (issue 10): layout never changes a verdict.

Valid reports re-laid-out and re-encoded (indent, tabs, minified, keys in any order, ASCII escapes, CRLF) give the
same report back; mutated ones (a field removed or of the wrong type, counts that disagree, a cut, a lone
surrogate, deep nesting) give exit 2 with one line naming the file, never a traceback, and leave no file behind.
Examples are few and derandomised, so the suite stays fast and repeatable in CI.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from residency_audit.cli import app
from residency_audit.reportitems import _valid_assessment, _valid_resource

from .streaming_inputs import write

SETTINGS = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SCHEMA = json.loads((Path(__file__).parent.parent / "residency_audit" / "schema" / "report-v2.schema.json").read_text())


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small saved report (findings, skips, shared and unique footprints) and what `check` makes of it."""
    where = tmp_path_factory.mktemp("prop")
    write(where / "a.json", 14)
    write(where / "b.json", 16, shift=3, skips=1, drop=2)
    checked = {}
    for name in ("a", "b"):
        result = _invoke(where, "check", f"{name}.json", "--profile", "eu-sovereign", "--format", "json",
                         "-o", f"{name}-checked.json")  # fmt: skip
        checked[name] = (where / f"{name}-checked.json").read_text()
        assert result[0] == 1
    verdicts = {name: _invoke(where, "check", f"{name}.json", "--profile", "eu-sovereign", "--format", "json")
                for name in ("a", "b")}  # fmt: skip
    diff = _invoke(where, "diff", "a-checked.json", "b-checked.json")
    return {
        "dir": where,
        "a": json.loads((where / "a.json").read_text()),
        "checked": {k: json.loads(v) for k, v in checked.items()},
        "verdicts": {k: (code, _strip(json.loads(out))) for k, (code, out, _) in verdicts.items()},
        "diff": diff,
    }


def _invoke(where: Path, *args: str) -> tuple[int, str, str]:
    cwd = os.getcwd()
    os.chdir(where)
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout, result.stderr


def _strip(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "source"}


def _shuffle(value: Any, rng: random.Random) -> Any:
    """The same JSON with the keys of every object in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffle(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffle(v, rng) for v in value]
    return value


layouts = st.fixed_dictionaries(
    {
        "indent": st.sampled_from([None, 0, 1, 2, 4, "\t"]),
        "compact": st.booleans(),
        "ascii": st.booleans(),
        "shuffle": st.booleans(),
        "seed": st.integers(0, 2**16),
        "crlf": st.booleans(),
        "trailing": st.sampled_from(["", "\n", "\n\n  \t"]),
    }
)


def _lay_out(report: dict[str, Any], layout: dict[str, Any]) -> str:
    data = _shuffle(report, random.Random(layout["seed"])) if layout["shuffle"] else report
    separators = (",", ":") if layout["compact"] else None
    text = json.dumps(data, indent=layout["indent"], separators=separators, ensure_ascii=layout["ascii"])
    if layout["crlf"]:
        text = text.replace("\n", "\r\n")
    return text + layout["trailing"]


@SETTINGS
@given(layout=layouts)
def test_any_layout_gives_the_same_check(base: dict[str, Any], layout: dict[str, Any]) -> None:
    path = base["dir"] / "laid-out.json"
    path.write_text(_lay_out(base["a"], layout), encoding="utf-8")
    code, out, err = _invoke(base["dir"], "check", "laid-out.json", "--profile", "eu-sovereign", "--format", "json")
    assert (code, _strip(json.loads(out))) == base["verdicts"]["a"], err


@SETTINGS
@given(old=layouts, new=layouts)
def test_any_layout_gives_the_same_diff(base: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> None:
    for name, layout in (("a", old), ("b", new)):
        (base["dir"] / f"{name}-laid-out.json").write_text(_lay_out(base["checked"][name], layout), encoding="utf-8")
    code, out, err = _invoke(base["dir"], "diff", "a-laid-out.json", "b-laid-out.json")
    expected = base["diff"][1].replace("a-checked.json", "a-laid-out.json").replace("b-checked.json", "b-laid-out.json")
    assert (code, out) == (0, expected), err


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            out += _paths(v, (*prefix, i))
    return out


WRONG = [None, 7, -1, 1.5, True, "text", [], ["x"], {}, {"k": 1}]


def _mutate(report: dict[str, Any], choice: int, kind: str, wrong: int) -> tuple[str, bool]:
    """A mutated copy of the report as text, and whether it must be refused whatever the mutation hit."""
    data = json.loads(json.dumps(report))
    if kind == "cut":
        text = json.dumps(data, indent=2)
        return text[: choice % (len(text) - 1)], True
    if kind == "surrogate":
        text = json.dumps(data).replace('"name": "', '"name": "\\udc80', 1)
        return text, True
    if kind == "deep":
        return json.dumps(data)[:-1] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}", True
    if kind == "count":
        data["summary"]["resources"] += 1 + choice % 3
        return json.dumps(data, indent=1), True
    paths = [p for p in _paths(data) if p and p[0] in ("resources", "skipped", "summary", "started_at", "complete")]
    path = paths[choice % len(paths)]
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if kind == "drop" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = WRONG[wrong % len(WRONG)]
    text = json.dumps(data, indent=2)
    return text, False


@SETTINGS
@given(
    choice=st.integers(0, 10_000),
    kind=st.sampled_from(["drop", "retype", "cut", "surrogate", "deep", "count"]),
    wrong=st.integers(0, 20),
)
def test_mutated_reports_exit_2_with_one_line_and_leave_nothing(
    base: dict[str, Any], choice: int, kind: str, wrong: int
) -> None:
    text, must_fail = _mutate(base["a"], choice, kind, wrong)
    where = base["dir"] / f"mutated-{kind}"
    where.mkdir(exist_ok=True)
    for old in where.iterdir():
        old.unlink()
    (where / "m.json").write_text(text, encoding="utf-8")
    code, out, err = _invoke(where, "check", "m.json", "--profile", "eu-sovereign", "--format", "csv", "-o", "o.csv")
    assert "Traceback" not in out + err
    if code != 2:
        # a mutation the schema allows (an optional field dropped, a note retyped to null) is still a report
        assert not must_fail, err
        assert code in (0, 1, 3), err
        return
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("residency-audit: error: m.json"), err
    assert sorted(p.name for p in where.iterdir()) == ["m.json"]  # nothing written, no temporary file
    code, _, err = _invoke(where, "diff", "m.json", str(base["dir"] / "a.json"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


resource_mutations = st.tuples(st.integers(0, 10_000), st.integers(0, 20), st.booleans())


@SETTINGS
@given(mutation=resource_mutations)
def test_the_fast_item_check_agrees_with_the_published_schema(
    base: dict[str, Any], mutation: tuple[int, int, bool]
) -> None:
    choice, wrong, drop = mutation
    resource = json.loads(json.dumps(base["a"]["resources"][choice % len(base["a"]["resources"])]))
    paths = [p for p in _paths(resource) if p]
    path = paths[choice % len(paths)]
    parent = resource
    for key in path[:-1]:
        parent = parent[key]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = WRONG[wrong % len(WRONG)]
    validator = jsonschema.Draft202012Validator({"$ref": "#/$defs/resource", "$defs": SCHEMA["$defs"]})
    schema_ok = validator.is_valid(resource)
    fast_ok = _valid_resource(resource) and _valid_assessment(resource.get("assessment"))
    assert fast_ok == schema_ok, (path, resource)


def test_stdin_and_pipes_are_read_once(base: dict[str, Any]) -> None:
    """`check -` reads stdin, and a pipe (a shell's `<(…)`) is read once: both give the file's verdict."""
    import subprocess

    from .conftest import BIN

    text = _lay_out(base["a"], {"indent": 4, "compact": False, "ascii": True, "shuffle": True, "seed": 7,
                                "crlf": False, "trailing": "\n"})  # fmt: skip
    args = ["--profile", "eu-sovereign", "--format", "json"]
    piped = subprocess.run([BIN, "check", "-", *args], input=text.encode(), capture_output=True, check=False)
    assert (piped.returncode, _strip(json.loads(piped.stdout))) == base["verdicts"]["a"], piped.stderr
    read, write = os.pipe()
    with subprocess.Popen([BIN, "check", f"/dev/fd/{read}", *args], pass_fds=(read,), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:  # fmt: skip
        os.close(read)
        with os.fdopen(write, "wb") as fh:
            fh.write(text.encode())
        out, err = proc.communicate(timeout=120)
    assert (proc.returncode, _strip(json.loads(out))) == base["verdicts"]["a"], err


def test_a_late_fallback_to_the_general_reader_hands_each_item_over_once(tmp_path: Path) -> None:
    """A line the own-layout reader cannot split (its assessment not the last member) after lines it handed over:
    the general reader reads the file from the start and must not hand those over again."""
    from residency_audit import reportlayouts
    from residency_audit.reportfile import read

    path = tmp_path / "late.json"
    write(path, 4)
    lines = path.read_text(encoding="utf-8").split("\n")
    third = [i for i, line in enumerate(lines) if line.startswith("    {")][2]
    tags = lines[third].index(', "tags": ')
    cut = lines[third].index(', "assessment": ')
    end = -2 if lines[third].endswith(",") else -1
    lines[third] = lines[third][:tags] + lines[third][cut:end] + lines[third][tags:cut] + lines[third][end:]
    json.loads(lines[third].rstrip(","))  # still one valid resource
    path.write_text("\n".join(lines), encoding="utf-8")
    handed: list[str] = []
    with pytest.raises(reportlayouts.NotNative):
        reportlayouts.native(path, "late.json", lambda r: handed.append(r["id"]), None)
    assert handed  # the own-layout reader gave up after handing some resources over
    ids: list[str] = []
    findings: list[dict[str, Any]] = []
    read(path, "late.json", lambda r: ids.append(r["id"]), findings.append)
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert ids == [r["id"] for r in expected["resources"]]
    assert len(findings) == len(expected["findings"])
    _, out, err = _invoke(tmp_path, "check", "late.json", "--format", "json")
    assert [r["id"] for r in json.loads(out)["resources"]] == ids, err


def test_copies_with_their_own_keys_stay_on_the_own_layout_reader(tmp_path: Path) -> None:
    """Per-copy keys (a replica re-encrypted under another key) are read by the fast reader, as a parser reads them."""
    from residency_audit import reportlayouts

    path = tmp_path / "keys.json"
    write(path, 60, copy_keys=True)
    assert '"note": null, "key_control": "' in path.read_text(encoding="utf-8")
    fast: list[dict[str, Any]] = []
    general: list[dict[str, Any]] = []
    head = reportlayouts.native(path, "keys.json", fast.append, None)  # no NotNative: the fast path
    assert head == reportlayouts.generic(path, "keys.json", general.append, None)
    assert fast == general == json.loads(path.read_text(encoding="utf-8"))["resources"]
    assert any("key_control" in c for r in fast for c in r["footprint"])
