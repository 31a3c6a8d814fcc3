"""Coverage: every resource found is counted; a data-bearing one found but not assessed makes the result incomplete.

Live: Azure Resource Graph without a type filter (and Resource Manager's resource list without Graph) counts every
type; plans: data stores the reader does not evaluate are shown, with their planned location, in every format.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from residency_audit.catalogue import load as load_catalogue
from residency_audit.cli import app
from residency_audit.coverage import compute
from residency_audit.inventory import Found
from residency_audit.model import Provider, Resource

from .conftest import invoke_json, isolate_env
from .servers.azure import AzureEndpoint

S1 = "11111111-1111-4111-8111-111111111111"
PLANS = Path(__file__).parent / "fixtures" / "plans"
WESTUS = PLANS / "unevaluated-westus.json"
BOTH_PATHS = pytest.mark.parametrize("path_args", [[], ["--no-resource-graph"]], ids=["graph", "arm"])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[AzureEndpoint]:
    with AzureEndpoint() as ep:
        yield ep


@pytest.fixture
def azure(endpoint: AzureEndpoint, monkeypatch: pytest.MonkeyPatch) -> AzureEndpoint:
    endpoint.reset()
    isolate_env(monkeypatch, ["AZURE_"], endpoint.env(dict(os.environ)))
    return endpoint


def _estate(ep: AzureEndpoint) -> None:
    ep.add_subscription(S1, "production")
    ep.add_storage_account(S1, "euonly", "germanywestcentral", "Standard_LRS")
    ep._put(S1, "obs", "Microsoft.Insights/components", "appi-west", {"location": "westus", "properties": {}})
    ep._put(S1, "net", "Microsoft.Network/virtualNetworks", "vnet", {"location": "westus", "properties": {}})
    ep._put(S1, "odd", "Microsoft.Contoso/widgets", "w1", {"location": "westus", "properties": {}})


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _types(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["type"]: t for t in report["coverage"]["types"]}


@BOTH_PATHS
def test_azure_counts_every_type_and_an_unread_log_component_makes_it_incomplete(
    azure: AzureEndpoint, path_args: list[str]
) -> None:
    _estate(azure)
    code, report, err = invoke_json(["scan", "--provider", "azure", "--format", "json", *path_args])
    assert code == 3, err
    assert report["complete"] is False and report["skipped"] == []
    types = _types(report)
    storage = types["Microsoft.Storage/storageAccounts"]
    assert (storage["found"], storage["assessed"], storage["category"]) == (1, 1, "data-store")
    insights = types["Microsoft.Insights/components"]
    assert (insights["found"], insights["assessed"], insights["category"], insights["locations"]) == (
        1,
        0,
        "log",
        ["westus"],
    )
    assert types["Microsoft.Network/virtualNetworks"]["category"] == "not-data"
    # an unknown type keeps the engine's spelling (Resource Graph returns types lower-case)
    unknown = {k.lower(): v for k, v in types.items()}["microsoft.contoso/widgets"]
    assert (unknown["category"], unknown["found"]) == ("unknown-type", 1)
    summary = report["coverage"]["summary"]
    assert (summary["unassessed_data_bearing"], summary["unknown_types"]) == (1, 1)
    engine = "resource-manager" if path_args else "resource-graph"
    assert {(e["engine"], tuple(e["scopes"])) for e in report["coverage"]["engines"]} == {
        (engine, (f"subscription/{S1}",))
    }
    assert "1 data-bearing types not assessed: Microsoft.Insights/components (1)" in err


def test_graph_without_type_filter_costs_no_extra_request(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    for i in range(30):
        azure.add_storage_account(S1, f"acct{i}", "westeurope", "Standard_LRS")
        azure._put(S1, "net", "Microsoft.Network/networkInterfaces", f"nic{i}", {"location": "westeurope"})
    code, report, err = invoke_json(["scan", "--provider", "azure", "--format", "json"])
    assert code == 0, err
    # one subscription list, one Graph page of 60 rows (each account's object replication list is the store's own
    # reading, the same with or without the filter)
    inventory = {k: n for k, n in azure.counts.items() if not k[1].endswith("/objectReplicationPolicies")}
    assert sorted(inventory.values()) == [1, 1]
    assert _types(report)["Microsoft.Network/networkInterfaces"]["found"] == 30


def test_service_option_narrows_what_is_counted(azure: AzureEndpoint) -> None:
    _estate(azure)
    code, report, err = invoke_json(["scan", "--provider", "azure", "--service", "storage-account", "-f", "json"])
    assert code == 0, err
    assert list(_types(report)) == ["Microsoft.Storage/storageAccounts"]


def _profile(tmp_path: Path, accept: list[str]) -> Path:
    path = tmp_path / "accepting.toml"
    listed = ", ".join(json.dumps(a) for a in accept)
    text = f'name = "accepting"\naccept_unassessed = [{listed}]\n[viewpoint]\nhome = ["EU"]\n'
    text += 'trusted = [{state = "US", reason = "this test is about coverage, not reach"}]\n'
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "csv", "sarif", "junit", "html"])
def test_plan_whose_only_data_stores_are_unevaluated_is_incomplete_in_every_format(fmt: str) -> None:
    code, out, err = invoke("plan", str(WESTUS), "--profile", "eu-sovereign", "--format", fmt)
    assert code == 3, err
    for name in (
        "Microsoft.DBforPostgreSQL/servers",
        "Microsoft.Insights/components",
        "Microsoft.Sql/servers/databases",
    ):
        assert name in out, (fmt, name)
    assert "westus" in out
    if fmt == "json":
        report = json.loads(out)
        assert report["complete"] is False and report["summary"]["verdict"] == "incomplete"
        by_address = {n["address"]: n for n in report["not_evaluated"]}
        assert by_address["azurerm_application_insights.insights"]["location"] == "westus"
        assert by_address["azurerm_virtual_network.net"]["category"] == "not-data"


def test_profile_accepting_the_types_passes_and_records_it(tmp_path: Path) -> None:
    profile = _profile(
        tmp_path, ["azurerm_postgresql_server", "Microsoft.Insights/components", "azurerm_mssql_database"]
    )
    code, report, err = invoke_json(["plan", str(WESTUS), "--profile", str(profile), "--format", "json"])
    assert code == 0, err
    assert report["complete"] is True and report["summary"]["verdict"] == "pass"
    assert report["profile"]["accept_unassessed"] == [
        "azurerm_postgresql_server",
        "Microsoft.Insights/components",
        "azurerm_mssql_database",
    ]
    accepted = {t["type"] for t in report["coverage"]["types"] if t["accepted"]}
    assert accepted == {
        "Microsoft.DBforPostgreSQL/servers",
        "Microsoft.Insights/components",
        "Microsoft.Sql/servers/databases",
    }
    # accepting two of three still leaves the third incomplete
    partial = _profile(tmp_path, ["azurerm_postgresql_server", "azurerm_application_insights"])
    code, _, err = invoke("plan", str(WESTUS), "--profile", str(partial))
    assert code == 3 and "Microsoft.Sql/servers/databases (1)" in err


def test_profile_accepting_an_unknown_type_is_a_usage_error(tmp_path: Path) -> None:
    profile = _profile(tmp_path, ["azurerm_key_vault", "azurerm_flux_capacitor"])
    code, _, err = invoke("profiles", "validate", str(profile))
    assert code == 2 and "accept_unassessed" in err and "azurerm_flux_capacitor" in err


def test_check_keeps_the_coverage_of_the_saved_report(tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    code, out, _ = invoke("plan", str(WESTUS), "--format", "json")
    saved.write_text(out, encoding="utf-8")
    code, report, err = invoke_json(["check", str(saved), "--format", "json"])
    assert code == 3, err
    assert report["coverage"]["summary"]["unassessed_data_bearing"] == 3
    # the same content in another layout gives the same verdict
    relaid = tmp_path / "relaid.json"
    relaid.write_text(json.dumps(json.loads(out), indent=4), encoding="utf-8")
    assert invoke("check", str(relaid))[0] == 3


def test_found_never_below_assessed_and_part_of_store_does_not_gate() -> None:
    catalogue = load_catalogue()
    resources = [Resource.make(provider=Provider.AWS, type="AWS::S3::Bucket") for _ in range(2)]
    found = [
        Found(Provider.AWS, "walk", "account/1", "s3:bucket", 1),  # Resource Explorer's spelling
        Found(Provider.AWS, "walk", "account/1", "aws_s3_bucket_versioning", 4),
    ]
    coverage = compute(catalogue, resources, found)
    rows = {t.type: t for t in coverage.types}
    assert (rows["AWS::S3::Bucket"].found, rows["AWS::S3::Bucket"].assessed) == (2, 2)
    # one catalogue entry, named by its first Terraform type, counts all the bucket's settings resources
    settings = rows["aws_s3_bucket_replication_configuration"]
    assert (settings.name, settings.category, settings.found) == ("S3 bucket configuration", "part-of-store", 4)
    assert not coverage.incomplete
    missing = compute(catalogue, resources, [Found(Provider.AWS, "walk", "account/1", "AWS::S3::Bucket", 3)])
    assert missing.incomplete and missing.unassessed[0].missing == 1
    assert "not read by its store" in (missing.unassessed[0].reason or "")
