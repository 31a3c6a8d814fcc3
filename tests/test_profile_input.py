"""The profile reader under hostile and unusual input (issue #10): bundled names never shadowed by files,
validation that names the file and field, and property-based tests over layouts and mutations."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from residency_audit import report
from residency_audit.classify import viewpoint
from residency_audit.cli import app
from residency_audit.knowledge import load
from residency_audit.model import Copy, CopyRole, KeyControl, Provider, Resource
from residency_audit.pipeline import ScanResult, assess_all, locate
from residency_audit.policy import apply_overrides, evaluate, verdict
from residency_audit.profiles import ProfileError, parse

WAIVE_ALL = 'name = "eu-sovereign"\n[[waiver]]\nresource = "*"\nreason = "x"\nexpires = 2099-01-01\n'


@contextmanager
def cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def saved_report(tmp_path: Path) -> Path:
    kb = load()
    r = Resource(
        Provider.AWS, "1", "s3", "AWS::S3::Bucket", "arn:aws:s3:::far", "far", (Copy("us-east-1", CopyRole.PRIMARY),)
    )
    view = viewpoint(kb, ["EEA"])
    now = datetime.now(UTC)
    path = tmp_path / "r.json"
    result = ScanResult(tuple(assess_all(kb, locate(kb, [r]), view)), ())
    path.write_text(json.dumps(report.build(result, view, report.Meta("scan", None, now, now))))
    return path


# --- a bare name is the bundled profile, never a file in the working directory ---------------------------------


def test_a_file_named_like_a_bundled_profile_cannot_shadow_it(tmp_path: Path) -> None:
    rep = saved_report(tmp_path)
    (tmp_path / "eu-sovereign").write_text(WAIVE_ALL)
    with cwd(tmp_path):
        ambiguous = CliRunner().invoke(app, ["check", str(rep), "--profile", "eu-sovereign"])
        assert ambiguous.exit_code == 2 and "ambiguous" in ambiguous.stderr and "./eu-sovereign" in ambiguous.stderr
        explicit = CliRunner().invoke(app, ["check", str(rep), "--profile", "./eu-sovereign"])
        assert explicit.exit_code == 0  # the user said "this file", and it waives everything
    (tmp_path / "eu-sovereign").unlink()
    (tmp_path / "eu-sovereign.toml").write_text(WAIVE_ALL)
    with cwd(tmp_path):
        assert CliRunner().invoke(app, ["check", str(rep), "--profile", "eu-sovereign"]).exit_code == 2
        assert CliRunner().invoke(app, ["check", str(rep), "--profile", "eu-sovereign.toml"]).exit_code == 0


def test_a_bare_name_that_is_only_a_file_says_how_to_use_it(tmp_path: Path) -> None:
    (tmp_path / "mine").write_text('name = "mine"\n')
    with cwd(tmp_path):
        result = CliRunner().invoke(app, ["profiles", "validate", "mine"])
    assert result.exit_code == 2 and "no bundled profile named 'mine'" in result.stderr and "./mine" in result.stderr


def test_the_bundled_profile_is_used_when_nothing_shadows_it(tmp_path: Path) -> None:
    rep = saved_report(tmp_path)
    with cwd(tmp_path):
        assert CliRunner().invoke(app, ["check", str(rep), "--profile", "eu-sovereign"]).exit_code == 1


# --- validation: one line naming file and field, exit 2 ---------------------------------------------------------

OVERRIDE = '[[override]]\nlocation = "azure:brazilsouth"\nfield = "{field}"\nvalue = {value}\nreason = "r"\n'

BAD = [
    ('name = "x"\n[viewpoint]\nhome = []\n', "viewpoint.home", "is empty"),
    ('name = "x"\n' + OVERRIDE.format(field="city", value="5"), "override[0].value", "takes a string"),
    ('name = "x"\n' + OVERRIDE.format(field="paired_region", value='["x"]'), "override[0].value", "takes a string"),
    ('name = "x"\n' + OVERRIDE.format(field="operator", value='["azure"]'), "override[0].value", "takes a string"),
    ('name = "x"\n' + OVERRIDE.format(field="operator", value='"nobody"'), "override[0].value", "not a known operator"),
    ('name = "x"\n' + OVERRIDE.format(field="paired_region", value='"brazilsouth"'), "override[0].value",
     "its own pair"),
    ('name = "x"\n' + OVERRIDE.format(field="countries", value='"BR"'), "override[0].value", "must be a list"),
    ('name = "x"\n' + OVERRIDE.format(field="city", value='"A"') + OVERRIDE.format(field="city", value='"B"'),
     "override[1]", "again"),
    ('name = "x"\n[[waiver]]\nresource = "*"\nreason = "r"\nexpires = 2027-01-31T10:00:00\n', "waiver[0].expires",
     "not a date-time"),
    ('name = "x"\n[[waiver]]\nresource = "*"\nreason = "r"\nexpires = 10:00:00\n', "waiver[0].expires",
     "not a date-time"),
    ('name = "x"\nviewpoint = 3\n', "viewpoint", "must be a table"),
    ('name = "x"\n[keys]\nreading = "loose"\n', "keys.reading", "must be one of"),
    ('name = "x"\n[grade.regime.other]\nheavy = "unknown"\n', "grade.regime.other.heavy", "must be none"),
    ("a = " + "[" * 5000 + "]" * 5000 + "\n", "", "nested too deeply"),
    ('name = "x"\nb = ' + "{a = " * 3000 + "1" + "}" * 3000 + "\n", "", "nested too deeply"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "field", "message"), BAD)
def test_bad_profile_is_one_line_naming_file_and_field(tmp_path: Path, text: str, field: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["profiles", "validate", str(path)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and str(path) in result.stderr and field in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --- properties: the same content in any TOML layout gives the same verdict; mutations never crash -------------

_KB = load()
_RESOURCES = (
    Resource(Provider.AWS, "1", "s3", "T", "arn:aws:s3:::eu", "eu", (Copy("eu-central-1", CopyRole.PRIMARY),)),
    Resource(Provider.AWS, "1", "s3", "T", "arn:aws:s3:::us", "us", (Copy("us-east-1", CopyRole.PRIMARY),)),
    Resource(
        Provider.AWS,
        "1",
        "s3",
        "T",
        "arn:aws:s3:::ext",
        "legacy-ext",
        (Copy("eu-west-1", CopyRole.PRIMARY), Copy("eu-west-2", CopyRole.REPLICA)),
        KeyControl.EXTERNAL,
    ),
)

_states = st.lists(st.sampled_from(["EEA", "EU", "DE", "FR", "US", "CH", "GB", "EU-ADEQUACY"]), min_size=1, max_size=3,
                   unique=True)  # fmt: skip
_profiles = st.fixed_dictionaries(
    {"name": st.just("prop")},
    optional={
        "viewpoint": st.fixed_dictionaries(
            {"home": _states.map(lambda s: [x for x in s if x != "EU-ADEQUACY"] or ["EEA"])},
            optional={
                "trusted": st.lists(st.sampled_from(["CH", "GB", "JP"]), max_size=2, unique=True).map(
                    lambda xs: [{"state": x, "reason": f"why {x}"} for x in xs]
                )
            },
        ),
        "copies": st.fixed_dictionaries(
            {}, optional={"allowed": _states, "severity": st.sampled_from(["error", "warning", "note"])}
        ),
        "reach": st.fixed_dictionaries(
            {},
            optional={
                "count": st.lists(st.sampled_from(["territorial", "operator", "parent", "regime"]), unique=True),
                "key_control": st.lists(st.sampled_from(["external", "client-side"]), unique=True),
                "severity": st.sampled_from(["error", "warning"]),
            },
        ),
        "exposure": st.fixed_dictionaries({"max_level": st.sampled_from(["none", "low", "medium", "high"])}),
        "keys": st.fixed_dictionaries({}, optional={"custody": _states}),
        "waiver": st.lists(
            st.fixed_dictionaries(
                {
                    "resource": st.sampled_from(["legacy-*", "*", "us"]),
                    "reason": st.just("r"),
                    "expires": st.dates().map(lambda d: d.isoformat()),
                    "rule": st.sampled_from(["*", "RA001", "RA002", "RA003"]),
                }
            ),
            max_size=2,
        ),
    },
)


def _value(v: Any) -> str:
    if isinstance(v, str):
        return v if _is_date(v) else json.dumps(v)  # JSON strings are TOML basic strings
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def _is_date(v: str) -> bool:
    return len(v) == 10 and v[4] == "-" and v[7] == "-" and v.replace("-", "").isdigit()


def to_toml(doc: dict[str, Any], layout: int, spaces: str) -> str:
    """One profile in one of several TOML layouts: tables, dotted keys, inline tables, reordered, commented."""
    scalars = [(k, v) for k, v in doc.items() if not isinstance(v, dict | list)]
    tables = [(k, v) for k, v in doc.items() if isinstance(v, dict)]
    arrays = [(k, v) for k, v in doc.items() if isinstance(v, list)]
    if layout % 2:
        tables.reverse()
    out = [f"# layout {layout}"] + [f"{k}{spaces}={spaces}{_value(v)}" for k, v in scalars]
    for k, v in tables:
        if layout == 0:
            out.append(f"[{k}]")
            out += [f"{kk}{spaces}={spaces}{_value(vv)}" for kk, vv in v.items()]
        elif layout in (1, 3):
            out += [f"{k}.{kk}{spaces}={spaces}{_value(vv)}  # dotted" for kk, vv in v.items()]
        else:
            out.append(f"{k}{spaces}={spaces}{_value(v)}")
    for k, items in arrays:
        if layout >= 2:
            out.append(f"{k} = [\n" + ",\n".join("  " + _value(i) for i in items) + (",\n" if items else "") + "]")
        else:
            for item in items:
                out.append(f"[[{k}]]")
                out += [f"{kk}{spaces}={spaces}{_value(vv)}" for kk, vv in item.items()]
    # a document whose arrays of tables come before plain keys would be misread: keep the tables after scalars
    return "\n".join(out) + "\n"


def outcome(text: str) -> tuple[str, tuple[tuple[str, str, str, bool], ...]] | str:
    import tomllib

    try:
        prof = parse(tomllib.loads(text), _KB, source="prop", at=datetime(2026, 11, 29).date())
    except ProfileError as exc:
        return "error: " + str(exc).split(": ", 1)[-1]
    kb = apply_overrides(_KB, prof)
    view = viewpoint(kb, prof.home, prof.trusted, at=datetime(2026, 11, 29).date(), reading=prof.reading)
    found = evaluate(assess_all(kb, locate(kb, _RESOURCES), view), prof, kb, datetime(2026, 11, 29).date())
    decision, _ = verdict(found, incomplete=False)
    return decision, tuple(sorted((f.resource_name, f.rule, f.severity, f.waived) for f in found))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=_profiles, layouts=st.lists(st.integers(0, 3), min_size=2, max_size=2), spaces=st.sampled_from([" ", "", "\t"])
)
def test_same_content_in_any_layout_gives_the_same_verdict(
    doc: dict[str, Any], layouts: list[int], spaces: str
) -> None:
    first, second = (to_toml(doc, layout, spaces) for layout in layouts)
    assert outcome(first) == outcome(second)


_GOOD = to_toml(
    {
        "name": "m",
        "viewpoint": {"home": ["EEA"], "trusted": [{"state": "CH", "reason": "r"}]},
        "copies": {"allowed": ["EEA"]},
        "keys": {"custody": ["DE"]},
        "waiver": [{"resource": "legacy-*", "reason": "r", "expires": "2027-01-01", "rule": "*"}],
    },
    0,
    " ",
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cuts=st.lists(
        st.tuples(st.integers(0, len(_GOOD)), st.integers(0, 12), st.text(max_size=6)), min_size=1, max_size=3
    )
)
def test_a_mutated_profile_is_valid_or_one_line_exit_2_never_a_traceback(
    tmp_path_factory: pytest.TempPathFactory, cuts: list[tuple[int, int, str]]
) -> None:
    text = _GOOD
    for at, drop, insert in cuts:
        at = min(at, len(text))
        text = text[:at] + insert + text[at + drop :]
    path = tmp_path_factory.mktemp("m") / "m.toml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    result = CliRunner().invoke(app, ["profiles", "validate", str(path)])
    assert result.exit_code in (0, 2), (text, result.output, result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert str(path) in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
