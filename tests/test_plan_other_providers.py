"""Data stores declared through Microsoft's AzAPI provider or HashiCorp's AWS Cloud Control provider gate like any.

Red-team review (session 4): an `azapi_resource` names its ARM type in its `type` attribute
("Microsoft.Storage/storageAccounts@2023-01-01"), and `awscc_*` types are CloudFormation's (AWS::S3::Bucket is
awscc_s3_bucket). Both were "a type residency-audit does not know", which by design does not gate, so a storage
account in westus or a bucket in us-east-1 passed `--profile eu-sovereign` with exit 0. They are now the catalogue
types they declare: a data store the plan reader does not evaluate, with where the plan puts it (exit 3).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from residency_audit.cli import app

runner = CliRunner()


def _plan(rtype: str, values: dict[str, Any], provider: str | None = None) -> dict[str, Any]:
    res = {"address": f"{rtype}.x", "mode": "managed", "type": rtype, "name": "x", "values": values}
    change = {k: res[k] for k in ("address", "mode", "type", "name")} | {
        "change": {"actions": ["create"], "after": values, "after_unknown": {}}
    }
    plan: dict[str, Any] = {"format_version": "1.2", "planned_values": {"root_module": {"resources": [res]}},
                            "resource_changes": [change]}  # fmt: skip
    if provider:
        plan["configuration"] = {
            "provider_config": {provider: {"name": provider, "expressions": {
                "region": {"constant_value": "us-east-1"}}}},
            "root_module": {"resources": [{"address": f"{rtype}.x", "mode": "managed", "type": rtype, "name": "x",
                                           "provider_config_key": provider, "expressions": {}}]},
        }  # fmt: skip
    return plan


def _run(tmp_path: Path, plan: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["plan", str(tmp_path / "plan.json"), "--profile", "eu-sovereign", "--format",
                                 "json", "-o", str(out)])  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(out.read_text())


@pytest.mark.parametrize("rtype", ["azapi_resource", "azapi_update_resource"])
def test_an_azapi_storage_account_is_a_storage_account(tmp_path: Path, rtype: str) -> None:
    values = {"type": "Microsoft.Storage/storageAccounts@2023-01-01", "name": "sa", "location": "westus"}
    code, report = _run(tmp_path, _plan(rtype, values))
    assert code == 3
    (entry,) = report["not_evaluated"]
    assert (entry["address"], entry["type"], entry["location"]) == (
        f"{rtype}.x",
        "Microsoft.Storage/storageAccounts",
        "westus",
    )
    assert entry["category"] != "unknown-type"
    (row,) = report["coverage"]["types"]
    assert (row["type"], row["found"], row["assessed"]) == ("Microsoft.Storage/storageAccounts", 1, 0)


def test_an_azapi_type_the_catalogue_does_not_know_is_listed_by_its_arm_type(tmp_path: Path) -> None:
    values = {"type": "Microsoft.Contoso/widgets@2030-01-01", "name": "w", "location": "westus"}
    code, report = _run(tmp_path, _plan("azapi_resource", values))
    assert code == 0  # unknown types do not gate (by design), but they are counted and named
    (row,) = report["coverage"]["types"]
    assert (row["provider"], row["type"], row["category"]) == ("azure", "Microsoft.Contoso/widgets", "unknown-type")


def test_an_awscc_bucket_is_an_s3_bucket(tmp_path: Path) -> None:
    code, report = _run(tmp_path, _plan("awscc_s3_bucket", {"bucket_name": "b"}, provider="awscc"))
    assert code == 3
    (entry,) = report["not_evaluated"]
    assert (entry["type"], entry["location"]) == ("AWS::S3::Bucket", "us-east-1")
    row = next(t for t in report["coverage"]["types"] if t["type"] == "AWS::S3::Bucket")
    assert (row["provider"], row["found"], row["assessed"]) == ("aws", 1, 0)


def test_an_awscc_type_the_catalogue_does_not_know_is_still_counted(tmp_path: Path) -> None:
    code, report = _run(tmp_path, _plan("awscc_contoso_widget", {}, provider="awscc"))
    assert code == 0
    (row,) = report["coverage"]["types"]
    assert (row["provider"], row["type"], row["category"]) == ("aws", "awscc_contoso_widget", "unknown-type")
