"""The plan-file front end: Terraform plans as they exist (formats 0.1, 0.2, 1.x; every encoding), bad input refused.

format-0.1.json is what Terraform 0.12 wrote (format 0.1: short provider names, no sensitive fields, a module's own
provider keyed by its path without "module.", module resources keyed `<call name>:<provider>`, and a nested module's
resources missing from planned_values as Terraform 0.12.0 left them); format-0.2.json what Terraform 1.0.1+ wrote
(0.2 adds `sensitive_values`; module provider keys "module.<path>:<provider>"). Both built by hand from the format
documentation and the conventions of hashicorp/terraform-json's recorded fixtures (basic, deep_module, 013_*, 110_*).
"""

from __future__ import annotations

import codecs
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from residency_audit.cli import app
from residency_audit.model import CopyRole
from residency_audit.plan.file import MAX_DEPTH, PlanError, document, parse
from residency_audit.plan.reader import read_plan

PLANS = Path(__file__).parent / "fixtures" / "plans"
P, R = CopyRole.PRIMARY, CopyRole.REPLICA
runner = CliRunner()


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PLANS / f"{name}.json").read_text())
    return data


def _places(data: dict[str, Any], name: str = "plan.json") -> dict[str, list[tuple[str, CopyRole]]]:
    resources, _ = read_plan(data, name)
    return {r.id: [(c.code, c.role) for c in r.footprint] for r in resources}


def _notes(data: dict[str, Any], address: str) -> list[str]:
    resources, _ = read_plan(data, "plan.json")
    return [c.note or "" for r in resources if r.id == address for c in r.footprint]


# --- formats 0.1 and 0.2 ----------------------------------------------------------------------------------------


def test_format_0_1_from_terraform_0_12_is_read_with_its_module_provider_keys() -> None:
    places = _places(_load("format-0.1"))
    assert places == {
        "aws_s3_bucket.main": [("us-east-1", P)],
        # the module's own provider block, keyed "archive:aws" with module_address "archive" by Terraform 0.12
        "module.archive.aws_s3_bucket.this": [("eu-west-1", P)],
        # no provider block of its own: the only aws configuration it could receive is the root's
        "module.logs.aws_s3_bucket.this[0]": [("us-east-1", P)],
        # absent from planned_values (as Terraform 0.12.0 left nested modules): read from its change, not dropped
        "module.archive.module.vault.aws_dynamodb_table.this": [("unknown", P)],
    }
    (note,) = _notes(_load("format-0.1"), "module.archive.module.vault.aws_dynamodb_table.this")
    assert "format_version 0.1 (Terraform before 1.2) do not record" in note and "2 could be it" in note


def test_format_0_2_from_terraform_1_0_is_read_with_its_module_provider_keys() -> None:
    places = _places(_load("format-0.2"))
    assert places == {
        "aws_s3_bucket.records": [("eu-central-1", P), ("us-east-1", R)],
        "aws_s3_bucket.records_dr": [("us-east-1", P)],
        "azurerm_storage_account.ledger": [("westeurope", P)],
        "module.legacy.aws_dynamodb_table.this": [("eu-west-1", P)],  # its own block: "module.legacy:aws"
        "module.shadow.aws_s3_bucket.this": [("unknown", P)],  # passed aws.us or inherited aws: the plan cannot say
    }


@pytest.mark.parametrize("version", ["0.1", "0.2", "1.0", "1.1", "1.2", "1.47"])
def test_every_0_x_and_1_x_version_is_read(version: str) -> None:
    data = _load("aws")
    data["format_version"] = version
    assert _places(data) == _places(_load("aws"))


@pytest.mark.parametrize(("version", "expected"), [("2.0", "is a newer major version"), ("10.3", "format 10.x"),
                                                   ("1", "is not a version"), ("", "is not a version"),
                                                   ("v1.2", "is not a version")])  # fmt: skip
def test_a_newer_major_version_or_no_version_is_refused_with_a_message_that_makes_sense(
    version: str, expected: str
) -> None:
    data = _load("aws")
    data["format_version"] = version
    with pytest.raises(PlanError, match="format_version") as raised:
        read_plan(data, "plan.json")
    assert expected in str(raised.value) and "upgrade residency-audit" not in str(raised.value)


def _modules(data: dict[str, Any], call: str, key: str, *, own: str | None = None) -> None:
    """Move aws_s3_bucket.records into module `call`, its resource key `key`, with an own provider block `own`."""
    config = data["configuration"]
    block = next(r for r in config["root_module"]["resources"] if r["address"] == "aws_s3_bucket.records")
    config["root_module"]["module_calls"][call] = {
        "source": "./x",
        "module": {"resources": [{**block, "provider_config_key": key}]},
    }
    config["root_module"]["resources"].remove(block)
    if own is not None:
        config["provider_config"][own] = {"name": "aws", "module_address": f"module.{call}",
                                          "expressions": {"region": {"constant_value": "ap-south-1"}}}  # fmt: skip
    change = next(c for c in data["resource_changes"] if c["address"] == "aws_s3_bucket.records")
    change.update(address=f"module.{call}.aws_s3_bucket.records", module_address=f"module.{call}")
    root = data["planned_values"]["root_module"]
    planned = next(r for r in root["resources"] if r["address"] == "aws_s3_bucket.records")
    root["resources"].remove(planned)
    planned["address"] = change["address"]
    root["child_modules"] = [*root.get("child_modules", []), {"address": f"module.{call}", "resources": [planned]}]


def test_an_old_module_key_is_resolved_to_the_modules_own_provider_block() -> None:
    data = _load("aws")
    data["format_version"] = "0.2"
    _modules(data, "vault", "vault:aws", own="module.vault:aws")
    assert _places(data)["module.vault.aws_s3_bucket.records"][0] == ("ap-south-1", P)


def test_an_old_module_key_is_never_guessed_among_several_configurations() -> None:
    data = _load("aws")  # three root aws configurations: aws, aws.eu, aws.archive
    data["format_version"] = "1.0"  # Terraform 1.1 still wrote call-name keys
    _modules(data, "vault", "vault:aws")
    before = copy.deepcopy(data)
    assert _places(data)["module.vault.aws_s3_bucket.records"][0] == ("unknown", P)
    assert data == before  # normalising copies: the caller's plan is not changed


@pytest.mark.parametrize(
    ("root", "module_address", "expected"),
    [
        (["aws"], None, "us-east-1"),  # the one configuration it could receive
        (["aws.eu"], None, "unknown"),  # or the root's implicit default, configured from the environment
        (["aws"], "vault/x", "unknown"),  # a module address spelt in a way not known here: nothing inferred
    ],
)
def test_an_old_module_key_is_inferred_only_when_one_configuration_is_possible(
    root: list[str], module_address: str | None, expected: str
) -> None:
    data = _load("aws")
    data["format_version"] = "0.1"
    providers = data["configuration"]["provider_config"]
    for key in set(providers) - set(root):
        del providers[key]
    if module_address is not None:
        providers["vault:aws"] = {"name": "aws", "module_address": module_address}
    _modules(data, "vault", "vault:aws")
    assert _places(data)["module.vault.aws_s3_bucket.records"][0] == (expected, P)


def test_a_1_1_plan_keeps_its_keys_as_terraform_wrote_them() -> None:
    data = _load("aws")
    _modules(data, "vault", "module.vault:aws")  # a 1.2 plan: a missing key is a missing key, not an old convention
    (note, *_) = _notes(data, "module.vault.aws_s3_bucket.records")
    assert note == "provider configuration module.vault:aws is not in the plan's configuration: region unknown"


def test_a_change_without_a_planned_values_counterpart_is_evaluated_from_its_after() -> None:
    data = _load("aws")
    whole = _places(data)
    resources = data["planned_values"]["root_module"]["resources"]
    resources[:] = [r for r in resources if r["address"] != "aws_dynamodb_table.sessions"]
    assert _places(data) == whole


# --- encodings ---------------------------------------------------------------------------------------------------

ENCODINGS = {
    "utf-8": lambda t: t.encode(),
    "utf-8 with BOM": lambda t: codecs.BOM_UTF8 + t.encode(),
    "utf-16 LE with BOM (PowerShell 5 >)": lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
    "utf-16 BE with BOM": lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
    "utf-16 LE without BOM": lambda t: t.encode("utf-16-le"),
    "utf-32 with BOM": lambda t: t.encode("utf-32"),
}


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_encoding_gives_the_same_report(encoding: str, tmp_path: Path) -> None:
    original = PLANS / "format-0.2.json"
    path = tmp_path / "plan.json"
    path.write_bytes(ENCODINGS[encoding](original.read_text()))
    expected = _invoke("plan", str(original), "--format", "json", "--profile", "eu-sovereign")
    got = _invoke("plan", str(path), "--format", "json", "--profile", "eu-sovereign")
    assert got[0] == expected[0] == 1
    assert json.loads(got[1])["resources"] == json.loads(expected[1])["resources"]


# --- bad input: one line naming the file and the field, exit 2, nothing written ------------------------------------


def _zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tfplan", b"\x00")
    return buffer.getvalue()


TEXT = (PLANS / "aws.json").read_text()
BAD: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "the file is empty"),
    "blank": (b"  \r\n\t", "the file is empty"),
    "binary tfplan": (
        _zip(),
        "binary plan file (what `terraform plan -out` writes), not its JSON form; run "
        "`terraform show -json plan.json > plan.json`",
    ),
    "truncated": (
        TEXT[:500].encode(),
        "not valid JSON: it ends at line 19 column 3 before the document is complete (truncated?)",
    ),
    "truncated between values": (TEXT[:2001].rsplit(",", 1)[0].encode() + b",", "(truncated?)"),
    "unquoted key": (
        b'{"format_version": "1.2", planned_values: {}}',
        "expected a property name in double quotes at line 1 column 27",
    ),
    "two documents": (b'{"format_version": "1.2"} {}', "more data after the end of the JSON document at line 1"),
    "NaN": (b'{"format_version": NaN}', "NaN is not a JSON value"),
    "huge number": (b'{"format_version": ' + b"9" * 5000 + b"}", "a number with more digits than any plan holds"),
    "latin-1": (TEXT.replace("acme-records", "acmé", 1).encode("latin-1"), "not UTF-8 text: invalid bytes at line 18"),
    "deeper than Python parses": (
        b'{"format_version": "1.2", "planned_values": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "line 1 column 244: nested more than",
    ),
    "deeper than a plan": (
        TEXT.replace('"team": "billing"', '"team": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH, 1).encode(),
        "planned_values.root_module.resources[0].values.tags.team[0].…: nested more than 200 levels deep",
    ),
    "lone surrogate": (
        TEXT.replace('"acme-records"', '"acme\\udc00"', 1).encode(),
        "planned_values.root_module.resources[0].values.bucket: a lone UTF-16 surrogate",
    ),
    "wrong type": (
        TEXT.replace('"actions": ["create"]', '"actions": "create"', 1).encode(),
        "resource_changes[0].change.actions: expected an array, got a string",
    ),
    "control character": (
        b'{"format_version": "1.2", "x": "a\tb"}',
        "a control character inside a string (it must be escaped) at line 1 column 34",
    ),
    "string never closed": (
        b'{"format_version": "1.2", "x": "abc',
        "it ends inside a string that starts at line 1 column 32 (truncated?)",
    ),
    "UTF-16 cut inside a character": (
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le")[:999],
        "UTF-16 LE text that ends inside a character at byte 1000 (truncated?)",
    ),
    "a list of plans": (b"[]", "top level: expected a JSON object (a Terraform plan), got an array"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_line_naming_the_file_exit_2_and_nothing_written(case: str, tmp_path: Path) -> None:
    raw, expected = BAD[case]
    path = tmp_path / "plan.json"
    path.write_bytes(raw)
    out = tmp_path / "report.json"
    code, stdout, stderr = _invoke("plan", str(path), "--format", "json", "-o", str(out))
    assert code == 2, stderr
    assert stderr.startswith(f"residency-audit: error: {path}: ") and stderr.count("\n") == 1, stderr
    assert expected in stderr and " at at " not in stderr
    assert not out.exists() and stdout == ""


def test_a_directory_is_not_read_as_a_plan(tmp_path: Path) -> None:
    code, _, stderr = _invoke("plan", str(tmp_path))
    assert code == 2 and f"{tmp_path}: cannot read" in stderr


def test_parse_and_document_are_the_steps_of_load() -> None:
    raw = (PLANS / "format-0.1.json").read_bytes()
    plan = document(parse(raw, "p.json"), "p.json")
    key = plan["configuration"]["root_module"]["module_calls"]["logs"]["module"]["resources"][0]["provider_config_key"]
    assert key == "aws"  # the root's: the one configuration module.logs could receive


def test_a_plan_piped_on_standard_input_is_read() -> None:
    raw = codecs.BOM_UTF16_LE + (PLANS / "format-0.1.json").read_text().encode("utf-16-le")
    result = runner.invoke(app, ["plan", "-", "--format", "json", "--profile", "eu-sovereign"], input=raw)
    assert result.exit_code == 1 and len(json.loads(result.stdout)["resources"]) == 4
