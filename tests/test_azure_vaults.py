"""Recovery Services vaults, backup vaults, Key Vaults and Managed HSMs: the copies that hide (issue 13).

Scanned with the real CLI over TLS against the Resource Manager stand-in (bodies from the azure-mgmt-recoveryservices,
-dataprotection and -keyvault models), on both inventory paths; faults at the HTTP level; the plan reader on planned
`azurerm_*` resources; property-based tests of the live readers on mutated API bodies.
"""

from __future__ import annotations

import copy
import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from residency_audit.clouds.azure import AzureOptions
from residency_audit.knowledge import load as load_kb
from residency_audit.model import CopyRole, Resource
from residency_audit.plan.reader import read_plan
from residency_audit.stores.azure.keyvault import key_vault, managed_hsm
from residency_audit.stores.azure.messaging import event_hubs
from residency_audit.stores.azure.registry import registry
from residency_audit.stores.azure.vaults import backup_vault, recovery_vault
from residency_audit.stores.azure.workspaces import workspace

from .conftest import by_name, places
from .servers.azure import AzureEndpoint
from .servers.azure_stores import (
    add_backup_vault,
    add_key_vault,
    add_managed_hsm,
    add_recovery_vault,
)
from .test_azure_scan import BOTH_PATHS, GRAPH, S1, S2, azure, endpoint, scan
from .test_terraform import _add, _load, _places

__all__ = ["azure", "endpoint"]  # the fixtures, shared with test_azure_scan
VAULTS = "/subscriptions/{subscriptionId}/providers/Microsoft.RecoveryServices/vaults"
P, R = CopyRole.PRIMARY, CopyRole.REPLICA


# --- Recovery Services vaults ------------------------------------------------------------------------------------


@BOTH_PATHS
def test_recovery_vaults_geo_redundant_by_default_copy_in_the_paired_region(
    azure: AzureEndpoint, path_args: list[str]
) -> None:
    azure.add_subscription(S1)
    add_recovery_vault(azure, S1, "weu-grs", "westeurope", cross_region_restore=True)
    add_recovery_vault(azure, S1, "br-grs", "brazilsouth")
    add_recovery_vault(azure, S1, "weu-lrs", "westeurope", redundancy="LocallyRedundant")
    add_recovery_vault(azure, S1, "weu-zrs", "westeurope", redundancy="ZoneRedundant", key_uri="https://kv/keys/b")
    add_recovery_vault(azure, S1, "unset", "germanywestcentral", redundancy=None)
    add_recovery_vault(azure, S1, "unpaired", "italynorth")
    add_recovery_vault(azure, S1, "odd", "westeurope", redundancy="Invalid")
    code, report, err = scan("--service", "recovery-services-vault", *path_args)
    assert code == 0, (report.get("skipped"), err)
    r = by_name(report)
    weu = r["weu-grs"]
    assert weu["type"] == "Microsoft.RecoveryServices/vaults" and weu["service"] == "recovery-services-vault"
    assert places(weu) == [("westeurope", "primary"), ("northeurope", "replica")]
    assert "GeoRedundant" in weu["footprint"][1]["note"] and "cross-region restore" in weu["footprint"][1]["note"]
    assert "paired region of westeurope, from the knowledge base" in weu["footprint"][1]["note"]
    assert places(r["br-grs"]) == [("brazilsouth", "primary"), ("southcentralus", "replica")]
    assert r["br-grs"]["countries"] == ["BR", "US"]
    assert places(r["weu-lrs"]) == [("westeurope", "primary")]
    assert places(r["weu-zrs"]) == [("westeurope", "primary")]
    assert r["weu-zrs"]["key_control"] == "customer-managed" and r["weu-lrs"]["key_control"] == "provider-managed"
    # no redundancySettings in the body: the service's default (GeoRedundant) is assumed, and said
    assert places(r["unset"]) == [("germanywestcentral", "primary"), ("germanynorth", "replica")]
    assert "GeoRedundant is the default" in r["unset"]["footprint"][1]["note"]
    # geo-redundant in a region without a pair: the copy's place is unknown, never guessed
    assert places(r["unpaired"]) == [("italynorth", "primary"), ("unknown", "replica")]
    assert r["unpaired"]["assessment"]["level"] == "unknown"
    assert places(r["odd"]) == [("westeurope", "primary"), ("unknown", "replica")]
    assert "'Invalid'" in r["odd"]["footprint"][1]["note"]


def test_a_brazil_south_vault_fails_an_eu_profile_and_a_brazil_home(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    add_recovery_vault(azure, S1, "br-grs", "brazilsouth")
    code, report, _ = scan("--service", "recovery-services-vault", "--home", "BR")
    assert code == 0
    assert by_name(report)["br-grs"]["assessment"]["level"] == "critical"
    assert "US" in by_name(report)["br-grs"]["assessment"]["foreign_reach"]


# --- Data Protection backup vaults --------------------------------------------------------------------------------


@BOTH_PATHS
def test_backup_vaults_geo_storage_setting_and_replicated_regions(azure: AzureEndpoint, path_args: list[str]) -> None:
    azure.add_subscription(S1)
    add_backup_vault(azure, S1, "bv-geo", "francecentral", key_uri="https://kv.vault.azure.net/keys/bv")
    add_backup_vault(azure, S1, "bv-lrs", "francecentral", storage=("LocallyRedundant",))
    add_backup_vault(azure, S1, "bv-repl", "swedencentral", storage=("ZoneRedundant",), replicated_regions=["eastus"])
    add_backup_vault(azure, S1, "bv-none", "swedencentral", storage=())
    code, report, _ = scan("--service", "backup-vault", *path_args)
    assert code == 0
    r = by_name(report)
    assert places(r["bv-geo"]) == [("francecentral", "primary"), ("francesouth", "replica")]
    assert "VaultStore GeoRedundant" in r["bv-geo"]["footprint"][1]["note"]
    assert r["bv-geo"]["key_control"] == "customer-managed"
    assert places(r["bv-lrs"]) == [("francecentral", "primary")]
    assert places(r["bv-repl"]) == [("swedencentral", "primary"), ("eastus", "replica")]
    assert places(r["bv-none"]) == [("swedencentral", "primary"), ("unknown", "replica")]


# --- Key Vault and Managed HSM ---------------------------------------------------------------------------------


@BOTH_PATHS
def test_key_vault_copy_in_the_paired_region_from_the_knowledge_base(
    azure: AzureEndpoint, path_args: list[str]
) -> None:
    azure.add_subscription(S1)
    add_key_vault(azure, S1, "kv-weu", "westeurope")
    add_key_vault(azure, S1, "kv-br", "brazilsouth")
    add_key_vault(azure, S1, "kv-wus3", "westus3")
    add_key_vault(azure, S1, "kv-it", "italynorth")
    add_key_vault(azure, S1, "kv-mars", "marsnorth")
    code, report, _ = scan("--service", "key-vault", *path_args)
    assert code == 0
    r = by_name(report)
    weu = r["kv-weu"]
    assert places(weu) == [("westeurope", "primary"), ("northeurope", "replica")]
    assert "azure-key-vault-redundancy" in weu["footprint"][1]["note"]
    assert weu["type"] == "Microsoft.KeyVault/vaults" and weu["service"] == "key-vault"
    # Microsoft documents these as not replicated across regions; a region without a pair keeps it in-region
    assert places(r["kv-br"]) == [("brazilsouth", "primary")]
    assert places(r["kv-wus3"]) == [("westus3", "primary")]
    assert places(r["kv-it"]) == [("italynorth", "primary")]
    assert "no paired region" in r["kv-it"]["footprint"][0]["note"]
    # a location the knowledge base does not know: the copy is unknown, never the public cloud's guess
    assert [c["role"] for c in r["kv-mars"]["footprint"]] == ["primary", "replica"]
    assert r["kv-mars"]["footprint"][1]["location"] == "unknown"


@pytest.mark.parametrize(
    ("cloud", "location", "pair"),
    [("china", "chinanorth3", "chinaeast3"), ("usgov", "usgovvirginia", "usgovtexas")],
)
def test_key_vault_in_a_national_cloud_uses_its_own_pair(
    azure: AzureEndpoint, cloud: str, location: str, pair: str
) -> None:
    azure.add_subscription(S1)
    add_key_vault(azure, S1, "kv", location)
    code, report, _ = scan("--service", "key-vault", "--azure-cloud", cloud)
    assert code == 0
    assert places(by_name(report)["kv"]) == [(location, "primary"), (pair, "replica")]


def test_the_key_vault_fact_cites_microsoft_and_names_regions_the_knowledge_base_knows() -> None:
    kb = load_kb()
    fact = kb.service_copy("azure", "microsoft.keyvault/VAULTS")
    assert fact is not None and fact.rule == "paired-region"
    assert {"brazilsouth", "westus3"} <= set(fact.except_locations)
    for code in fact.except_locations:
        assert kb.resolve("azure", code) is not None, code
    for sid in fact.sources:
        assert kb.sources[sid].url.startswith(("https://learn.microsoft.com/", "https://docs.azure.cn/"))


@BOTH_PATHS
def test_managed_hsm_extended_regions(azure: AzureEndpoint, path_args: list[str]) -> None:
    azure.add_subscription(S1)
    add_managed_hsm(azure, S1, "hsm-one", "westeurope")
    add_managed_hsm(azure, S1, "hsm-two", "westeurope", extended=["eastus2"])
    code, report, _ = scan("--service", "managed-hsm", *path_args)
    assert code == 0
    r = by_name(report)
    assert places(r["hsm-one"]) == [("westeurope", "primary")]  # no paired-region copy for a pool
    assert places(r["hsm-two"]) == [("westeurope", "primary"), ("eastus2", "replica")]
    assert "extended region" in r["hsm-two"]["footprint"][1]["note"]
    assert r["hsm-two"]["type"] == "Microsoft.KeyVault/managedHSMs"


# --- inventory: one Graph query, paging, denial, throttling ------------------------------------------------------


def _seed_all(ep: AzureEndpoint) -> None:
    for sub in (S1, S2):
        ep.add_subscription(sub)
        for i in range(3):
            add_recovery_vault(ep, sub, f"rsv{sub[0]}{i}", "westeurope")
            add_key_vault(ep, sub, f"kv{sub[0]}{i}", "westeurope")
        add_backup_vault(ep, sub, f"bv{sub[0]}", "northeurope")
        add_managed_hsm(ep, sub, f"hsm{sub[0]}", "northeurope")


def test_graph_reads_every_vault_in_one_query_and_no_resource_manager_call(azure: AzureEndpoint) -> None:
    _seed_all(azure)
    code, report, _ = scan()
    assert code == 0, report.get("skipped")
    assert len(report["resources"]) == 16
    assert azure.counts[GRAPH] == 1
    assert not [p for (_, p) in azure.counts if "/providers/Microsoft." in p and "ResourceGraph" not in p]
    assert report["complete"] is True
    found = {c["type"]: c for c in report["coverage"]["types"]}
    for rtype, n in (("Microsoft.RecoveryServices/vaults", 6), ("Microsoft.DataProtection/backupVaults", 2),
                     ("Microsoft.KeyVault/vaults", 6), ("Microsoft.KeyVault/managedHSMs", 2)):  # fmt: skip
        assert (found[rtype]["found"], found[rtype]["assessed"], found[rtype]["not_assessed"]) == (n, n, 0), rtype
    assert report["coverage"]["summary"]["unassessed_data_bearing"] == 0


@BOTH_PATHS
def test_vaults_page_with_pages_of_one(azure: AzureEndpoint, path_args: list[str]) -> None:
    _seed_all(azure)
    azure.page_size = 1
    code, report, _ = scan("--service", "recovery-services-vault", "--service", "key-vault", *path_args)
    assert code == 0
    assert len(report["resources"]) == 12
    if path_args:
        assert azure.counts[("GET", VAULTS)] == 2 * 3  # three vaults a subscription, one a page
    else:
        assert azure.counts[GRAPH] == 12


@BOTH_PATHS
def test_forbidden_subscription_skips_its_vaults_and_keeps_the_others(
    azure: AzureEndpoint, path_args: list[str]
) -> None:
    _seed_all(azure)
    azure.add_fault(subscription=S2, status=403, code="AuthorizationFailed", message="no role here")
    code, report, _ = scan("--service", "recovery-services-vault", "--service", "backup-vault", *path_args)
    assert code == 3 and report["complete"] is False
    assert {r["account"] for r in report["resources"]} == {S1}
    assert len(report["resources"]) == 4
    scopes = {s["scope"] for s in report["skipped"]}
    if path_args:
        assert {s["reason"] for s in report["skipped"]} == {"AuthorizationFailed (HTTP 403 on GET): no role here"}
        assert scopes == {
            f"subscription/{S2}/type/Microsoft.RecoveryServices/vaults",
            f"subscription/{S2}/type/Microsoft.DataProtection/backupVaults",
        }
    else:  # Graph refuses the whole query over a forbidden subscription: the fallback lists each one
        assert f"subscription/{S2}/type/Microsoft.RecoveryServices/vaults" in scopes
        assert all(s.startswith(f"subscription/{S2}/") for s in scopes)


def test_throttled_vault_list_waits_for_retry_after_then_reads(azure: AzureEndpoint) -> None:
    _seed_all(azure)
    fault = azure.add_fault(
        "GET", "RecoveryServices", status=429, code="RateLimiting", message="slow", retry_after=1, times=1
    )
    started = time.monotonic()
    code, report, _ = scan("--no-resource-graph", "--service", "recovery-services-vault")
    assert code == 0 and len(report["resources"]) == 6
    assert fault.hits == 1 and time.monotonic() - started >= 1.0


def test_vault_list_throttled_past_retries_is_a_skip_naming_its_scope(azure: AzureEndpoint) -> None:
    _seed_all(azure)
    azure.add_fault("GET", "KeyVault/vaults", subscription=S1, status=429, code="RateLimiting", message="busy",
                    retry_after=1)  # fmt: skip
    code, report, _ = scan("--no-resource-graph", "--service", "key-vault")
    assert code == 3
    assert {r["account"] for r in report["resources"]} == {S2}
    assert report["skipped"] == [
        {
            "provider": "azure",
            "scope": f"subscription/{S1}/type/Microsoft.KeyVault/vaults",
            "reason": "RateLimiting (HTTP 429 on GET): busy",
        }
    ]


def test_every_request_is_a_read(azure: AzureEndpoint) -> None:
    _seed_all(azure)
    scan()
    scan("--no-resource-graph")
    assert {m for (m, _) in azure.counts} <= {"GET", "POST"}
    assert all(p == "/providers/Microsoft.ResourceGraph/resources" for (m, p) in azure.counts if m == "POST")


def test_resource_manager_path_lists_only_the_store_types_a_subscription_holds(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    azure.add_subscription(S2)
    add_recovery_vault(azure, S1, "rsv", "westeurope")
    add_key_vault(azure, S1, "kv", "westeurope")
    code, report, _ = scan("--no-resource-graph")
    assert code == 0 and {r["name"] for r in report["resources"]} == {"rsv", "kv"}
    by_sub: dict[str, set[str]] = {}
    for rec in azure.requests:
        if rec.subscription:
            by_sub.setdefault(rec.subscription, set()).add(rec.pattern)
    resources = "/subscriptions/{subscriptionId}/resources"
    assert by_sub[S2] == {resources}  # an empty subscription: its census, and no store's list
    assert by_sub[S1] == {resources, VAULTS, "/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/vaults"}


# --- the plan reader ----------------------------------------------------------------------------------------------


def _azure_add(data: dict[str, Any], address: str, values: dict[str, Any]) -> None:
    _add(data, address, values, "azurerm")
    for section in (data["planned_values"]["root_module"]["resources"], data["resource_changes"]):
        section[-1]["provider_name"] = "registry.terraform.io/hashicorp/azurerm"


def _plan(**resources: dict[str, Any]) -> dict[str, Resource]:
    data = _load("azure")
    for address, values in resources.items():
        _azure_add(data, address.replace("__", "."), values)
    found, _ = read_plan(data, "azure.json")
    return {r.id: r for r in found}


def test_plan_recovery_vault_default_is_geo_redundant_and_local_stays() -> None:
    found = _plan(
        azurerm_recovery_services_vault__dflt={"name": "d", "location": "westeurope", "sku": "Standard"},
        azurerm_recovery_services_vault__br={"name": "b", "location": "brazilsouth", "storage_mode_type": "GeoRedundant"},
        azurerm_recovery_services_vault__lrs={"name": "l", "location": "westeurope", "storage_mode_type": "LocallyRedundant",
                                              "encryption": [{"key_id": "https://kv/keys/k"}]},
    )  # fmt: skip
    dflt = found["azurerm_recovery_services_vault.dflt"]
    assert _places(dflt) == [("westeurope", P), ("northeurope", R)]
    assert "default GeoRedundant" in (dflt.footprint[1].note or "")
    assert dflt.type == "Microsoft.RecoveryServices/vaults" and dflt.service == "recovery-services-vault"
    assert _places(found["azurerm_recovery_services_vault.br"]) == [("brazilsouth", P), ("southcentralus", R)]
    lrs = found["azurerm_recovery_services_vault.lrs"]
    assert _places(lrs) == [("westeurope", P)] and lrs.key_control == "customer-managed"


def test_plan_backup_vault_and_key_vaults() -> None:
    found = _plan(
        azurerm_data_protection_backup_vault__geo={"name": "g", "location": "francecentral", "datastore_type": "VaultStore",
                                                   "redundancy": "GeoRedundant"},
        azurerm_data_protection_backup_vault__lrs={"name": "l", "location": "francecentral", "datastore_type": "VaultStore",
                                                   "redundancy": "LocallyRedundant"},
        azurerm_key_vault__weu={"name": "k", "location": "westeurope", "sku_name": "standard"},
        azurerm_key_vault__br={"name": "kb", "location": "brazilsouth", "sku_name": "standard"},
        azurerm_key_vault_managed_hardware_security_module__hsm={"name": "h", "location": "westeurope"},
    )  # fmt: skip
    assert _places(found["azurerm_data_protection_backup_vault.geo"]) == [("francecentral", P), ("francesouth", R)]
    assert _places(found["azurerm_data_protection_backup_vault.lrs"]) == [("francecentral", P)]
    assert _places(found["azurerm_key_vault.weu"]) == [("westeurope", P), ("northeurope", R)]
    assert _places(found["azurerm_key_vault.br"]) == [("brazilsouth", P)]
    assert _places(found["azurerm_key_vault_managed_hardware_security_module.hsm"]) == [("westeurope", P)]


def test_plan_storage_mode_known_after_apply_is_an_unknown_copy() -> None:
    data = _load("azure")
    _azure_add(data, "azurerm_recovery_services_vault.later", {"name": "x", "location": "westeurope"})
    data["resource_changes"][-1]["change"]["after_unknown"]["storage_mode_type"] = True
    found, _ = read_plan(data, "azure.json")
    vault = next(r for r in found if r.id == "azurerm_recovery_services_vault.later")
    assert _places(vault) == [("westeurope", P), ("unknown", R)]


# --- mutated API bodies: never a traceback, never a dropped copy -------------------------------------------------

_ARM = SimpleNamespace(options=AzureOptions())
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3),
    max_leaves=8,
)


def _basic_registry(arm: Any, sub: str, item: dict[str, Any]) -> Resource:
    """The registry reader on a Basic registry (no replications to list, so no call): its one resource."""
    [found] = list(registry(arm, sub, item | {"sku": {"name": "Basic"}}))
    assert isinstance(found, Resource)
    return found


_BODIES = {
    recovery_vault: {
        "id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.RecoveryServices/vaults/v",
        "location": "westeurope",
        "properties": {"redundancySettings": {"standardTierStorageRedundancy": "GeoRedundant"}},
    },
    backup_vault: {
        "id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.DataProtection/backupVaults/v",
        "location": "westeurope",
        "properties": {"storageSettings": [{"datastoreType": "VaultStore", "type": "GeoRedundant"}]},
    },
    key_vault: {
        "id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.KeyVault/vaults/v",
        "location": "westeurope",
    },
    event_hubs: {
        "id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.EventHub/namespaces/n",
        "location": "westeurope",
        "properties": {
            "geoDataReplication": {"locations": [{"locationName": "eastus", "roleType": "Secondary"}]},
            "encryption": {"keySource": "Microsoft.KeyVault", "keyVaultProperties": [{"keyName": "k"}]},
        },
    },
    workspace: {
        "id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.OperationalInsights/workspaces/w",
        "location": "westeurope",
        "properties": {"replication": {"enabled": True, "location": "eastus"}, "features": {"clusterResourceId": "c"}},
    },
    _basic_registry: {
        "id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.ContainerRegistry/registries/a",
        "location": "westeurope",
        "properties": {"encryption": {"status": "enabled", "keyVaultProperties": {"keyIdentifier": "k"}}},
    },
    managed_hsm: {
        "id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.KeyVault/managedHSMs/h",
        "location": "westeurope",
        "properties": {"regions": [{"name": "eastus", "isPrimary": False}]},
    },
}


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            if k != "id":
                out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@pytest.mark.parametrize("reader", list(_BODIES), ids=lambda f: f.__name__)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mutated_body_gives_a_resource_with_a_primary_never_a_traceback(reader: Any, data: st.DataObject) -> None:
    body = copy.deepcopy(_BODIES[reader])
    paths = _paths(body)
    path = data.draw(st.sampled_from(paths))
    node = body
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = data.draw(_JSON)
    found = reader(_ARM, "s", body)
    assert isinstance(found, Resource)
    assert found.footprint and found.footprint[0].role is CopyRole.PRIMARY
    json.dumps([c.code for c in found.footprint])


@pytest.mark.parametrize("reader", [recovery_vault, backup_vault], ids=lambda f: f.__name__)
@given(spelling=st.sampled_from(["GeoRedundant", "georedundant", "GEOREDUNDANT"]))
def test_geo_redundancy_is_read_in_any_case(reader: Any, spelling: str) -> None:
    body = json.loads(json.dumps(_BODIES[reader]).replace("GeoRedundant", spelling))
    found = reader(_ARM, "s", body)
    assert [c.code for c in found.footprint] == ["westeurope", "northeurope"]
