"""Properties of the plan reader through the real `plan` command, over every fixture plan.

- The same plan in any layout (indentation, separators, key order, escaping) and any encoding Terraform output lands
  in (UTF-8, UTF-8 with a BOM, UTF-16 LE/BE with a BOM, UTF-32) gives the same resources, findings and exit code.
- A plan whose field the reader consumes has the wrong type or is missing gives exit 2, one line naming the file and
  that field, nothing written.
- Any other mutation (a value replaced, deleted or nested deeply; the bytes truncated or corrupted) never ends in a
  traceback: exit 2 with one line naming the file, or a report.
"""

from __future__ import annotations

import codecs
import copy
import json
import random
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from residency_audit.cli import app
from residency_audit.plan.file import MAX_DEPTH, where

PLANS = Path(__file__).parent / "fixtures" / "plans"
FIXTURES = ["aws", "azure", "gcp", "format-0.1", "format-0.2", "aws-graph", "aws-backup-policy"]
runner = CliRunner()
# Bounded and reproducible, so `make test` stays within its budget and a failure is the same on every machine.
SETTINGS = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "utf-8": lambda t: t.encode(),
    "utf-8 BOM": lambda t: codecs.BOM_UTF8 + t.encode(),
    "utf-16 LE BOM": lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
    "utf-16 BE BOM": lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
    "utf-32 BOM": lambda t: t.encode("utf-32"),
}
Path_ = tuple[str | int, ...]


def _run(path: Path, out: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["plan", str(path), "--profile", "eu-sovereign", "--format", "json", "-o", str(out)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"traceback for {path}") from result.exception
    return result.exit_code, result.stderr


def _verdict(code: int, out: Path) -> tuple[int, list[Any], list[Any], list[Any]]:
    data = json.loads(out.read_text())
    by_id = sorted(data["resources"], key=lambda r: r["id"])
    findings = sorted(data["findings"], key=lambda f: json.dumps(f, sort_keys=True))
    skipped = sorted(data["not_evaluated"], key=lambda n: json.dumps(n, sort_keys=True))
    return code, by_id, findings, skipped


@cache
def _baseline(name: str, workdir: Path) -> tuple[int, list[Any], list[Any], list[Any]]:
    out = workdir / f"{name}.baseline.json"
    code, _ = _run(PLANS / f"{name}.json", out)
    return _verdict(code, out)


def _plan(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PLANS / f"{name}.json").read_text())
    return data


def _reordered(value: Any, rnd: random.Random) -> Any:
    if isinstance(value, dict):
        keys = list(value)
        rnd.shuffle(keys)
        return {k: _reordered(value[k], rnd) for k in keys}
    if isinstance(value, list):
        return [_reordered(v, rnd) for v in value]
    return value


layouts = st.fixed_dictionaries(
    {
        "indent": st.sampled_from([None, 0, 1, 2, 4, "\t", " \t"]),
        "separators": st.sampled_from([None, (",", ":"), (", ", ": "), (" ,\n", " :\t")]),
        "ensure_ascii": st.booleans(),
        "sort_keys": st.booleans(),
    }
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plans")


@SETTINGS
@given(
    name=st.sampled_from(FIXTURES),
    layout=layouts,
    encoding=st.sampled_from(list(ENCODINGS)),
    rnd=st.randoms(use_true_random=False),
)
def test_any_layout_and_encoding_gives_the_same_report(
    workdir: Path, name: str, layout: dict[str, Any], encoding: str, rnd: random.Random
) -> None:
    text = json.dumps(_reordered(_plan(name), rnd), **layout)
    path, out = workdir / "plan.json", workdir / "report.json"
    path.write_bytes(ENCODINGS[encoding](text))
    code, stderr = _run(path, out)
    assert code != 2, stderr
    assert _verdict(code, out) == _baseline(name, workdir)


# --- mutations ---------------------------------------------------------------------------------------------------


def _paths(value: Any, at: Path_ = ()) -> Iterator[Path_]:
    yield at
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*at, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*at, i))


def _get(value: Any, at: Path_) -> Any:
    for step in at:
        value = value[step]
    return value


def _with(data: dict[str, Any], at: Path_, new: Any, *, delete: bool = False) -> dict[str, Any]:
    data = copy.deepcopy(data)
    parent = _get(data, at[:-1])
    if delete:
        del parent[at[-1]]
    else:
        parent[at[-1]] = new
    return data


_NAME = r"\.[^.\[]+"  # one map key (variables, provider configurations, module calls) without dots
_RES = r"\.resources(\[\d+\](\.(address|type|name|mode))?)?"
_PLANNED_MODULE = r"(planned_values\.root_module(\.child_modules\[\d+\])*)"
_CONFIG_MODULE = rf"configuration\.root_module(\.module_calls{_NAME}\.module)*"
# The fields the reader consumes, with the type Terraform writes: a wrong type there is named in the error.
TYPED = re.compile(
    "|".join(
        [
            r"format_version",
            rf"variables({_NAME})?",
            r"planned_values",
            rf"{_PLANNED_MODULE}({_RES}|\.child_modules(\[\d+\](\.address)?)?)?",
            r"resource_changes(\[\d+\](\.(address|type|name|mode|module_address|change(\.actions(\[\d+\])?)?))?)?",
            rf"configuration(\.provider_config({_NAME}(\.(name|alias|module_address|expressions))?)?)?",
            rf"{_CONFIG_MODULE}({_RES}|\.resources\[\d+\]\.(provider_config_key|expressions)|\.module_calls({_NAME})?)?",
        ]
    )
)
# Fields Terraform always writes; without them the plan is refused, naming the field.
REQUIRED = re.compile(
    rf"{_PLANNED_MODULE}\.resources\[\d+\]\.(address|type)|planned_values\.root_module(\.child_modules\[\d+\])+\."
    r"address|resource_changes\[\d+\]\.(address|type|change|change\.actions)"
)


def _wrong(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return ["x", 1, [], True]
    if isinstance(value, list):
        return ["x", 1.5, {}, None]
    return [1, [], {}, None, False]


def _expect_refused(path: Path, out: Path, field: str) -> None:
    code, stderr = _run(path, out)
    assert code == 2, (field, stderr)
    assert stderr.startswith(f"residency-audit: error: {path}: {field}: ") and stderr.count("\n") == 1, stderr
    assert not out.exists()


@SETTINGS
@given(name=st.sampled_from(FIXTURES), data=st.data())
def test_a_consumed_field_of_the_wrong_type_is_named(workdir: Path, name: str, data: st.DataObject) -> None:
    plan = _plan(name)
    typed = [p for p in _paths(plan) if p and TYPED.fullmatch(where(p))]
    at = data.draw(st.sampled_from(typed))
    new = data.draw(st.sampled_from(_wrong(_get(plan, at))))
    if at[-1] == "format_version" and isinstance(new, str):
        new = 1.2
    path, out = workdir / "plan.json", workdir / "mutated-report.json"
    out.unlink(missing_ok=True)
    path.write_text(json.dumps(_with(plan, at, new)))
    _expect_refused(path, out, where(at))


@SETTINGS
@given(name=st.sampled_from(FIXTURES), data=st.data())
def test_a_missing_required_field_is_named(workdir: Path, name: str, data: st.DataObject) -> None:
    plan = _plan(name)
    at = data.draw(st.sampled_from([p for p in _paths(plan) if p and REQUIRED.fullmatch(where(p))]))
    path, out = workdir / "plan.json", workdir / "mutated-report.json"
    out.unlink(missing_ok=True)
    path.write_text(json.dumps(_with(plan, at, None, delete=True)))
    _expect_refused(path, out, where(at))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@SETTINGS
@given(name=st.sampled_from(FIXTURES), data=st.data())
def test_any_mutation_is_a_report_or_one_line_exit_2_never_a_traceback(
    workdir: Path, name: str, data: st.DataObject
) -> None:
    plan = _plan(name)
    at = data.draw(st.sampled_from([p for p in _paths(plan) if p]))
    kind = data.draw(st.sampled_from(["replace", "delete", "nest", "truncate", "corrupt"]))
    path, out = workdir / "plan.json", workdir / "mutated-report.json"
    out.unlink(missing_ok=True)
    if kind in ("truncate", "corrupt"):
        raw = ENCODINGS[data.draw(st.sampled_from(list(ENCODINGS)))](
            json.dumps(plan, indent=data.draw(st.sampled_from([None, 2])))
        )
        cut = data.draw(st.integers(0, len(raw) - 2))
        raw = raw[:cut] if kind == "truncate" else raw[:cut] + bytes([data.draw(st.integers(0, 255))]) + raw[cut + 1 :]
    elif kind == "nest":
        deep = data.draw(st.integers(MAX_DEPTH, MAX_DEPTH + 20))
        raw = json.dumps(_with(plan, at, json.loads("[" * deep + json.dumps(_get(plan, at)) + "]" * deep))).encode()
    else:
        new = data.draw(json_values)
        raw = json.dumps(_with(plan, at, new, delete=kind == "delete" and isinstance(at[-1], str))).encode()
    path.write_bytes(raw)
    code, stderr = _run(path, out)
    if kind in ("truncate", "nest"):
        assert code == 2, stderr
    if code == 2:
        assert stderr.startswith(f"residency-audit: error: {path}: ") and stderr.count("\n") == 1, stderr
        assert not out.exists()
    else:
        assert code in (0, 1, 3), stderr
        assert json.loads(out.read_text())["source"]["kind"] == "plan"
