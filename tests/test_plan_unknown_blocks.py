"""A block list of copies known only after apply is an unknown copy in every plan reader, never no copy at all.

Red-team review (session 4): `Item.blocks()` gives [] for a value Terraform knows only after apply (a dynamic block
over a value computed in the same plan), so a reader that looped over it dropped every replica and the gate
passed on the primary alone: an azurerm_cosmosdb_account whose `geo_location` is unknown passed an EU-only
profile, and so does an aws_redshift_cluster whose inline `snapshot_copy` is. Every other reader checked below
already says "known after apply".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from residency_audit.cli import app

runner = CliRunner()
PROFILE = 'name = "eu-copies"\n[viewpoint]\nhome = ["EU"]\n[copies]\nallowed = ["EU"]\n[reach]\ncount = []\n'


def _plan(rtype: str, values: dict[str, Any], unknown: dict[str, Any], *extra: tuple[dict[str, Any], Any]) -> Any:
    own = {"address": f"{rtype}.x", "mode": "managed", "type": rtype, "name": "x", "values": values}
    resources = [(own, unknown), *extra]
    changes = [{k: r[k] for k in ("address", "mode", "type", "name")}
               | {"change": {"actions": ["create"], "after": r["values"], "after_unknown": u}}
               for r, u in resources]  # fmt: skip
    blocks = [{"address": r["address"], "mode": "managed", "type": r["type"], "name": r["name"],
               "provider_config_key": "aws", "expressions": {}} for r, _ in resources]  # fmt: skip
    return {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [r for r, _ in resources]}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "expressions": {"region": {"constant_value": "eu-central-1"}}}},
            "root_module": {"resources": blocks},
        },
    }


def _companion(rtype: str, values: dict[str, Any], unknown: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    return {"address": f"{rtype}.r", "mode": "managed", "type": rtype, "name": "r", "values": values}, unknown


def _configured(plan: Any, block: str) -> Any:
    """The plan with its first resource's configuration setting `block` (the expression Terraform writes for it)."""
    plan["configuration"]["root_module"]["resources"][0]["expressions"][block] = [{"rules": [{}]}]
    return plan


CASES = {
    "cosmos geo_location": _plan(
        "azurerm_cosmosdb_account",
        {"name": "c", "location": "westeurope", "backup": [{"type": "Continuous"}]},
        {"geo_location": True},
    ),
    "dynamodb replica": _plan("aws_dynamodb_table", {"name": "t"}, {"replica": True}),
    "secretsmanager replica": _plan("aws_secretsmanager_secret", {"name": "s"}, {"replica": True}),
    "acr georeplications": _plan(
        "azurerm_container_registry",
        {"name": "r", "location": "westeurope", "sku": "Premium"},
        {"georeplications": True},
    ),
    "gallery target_region": _plan(
        "azurerm_shared_image_version", {"name": "1.0.0", "location": "westeurope"}, {"target_region": True}
    ),
    "storage replication type": _plan(
        "azurerm_storage_account", {"name": "s", "location": "westeurope"}, {"account_replication_type": True}
    ),
    "gcs placement": _plan("google_storage_bucket", {"name": "b", "location": "EU"}, {"custom_placement_config": True}),
    "s3 replication rules": _plan(
        "aws_s3_bucket",
        {"bucket": "b"},
        {},
        _companion("aws_s3_bucket_replication_configuration", {"bucket": "b"}, {"rule": True}),
    ),
    "redshift snapshot_copy": _plan("aws_redshift_cluster", {"cluster_identifier": "c"}, {"snapshot_copy": True}),
    "s3 inline replication (provider v3)": _configured(
        _plan("aws_s3_bucket", {"bucket": "b"}, {"replication_configuration": True}), "replication_configuration"
    ),
    "backup copy_action": _plan(
        "aws_backup_vault",
        {"name": "v"},
        {},
        _companion(
            "aws_backup_plan",
            {"name": "p", "rule": [{"rule_name": "r", "target_vault_name": "v"}]},
            {"rule": [{"copy_action": True}]},
        ),
    ),
}


def _check(tmp_path: Path, plan: Any) -> tuple[int, list[tuple[str, str]]]:
    (tmp_path / "p.toml").write_text(PROFILE)
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["plan", str(tmp_path / "plan.json"), "--profile", str(tmp_path / "p.toml"),
                                 "--format", "json", "-o", str(out)])  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    report = json.loads(out.read_text())
    (resource,) = [r for r in report["resources"] if r["id"].endswith(".x")]
    return result.exit_code, [(c["location"], c["role"]) for c in resource["footprint"]]


@pytest.mark.parametrize("case", sorted(CASES))
def test_copies_known_after_apply_are_an_unknown_copy(tmp_path: Path, case: str) -> None:
    code, footprint = _check(tmp_path, CASES[case])
    assert code != 0
    assert "unknown" in {location for location, _ in footprint}


def test_the_computed_s3_replication_mirror_of_a_new_bucket_is_no_copy(tmp_path: Path) -> None:
    """Since AWS provider v4 `replication_configuration` is computed: unknown for every new bucket, set by none."""
    code, footprint = _check(tmp_path, _plan("aws_s3_bucket", {"bucket": "b"}, {"replication_configuration": True}))
    assert footprint == [("eu-central-1", "primary")]
    assert code != 2
