"""`residency-audit scan --provider azure` against a local Resource Manager over real HTTPS (tests/servers/azure.py).

Credentials go through the unchanged DefaultAzureCredential: AZURE_TOKEN_CREDENTIALS=AzureCliCredential and a
stand-in `az` on PATH. Nothing in the azure SDKs is patched.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import BIN, by_name, invoke_json, isolate_env, places
from .servers.azure import AzureEndpoint

S1 = "11111111-1111-4111-8111-111111111111"
S2 = "22222222-2222-4222-8222-222222222222"
S3 = "33333333-3333-4333-8333-333333333333"
GRAPH = ("POST", "/providers/Microsoft.ResourceGraph/resources")
BOTH_PATHS = pytest.mark.parametrize("path_args", [[], ["--no-resource-graph"]], ids=["graph", "arm"])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[AzureEndpoint]:
    with AzureEndpoint() as ep:
        yield ep


@pytest.fixture
def azure(endpoint: AzureEndpoint, monkeypatch: pytest.MonkeyPatch) -> AzureEndpoint:
    """An empty endpoint, and this process's environment pointing the tool at it (never at a real tenant)."""
    endpoint.reset()
    isolate_env(monkeypatch, ["AZURE_"], endpoint.env(dict(os.environ)))
    return endpoint


def scan(*args: str) -> tuple[int, dict[str, Any], str]:
    return invoke_json(["scan", "--provider", "azure", "--format", "json", *args])


def seed_estate(ep: AzureEndpoint) -> dict[str, str]:
    """Every kind of data store, in two subscriptions: the scenarios of issue 4."""
    ep.add_subscription(S1, "production")
    ep.add_subscription(S2, "analytics")
    ids = {
        "br-grs": ep.add_storage_account(
            S1, "brgrs", "brazilsouth", "Standard_GRS", secondary_location="southcentralus"
        ),
        "ne-ragrs": ep.add_storage_account(
            S1,
            "neragrs",
            "northeurope",
            "Standard_RAGRS",
            secondary_location="westeurope",
            tags={"data-classification": "personal"},
        ),
        "it-lrs": ep.add_storage_account(S1, "itlrs", "italynorth", "Standard_LRS"),
        "we-gzrs": ep.add_storage_account(
            S2,
            "wegzrs",
            "westeurope",
            "Standard_GZRS",
            secondary_location="francecentral",
            key_source="Microsoft.Keyvault",
        ),
        "cosmos": ep.add_cosmosdb(S1, "orders", ["West Europe", "North Europe", "East US"]),
    }
    weu = ep.add_sql_server(S1, "sql-weu", "westeurope")
    eus = ep.add_sql_server(S1, "sql-eus", "eastus", cmk=True)
    app_db = ep.add_sql_database(weu, "app", "westeurope", backup="Geo")
    app_copy = ep.add_sql_database(eus, "app", "eastus", backup="Local")
    ep.add_failover_group(weu, "app-fg", eus, [app_db])
    ep.add_replication_link(app_db, app_copy)
    ids["sql-app"], ids["sql-app-copy"] = app_db, app_copy
    ids["sql-local"] = ep.add_sql_database(weu, "reports", "westeurope", backup="Zone")
    pg = ep.add_flexible_server("postgresql", S1, "pg-main", "westeurope", geo_backup=True)
    ids["pg"] = pg
    ids["pg-replica"] = ep.add_flexible_server("postgresql", S1, "pg-replica", "swedencentral", source=pg)
    ids["mysql"] = ep.add_flexible_server("mysql", S2, "mysql-cmk", "germanywestcentral", cmk=True)
    ids["disk"] = ep.add_disk(S2, "vm-os-disk", "westeurope")
    ids["snapshot"] = ep.add_disk(S2, "nightly", "eastus", snapshot=True, customer_key=True)
    return ids


# --- what is found ---------------------------------------------------------------------------------------------


@BOTH_PATHS
def test_storage_accounts_geo_pairs_and_keys(azure: AzureEndpoint, path_args: list[str]) -> None:
    azure.add_subscription(S1)
    azure.add_storage_account(S1, "brgrs", "brazilsouth", "Standard_GRS", secondary_location="southcentralus")
    azure.add_storage_account(S1, "neragrs", "northeurope", "Standard_RAGRS", secondary_location="westeurope")
    azure.add_storage_account(S1, "itlrs", "italynorth", "Standard_LRS", tags={"data-classification": "secret"})
    azure.add_storage_account(
        S1,
        "wegzrs",
        "westeurope",
        "Standard_GZRS",
        secondary_location="francecentral",
        key_source="Microsoft.Keyvault",
    )
    azure.add_storage_account(S1, "nosecondary", "northeurope", "Standard_GRS")  # API gives no secondaryLocation
    azure.add_storage_account(S1, "unpaired", "italynorth", "Standard_RAGZRS")  # neither API nor pair
    azure.add_storage_account(
        S1, "clientside", "westeurope", "Standard_LRS", tags={"residency:encryption": "client-side"}
    )
    code, report, err = scan(*path_args)
    assert code == 0, (report.get("skipped"), err)
    r = by_name(report)
    assert places(r["brgrs"]) == [("brazilsouth", "primary"), ("southcentralus", "replica")]
    assert r["brgrs"]["countries"] == ["BR", "US"]
    assert r["brgrs"]["assessment"]["level"] == "critical"
    assert "secondary region reported by the API" in r["brgrs"]["footprint"][1]["note"]
    assert places(r["neragrs"]) == [("northeurope", "primary"), ("westeurope", "replica")]
    assert places(r["itlrs"]) == [("italynorth", "primary")]
    assert r["itlrs"]["classification"] == "secret"
    # the API's secondary is kept, and the disagreement with the knowledge base's pair is a note on the copy
    assert places(r["wegzrs"]) == [("westeurope", "primary"), ("francecentral", "replica")]
    note = r["wegzrs"]["footprint"][1]["note"]
    assert "knowledge base pairs westeurope with northeurope, not francecentral" in note
    assert r["wegzrs"]["key_control"] == "customer-managed"
    assert r["brgrs"]["key_control"] == "provider-managed"
    assert places(r["nosecondary"]) == [("northeurope", "primary"), ("westeurope", "replica")]
    assert "reported no secondaryLocation" in r["nosecondary"]["footprint"][1]["note"]
    assert "knowledge base" in r["nosecondary"]["footprint"][1]["note"]
    assert places(r["unpaired"]) == [("italynorth", "primary"), ("unknown", "replica")]
    assert r["unpaired"]["footprint"][1]["known"] is False
    assert r["unpaired"]["assessment"]["level"] == "unknown"
    assert r["clientside"]["key_control"] == "client-side"

    # from a Brazilian viewpoint the Texan copy is still foreign, US-reachable data
    code, report, _ = scan(*path_args, "--home", "BR")
    assert by_name(report)["brgrs"]["assessment"]["level"] == "critical"
    assert "US" in by_name(report)["brgrs"]["assessment"]["foreign_reach"]


def test_cosmosdb_every_region_from_display_names(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    azure.add_cosmosdb(S1, "orders", ["West Europe", "North Europe", "East US"], key_vault_key_uri="https://v/keys/k")
    azure.add_cosmosdb(S1, "eu-only", ["Germany West Central"], backup_redundancy="Geo")
    code, report, _ = scan()
    assert code == 0
    r = by_name(report)
    assert places(r["orders"]) == [("westeurope", "primary"), ("northeurope", "replica"), ("eastus", "replica")]
    assert [c["reported_as"] for c in r["orders"]["footprint"]] == ["West Europe", "North Europe", "East US"]
    assert all(c["known"] for c in r["orders"]["footprint"])
    assert r["orders"]["key_control"] == "customer-managed"
    assert r["orders"]["assessment"]["level"] == "critical"  # a US copy; a customer-managed key changes no level
    # periodic backups in geo-redundant storage: the paired region
    assert places(r["eu-only"]) == [("germanywestcentral", "primary"), ("germanynorth", "replica")]


def test_sql_failover_group_links_and_geo_backups(azure: AzureEndpoint) -> None:
    ids = seed_estate(azure)
    code, report, _ = scan("--service", "sql-database")
    assert code == 0, report.get("skipped")
    dbs = {r["id"]: r for r in report["resources"]}
    assert set(dbs) == {ids["sql-app"], ids["sql-app-copy"], ids["sql-local"]}  # master is not customer data
    app_db = dbs[ids["sql-app"]]
    assert places(app_db) == [("westeurope", "primary"), ("eastus", "replica"), ("northeurope", "replica")]
    assert "failover group app-fg" in app_db["footprint"][1]["note"]
    assert "geo-redundant" in app_db["footprint"][2]["note"]
    assert app_db["assessment"]["level"] == "critical"
    assert app_db["type"] == "Microsoft.Sql/servers/databases" and app_db["service"] == "sql-database"
    copy = dbs[ids["sql-app-copy"]]
    assert places(copy) == [("eastus", "primary"), ("westeurope", "replica")]  # the link back to its primary
    assert copy["key_control"] == "customer-managed"  # its server's TDE protector is in Key Vault
    assert places(dbs[ids["sql-local"]]) == [("westeurope", "primary")]  # zone-redundant backups stay in region


def test_flexible_servers_backups_replicas_and_keys(azure: AzureEndpoint) -> None:
    ids = seed_estate(azure)
    code, report, _ = scan("--service", "postgresql-flexible", "--service", "mysql-flexible")
    assert code == 0
    r = {x["id"]: x for x in report["resources"]}
    assert set(r) == {ids["pg"], ids["pg-replica"], ids["mysql"]}
    pg = r[ids["pg"]]
    assert places(pg) == [("westeurope", "primary"), ("northeurope", "replica"), ("swedencentral", "replica")]
    assert (
        "geo-redundant backups: the paired region of westeurope, from the knowledge base" in pg["footprint"][1]["note"]
    )
    assert pg["footprint"][2]["note"] == "read replica pg-replica"
    replica = r[ids["pg-replica"]]
    assert replica["service"] == "postgresql-flexible"
    assert places(replica) == [("swedencentral", "primary"), ("westeurope", "replica")]
    mysql = r[ids["mysql"]]
    assert mysql["service"] == "mysql-flexible" and mysql["key_control"] == "customer-managed"
    assert places(mysql) == [("germanywestcentral", "primary")]


def test_disks_and_snapshots(azure: AzureEndpoint) -> None:
    ids = seed_estate(azure)
    code, report, _ = scan("--service", "disk", "--service", "snapshot")
    assert code == 0
    r = {x["id"]: x for x in report["resources"]}
    assert set(r) == {ids["disk"], ids["snapshot"]}
    assert r[ids["disk"]]["type"] == "Microsoft.Compute/disks" and r[ids["disk"]]["service"] == "disk"
    assert places(r[ids["disk"]]) == [("westeurope", "primary")]
    assert r[ids["disk"]]["key_control"] == "provider-managed"
    snap = r[ids["snapshot"]]
    assert snap["type"] == "Microsoft.Compute/snapshots" and snap["service"] == "snapshot"
    assert places(snap) == [("eastus", "primary")] and snap["key_control"] == "customer-managed"
    assert {(rec.method, rec.pattern) for rec in azure.requests} == {("GET", "/subscriptions"), GRAPH}
    azure.clear_log()
    code, report, _ = scan("--service", "disk", "--service", "snapshot", "--no-resource-graph")
    assert code == 0 and {x["id"] for x in report["resources"]} == set(r)
    # only the two types asked for were read
    assert {rec.pattern for rec in azure.requests} == {
        "/subscriptions",
        "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/disks",
        "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/snapshots",
    }


# --- the two inventory paths -------------------------------------------------------------------------------------


def comparable(report: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(report["resources"], key=lambda r: r["id"])


def test_both_inventory_paths_give_the_same_result(azure: AzureEndpoint) -> None:
    seed_estate(azure)
    code, graph, _ = scan()
    assert code == 0, graph.get("skipped")
    graph_requests = azure.counts
    azure.clear_log()
    code, arm, _ = scan("--no-resource-graph")
    assert code == 0, arm.get("skipped")
    assert len(graph["resources"]) == 13
    assert comparable(graph) == comparable(arm)  # same resources, footprints, notes, keys, tags, assessments
    assert graph_requests[GRAPH] == 1
    assert azure.counts[GRAPH] == 0
    assert sum(1 for (m, p) in graph_requests if p.startswith("/subscriptions/{subscriptionId}/providers/")) == 0
    assert {r["account"] for r in graph["resources"]} == {S1, S2}


@BOTH_PATHS
def test_paging_with_pages_of_two(azure: AzureEndpoint, path_args: list[str]) -> None:
    azure.page_size = 2
    for sub in (S1, S2, S3):
        azure.add_subscription(sub)
        for i in range(5):
            azure.add_storage_account(sub, f"acct{sub[0]}{i}", "westeurope")
    code, report, _ = scan("--service", "storage-account", *path_args)
    assert code == 0
    assert len(report["resources"]) == 15
    assert azure.counts[("GET", "/subscriptions")] == 2  # three subscriptions, two a page
    if path_args:
        lists = azure.counts[("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.Storage/storageAccounts")]
        assert lists == 9  # three pages of two for five accounts, in each of three subscriptions
    else:
        assert azure.counts[GRAPH] == 8  # fifteen rows, two a page


def test_graph_denied_falls_back_and_says_why(azure: AzureEndpoint, caplog: pytest.LogCaptureFixture) -> None:
    seed_estate(azure)
    azure.add_fault("POST", "ResourceGraph", status=403, code="AuthorizationFailed", message="no Graph for you")
    code, report, _ = scan()
    assert code == 0, report.get("skipped")  # the inventory is complete, through Resource Manager
    assert len(report["resources"]) == 13
    # (the installed command prints this on stderr: test_installed_command_table_and_json)
    assert "Resource Graph unavailable (AuthorizationFailed (HTTP 403 on POST): no Graph for you)" in caplog.text
    assert "through Resource Manager instead" in caplog.text
    assert azure.counts[("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.Storage/storageAccounts")] == 2


@BOTH_PATHS
def test_forbidden_subscription_is_skipped_and_the_other_scanned(azure: AzureEndpoint, path_args: list[str]) -> None:
    azure.add_subscription(S1)
    azure.add_subscription(S2)
    azure.add_storage_account(S1, "visible", "westeurope")
    azure.add_storage_account(S2, "hidden", "westeurope")
    azure.add_fault(subscription=S2, status=403, code="AuthorizationFailed", message="no access to this one")
    code, report, err = scan(*path_args)
    assert code == 3
    assert report["complete"] is False
    assert [r["name"] for r in report["resources"]] == ["visible"]
    # one skip for the denied subscription, naming it, the reason, and that none of its types were read
    [skip] = report["skipped"]
    assert skip["scope"] == f"subscription/{S2}"
    assert skip["reason"].startswith("AuthorizationFailed (HTTP 403 on GET): no access to this one; the subscription")
    assert "none of its resources were read" in skip["reason"]
    assert "the lists of all 18 store types answered HTTP 403" in skip["reason"]
    # ... and every one of them was asked: the census and each store's list
    asked = {r.pattern for r in azure.requests if r.subscription == S2 and r.method == "GET"}
    assert len(asked) == 1 + 18
    assert "incomplete" in err
    assert azure.token not in json.dumps(report) + err  # reasons never carry the credential


@pytest.mark.parametrize("denied", [(), ("DocumentDB",)], ids=["types-readable", "one-type-denied"])
def test_a_denied_census_alone_keeps_what_the_lists_read(azure: AzureEndpoint, denied: tuple[str, ...]) -> None:
    """A role without the census's read action: the stores' lists still answer; each failure is its own skip."""
    azure.add_subscription(S1)
    azure.add_storage_account(S1, "readable", "westeurope")
    azure.add_cosmosdb(S1, "orders", ["West Europe"])
    azure.add_fault("GET", "/subscriptions/{subscriptionId}/resources", S1, message="no census")
    for pattern in denied:
        azure.add_fault("GET", pattern, S1, message="no cosmos")
    code, report, _ = scan("--no-resource-graph")
    assert code == 3
    names = {r["name"] for r in report["resources"]}
    assert names == ({"readable"} if denied else {"readable", "orders"})
    skips = {s["scope"]: s["reason"] for s in report["skipped"]}
    expected = {f"subscription/{S1}/resources"} | {f"subscription/{S1}/type/Microsoft.DocumentDB/databaseAccounts"
                                                   for _ in denied}  # fmt: skip
    assert set(skips) == expected
    assert skips[f"subscription/{S1}/resources"] == "AuthorizationFailed (HTTP 403 on GET): no census"


def test_throttling_is_retried_after_retry_after(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    azure.add_storage_account(S1, "busy", "westeurope")
    fault = azure.add_fault(
        "POST", "ResourceGraph", status=429, code="RateLimiting", message="slow", retry_after=1, times=1
    )
    started = time.monotonic()
    code, report, err = scan()
    assert code == 0 and [r["name"] for r in report["resources"]] == ["busy"]
    assert fault.hits == 1 and azure.counts[GRAPH] == 2
    assert time.monotonic() - started >= 1.0  # it waited as told
    assert "unavailable" not in err  # the retry succeeded: no fallback


def test_throttling_past_retries_is_a_skip(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    azure.add_storage_account(S1, "kept", "westeurope")
    azure.add_cosmosdb(S1, "throttled", ["West Europe"])
    azure.add_fault("GET", "DocumentDB", status=429, code="RateLimiting", message="too many requests", retry_after=1)
    code, report, _ = scan("--no-resource-graph", "--service", "storage-account", "--service", "cosmosdb")
    assert code == 3
    assert [r["name"] for r in report["resources"]] == ["kept"]
    assert report["skipped"] == [
        {
            "provider": "azure",
            "scope": f"subscription/{S1}/type/Microsoft.DocumentDB/databaseAccounts",
            "reason": "RateLimiting (HTTP 429 on GET): too many requests",
        }
    ]
    assert azure.counts[("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.DocumentDB/databaseAccounts")] == 5


def test_unreadable_failover_groups_are_reported(azure: AzureEndpoint) -> None:
    ids = seed_estate(azure)
    azure.add_fault("GET", "failoverGroups", status=403, message="no failover groups")
    code, report, _ = scan("--service", "sql-database")
    assert code == 3
    assert {r["id"] for r in report["resources"]} == {ids["sql-app"], ids["sql-app-copy"], ids["sql-local"]}
    scopes = sorted(s["scope"] for s in report["skipped"])
    assert scopes == sorted(
        f"{server.lstrip('/')}/failoverGroups"
        for server in {ids["sql-app"].split("/databases/")[0], ids["sql-app-copy"].split("/databases/")[0]}
    )


# --- reach: subscriptions, clouds, credentials ---------------------------------------------------------------


def test_subscription_option_and_disabled_subscriptions(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    azure.add_subscription(S2)
    azure.add_subscription(S3, state="Disabled")
    for sub, name in ((S1, "one"), (S2, "two"), (S3, "three")):
        azure.add_storage_account(sub, name, "westeurope")
    code, report, _ = scan()
    assert code == 0 and sorted(r["name"] for r in report["resources"]) == ["one", "two"]
    azure.clear_log()
    code, report, _ = scan("--subscription", S2, "--no-resource-graph")
    assert code == 0 and [r["name"] for r in report["resources"]] == ["two"]
    assert report["resources"][0]["account"] == S2
    assert azure.counts[("GET", "/subscriptions")] == 0  # named subscriptions need no listing
    assert {rec.subscription for rec in azure.requests} == {S2}


def test_token_audience_follows_the_cloud_not_the_endpoint(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    code, _, _ = scan("--azure-cloud", "china")
    assert code == 0
    code, _, _ = scan("--azure-cloud", "usgov")
    assert code == 0
    code, _, _ = scan()
    assert code == 0
    resources = [line.split("--resource ")[1].split()[0] for line in azure.az_calls()]
    assert resources == [
        "https://management.chinacloudapi.cn",
        "https://management.usgovcloudapi.net",
        "https://management.azure.com",
    ]  # one token per scan, for the selected cloud's Resource Manager


def test_clouds_select_authority_endpoint_and_audience() -> None:
    from residency_audit.clouds.azure import CLOUDS, SERVICES

    assert {name: (c.endpoint, c.audience, c.authority) for name, c in CLOUDS.items()} == {
        "public": (
            "https://management.azure.com",
            "https://management.azure.com/.default",
            "login.microsoftonline.com",
        ),
        "china": (
            "https://management.chinacloudapi.cn",
            "https://management.chinacloudapi.cn/.default",
            "login.chinacloudapi.cn",
        ),
        "usgov": (
            "https://management.usgovcloudapi.net",
            "https://management.usgovcloudapi.net/.default",
            "login.microsoftonline.us",
        ),
    }
    assert SERVICES == (
        "storage-account",
        "cosmosdb",
        "sql-database",
        "postgresql-flexible",
        "mysql-flexible",
        "disk",
        "snapshot",
        "recovery-services-vault",
        "backup-vault",
        "key-vault",
        "managed-hsm",
        "sql-managed-instance",
        "container-registry",
        "eventhub-namespace",
        "servicebus-namespace",
        "log-analytics-workspace",
        "redis-cache",
        "gallery-image-version",
    )


def test_no_credentials_is_one_skip(azure: AzureEndpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    azure.add_subscription(S1)
    monkeypatch.setenv("PATH", os.defpath)  # no `az` anywhere
    code, report, _ = scan()
    assert code == 3
    [skip] = report["skipped"]
    assert skip["scope"] == "azure"
    assert skip["reason"].startswith("no Azure credentials: sign in with `az login`")
    assert "\n" not in skip["reason"]
    assert azure.requests == []


def test_requests_without_a_bearer_token_get_401(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    resp = requests.get(f"{azure.url}/subscriptions?api-version=2022-12-01", verify=azure.ca_path, timeout=10)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "AuthenticationFailed"
    assert "Bearer" in resp.headers["WWW-Authenticate"]


def test_endpoint_down_is_a_skip(azure: AzureEndpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("RESIDENCY_AUDIT_AZURE_ENDPOINT", f"https://127.0.0.1:{port}")
    code, report, _ = scan("--timeout", "2")
    assert code == 3
    [skip] = report["skipped"]
    assert skip["scope"] == "azure" and skip["reason"].startswith("endpoint unreachable")


# --- contract ----------------------------------------------------------------------------------------------------


def test_every_request_is_a_read(azure: AzureEndpoint) -> None:
    seed_estate(azure)
    scan()
    scan("--no-resource-graph")
    seen = azure.requests
    assert seen
    assert {(r.method, r.pattern) for r in seen if r.method != "GET"} == {GRAPH}
    assert all(r.status == 200 for r in seen)


def test_graph_path_needs_a_handful_of_requests(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    azure.add_subscription(S2)
    for sub in (S1, S2):
        for i in range(30):
            azure.add_storage_account(
                sub, f"a{sub[0]}{i:02d}", "westeurope", "Standard_RAGRS", secondary_location="northeurope"
            )
        azure.add_disk(sub, f"d{sub[0]}", "westeurope")
    code, report, _ = scan()
    assert code == 0 and len(report["resources"]) == 62
    # the subscription list and one Graph query, plus one object replication list per storage account (Resource
    # Graph holds no policies: stores/azure/storage.py); the disks cost nothing more
    policies = [k for k in azure.counts if k[1].endswith("/objectReplicationPolicies")]
    assert sum(azure.counts.values()) == 2 + 60 and sum(azure.counts[k] for k in policies) == 60


def test_json_contract(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    rid = azure.add_storage_account(S1, "contract", "westeurope", tags={"team": "data"})
    code, report, _ = scan()
    assert code == 0
    [res] = report["resources"]
    assert res["provider"] == "azure" and res["account"] == S1 and res["service"] == "storage-account"
    assert res["id"] == rid and res["type"] == "Microsoft.Storage/storageAccounts" and res["name"] == "contract"
    assert res["tags"] == {"team": "data"}
    assert set(res["assessment"]) >= {"level", "foreign_reach", "reasons"}


def test_installed_command_table_and_json(azure: AzureEndpoint, tmp_path: Path) -> None:
    seed_estate(azure)
    env = azure.env(dict(os.environ))
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [BIN, "scan", "--provider", "azure", "--format", "json", "--output", str(out), "--subscription", S1],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert {r["account"] for r in report["resources"]} == {S1}
    assert places(by_name(report)["brgrs"]) == [("brazilsouth", "primary"), ("southcentralus", "replica")]

    proc = subprocess.run(
        [BIN, "scan", "--provider", "azure", "--service", "storage-account"],
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "brgrs" in proc.stdout and "southcentralus" in proc.stdout and "critical" in proc.stdout

    azure.add_fault("POST", "ResourceGraph", status=403, message="Graph denied")
    proc = subprocess.run(
        [BIN, "scan", "--provider", "azure", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["resources"]) == 13
    assert "Resource Graph unavailable (AuthorizationFailed (HTTP 403 on POST): Graph denied)" in proc.stderr
