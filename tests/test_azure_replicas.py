"""SQL Managed Instances, container registries, Event Hubs and Service Bus, Log Analytics, Redis and Compute Gallery
image versions: their replicas and partners (issue 13), with the real CLI over TLS against the Resource Manager
stand-in on both inventory paths, faults at the HTTP level, and the plan reader.
"""

from __future__ import annotations

from residency_audit.plan.reader import read_plan

from .conftest import by_name, places
from .servers.azure import AzureEndpoint
from .servers.azure_stores import (
    add_image_version,
    add_instance_failover_group,
    add_managed_instance,
    add_namespace,
    add_redis,
    add_redis_link,
    add_registry,
    add_workspace,
)
from .test_azure_scan import BOTH_PATHS, S1, azure, endpoint, scan
from .test_azure_vaults import P, R, _azure_add, _plan
from .test_terraform import _load, _places

__all__ = ["azure", "endpoint"]  # the fixtures, shared with test_azure_scan


# --- SQL Managed Instances -------------------------------------------------------------------------------------


@BOTH_PATHS
def test_managed_instances_geo_backups_and_failover_groups_on_both_sides(
    azure: AzureEndpoint, path_args: list[str]
) -> None:
    azure.add_subscription(S1)
    weu = add_managed_instance(azure, S1, "mi-weu", "westeurope")
    eus = add_managed_instance(azure, S1, "mi-eus", "eastus", backup="Local", cmk=True, rg="dr")
    add_managed_instance(azure, S1, "mi-zone", "germanywestcentral", backup="Zone")
    add_managed_instance(azure, S1, "mi-unset", "francecentral", backup=None)
    add_instance_failover_group(azure, "mi-fog", weu, eus)
    code, report, err = scan("--service", "sql-managed-instance", *path_args)
    assert code == 0, (report.get("skipped"), err)
    r = by_name(report)
    assert r["mi-weu"]["type"] == "Microsoft.Sql/managedInstances" and r["mi-weu"]["service"] == "sql-managed-instance"
    assert places(r["mi-weu"]) == [("westeurope", "primary"), ("northeurope", "replica"), ("eastus", "replica")]
    assert "geo-redundant" in r["mi-weu"]["footprint"][1]["note"]
    assert "instance failover group mi-fog" in r["mi-weu"]["footprint"][2]["note"]
    # the secondary counts the primary's region: the group is found from its side too
    assert places(r["mi-eus"]) == [("eastus", "primary"), ("westeurope", "replica")]
    assert r["mi-eus"]["key_control"] == "customer-managed" and r["mi-weu"]["key_control"] == "provider-managed"
    assert places(r["mi-zone"]) == [("germanywestcentral", "primary")]
    assert places(r["mi-unset"]) == [("francecentral", "primary"), ("francesouth", "replica")]
    assert "Geo is the default" in r["mi-unset"]["footprint"][1]["note"]


def test_unreadable_instance_failover_groups_are_a_skip_and_an_unknown_copy(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    add_managed_instance(azure, S1, "mi-a", "westeurope", backup="Local")
    add_managed_instance(azure, S1, "mi-b", "westeurope", backup="Local")
    azure.add_fault("GET", "instanceFailoverGroups", status=403, message="no failover groups for you")
    code, report, _ = scan("--service", "sql-managed-instance")
    assert code == 3
    r = by_name(report)
    for name in ("mi-a", "mi-b"):
        assert places(r[name]) == [("westeurope", "primary"), ("unknown", "replica")]
    [skip] = report["skipped"]  # one list, shared by both instances: one skip
    assert skip["scope"].endswith("/providers/Microsoft.Sql/locations/westeurope/instanceFailoverGroups")
    assert "no failover groups for you" in skip["reason"]


def test_plan_managed_instance_default_geo_backups_and_failover_group() -> None:
    data = _load("azure")
    _azure_add(data, "azurerm_mssql_managed_instance.primary", {"name": "p", "location": "westeurope"})
    _azure_add(data, "azurerm_mssql_managed_instance.dr",
               {"name": "d", "location": "eastus", "storage_account_type": "LRS"})  # fmt: skip
    _azure_add(data, "azurerm_mssql_managed_instance_failover_group.fog", {"name": "f", "location": "westeurope"})
    refs = {
        "managed_instance_id": {"references": ["azurerm_mssql_managed_instance.primary.id", "azurerm_mssql_managed_instance.primary"]},
        "partner_managed_instance_id": {"references": ["azurerm_mssql_managed_instance.dr.id", "azurerm_mssql_managed_instance.dr"]},
    }  # fmt: skip
    data["configuration"]["root_module"]["resources"][-1]["expressions"] = refs
    found, skipped = read_plan(data, "azure.json")
    by_id = {r.id: r for r in found}
    assert _places(by_id["azurerm_mssql_managed_instance.primary"]) == [
        ("westeurope", P),
        ("northeurope", R),
        ("eastus", R),
    ]
    assert _places(by_id["azurerm_mssql_managed_instance.dr"]) == [("eastus", P), ("westeurope", R)]
    assert "azurerm_mssql_managed_instance_failover_group.fog" not in {
        s.address for s in skipped if s.category == "unknown-type"
    }


# --- Container registries --------------------------------------------------------------------------------------


@BOTH_PATHS
def test_registry_replications_are_copies_and_only_premium_costs_a_call(
    azure: AzureEndpoint, path_args: list[str]
) -> None:
    azure.add_subscription(S1)
    add_registry(
        azure, S1, "acrglobal", "westeurope", replicas=["australiaeast", "eastus"], key_id="https://kv/keys/acr"
    )
    add_registry(azure, S1, "acrhome", "westeurope")
    add_registry(azure, S1, "acrbasic", "germanywestcentral", sku="Basic")
    code, report, _ = scan("--service", "container-registry", *path_args)
    assert code == 0
    r = by_name(report)
    glob = r["acrglobal"]
    assert glob["type"] == "Microsoft.ContainerRegistry/registries" and glob["service"] == "container-registry"
    assert places(glob) == [("westeurope", "primary"), ("australiaeast", "replica"), ("eastus", "replica")]
    assert glob["key_control"] == "customer-managed" and r["acrhome"]["key_control"] == "provider-managed"
    assert places(r["acrhome"]) == [("westeurope", "primary")]  # its own region's replication adds no place
    assert places(r["acrbasic"]) == [("germanywestcentral", "primary")]
    lists = [p for (_, p) in azure.counts if p.endswith("/replications")]
    assert sum(azure.counts[("GET", p)] for p in set(lists)) == 2  # the two Premium registries, not the Basic one


def test_unreadable_replications_are_a_skip_and_an_unknown_copy(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    add_registry(azure, S1, "acr", "westeurope", replicas=["australiaeast"])
    azure.add_fault("GET", "replications", status=403, message="no replications for you")
    code, report, _ = scan("--service", "container-registry")
    assert code == 3
    assert places(by_name(report)["acr"]) == [("westeurope", "primary"), ("unknown", "replica")]
    [skip] = report["skipped"]
    assert skip["scope"].endswith("/registries/acr/replications") and "no replications for you" in skip["reason"]


def test_plan_registry_georeplications() -> None:
    found = _plan(
        azurerm_container_registry__acr={"name": "acr", "location": "westeurope", "sku": "Premium",
                                          "georeplications": [{"location": "australiaeast"}, {"location": "northeurope"}]},
        azurerm_container_registry__basic={"name": "b", "location": "westeurope", "sku": "Basic", "georeplications": []},
    )  # fmt: skip
    acr = found["azurerm_container_registry.acr"]
    assert _places(acr) == [("westeurope", P), ("australiaeast", R), ("northeurope", R)]
    assert _places(found["azurerm_container_registry.basic"]) == [("westeurope", P)]


# --- Event Hubs, Service Bus, Log Analytics --------------------------------------------------------------------


@BOTH_PATHS
def test_messaging_geo_replication_regions_are_copies(azure: AzureEndpoint, path_args: list[str]) -> None:
    azure.add_subscription(S1)
    add_namespace(azure, "eventhub", S1, "events", "westeurope", replicas=["eastus"], key="ehkey")
    add_namespace(azure, "eventhub", S1, "events-local", "westeurope")
    add_namespace(azure, "servicebus", S1, "queues", "germanywestcentral", replicas=["northeurope"])
    code, report, _ = scan("--service", "eventhub-namespace", "--service", "servicebus-namespace", *path_args)
    assert code == 0
    r = by_name(report)
    assert places(r["events"]) == [("westeurope", "primary"), ("eastus", "replica")]
    assert "geo-replication region (Secondary)" in r["events"]["footprint"][1]["note"]
    assert r["events"]["type"] == "Microsoft.EventHub/namespaces" and r["events"]["key_control"] == "customer-managed"
    assert places(r["events-local"]) == [("westeurope", "primary")]
    assert r["queues"]["service"] == "servicebus-namespace"
    assert places(r["queues"]) == [("germanywestcentral", "primary"), ("northeurope", "replica")]


@BOTH_PATHS
def test_log_analytics_workspace_replication(azure: AzureEndpoint, path_args: list[str]) -> None:
    azure.add_subscription(S1)
    add_workspace(azure, S1, "logs-repl", "westeurope", replica="eastus")
    add_workspace(azure, S1, "logs", "westeurope")
    add_workspace(
        azure,
        S1,
        "logs-cluster",
        "westeurope",
        cluster="/subscriptions/x/resourceGroups/y/providers/Microsoft.OperationalInsights/clusters/c",
    )
    code, report, _ = scan("--service", "log-analytics-workspace", *path_args)
    assert code == 0
    r = by_name(report)
    assert places(r["logs-repl"]) == [("westeurope", "primary"), ("eastus", "replica")]
    assert places(r["logs"]) == [("westeurope", "primary")] and r["logs"]["key_control"] == "provider-managed"
    assert r["logs-cluster"]["key_control"] == "unknown"  # the cluster's key is not read: never assumed


def test_plan_namespaces_and_workspaces_have_their_location() -> None:
    found = _plan(
        azurerm_eventhub_namespace__eh={"name": "eh", "location": "westeurope", "sku": "Premium"},
        azurerm_servicebus_namespace__sb={"name": "sb", "location": "northeurope", "sku": "Premium",
                                           "customer_managed_key": [{"key_vault_key_id": "https://kv/keys/sb"}]},
        azurerm_log_analytics_workspace__law={"name": "law", "location": "eastus"},
    )  # fmt: skip
    assert _places(found["azurerm_eventhub_namespace.eh"]) == [("westeurope", P)]
    assert found["azurerm_servicebus_namespace.sb"].key_control == "customer-managed"
    assert _places(found["azurerm_log_analytics_workspace.law"]) == [("eastus", P)]


# --- Azure Cache for Redis ---------------------------------------------------------------------------------------


@BOTH_PATHS
def test_redis_geo_replication_links_on_both_sides_and_only_premium_costs_a_call(
    azure: AzureEndpoint, path_args: list[str]
) -> None:
    azure.add_subscription(S1)
    primary = add_redis(azure, S1, "cache-weu", "westeurope")
    add_redis_link(azure, primary, add_redis(azure, S1, "cache-eus", "eastus", rg="dr"))
    add_redis(azure, S1, "cache-std", "westeurope", sku="Standard")
    code, report, _ = scan("--service", "redis-cache", *path_args)
    assert code == 0
    r = by_name(report)
    assert r["cache-weu"]["type"] == "Microsoft.Cache/Redis" and r["cache-weu"]["service"] == "redis-cache"
    assert places(r["cache-weu"]) == [("westeurope", "primary"), ("eastus", "replica")]
    assert "this cache's role: Primary" in r["cache-weu"]["footprint"][1]["note"]
    assert places(r["cache-eus"]) == [("eastus", "primary"), ("westeurope", "replica")]
    assert places(r["cache-std"]) == [("westeurope", "primary")]
    lists = {p for (_, p) in azure.counts if p.endswith("/linkedServers")}
    assert sum(azure.counts[("GET", p)] for p in lists) == 2  # the two Premium caches, not the Standard one


def test_unreadable_linked_servers_are_a_skip_and_an_unknown_copy(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    add_redis(azure, S1, "cache", "westeurope")
    azure.add_fault("GET", "linkedServers", status=500, code="InternalServerError", message="boom")
    code, report, _ = scan("--service", "redis-cache")
    assert code == 3
    assert places(by_name(report)["cache"]) == [("westeurope", "primary"), ("unknown", "replica")]
    [skip] = report["skipped"]
    assert skip["scope"].endswith("/Redis/cache/linkedServers") and "InternalServerError" in skip["reason"]


def test_plan_redis_linked_server_gives_both_caches_the_other_region() -> None:
    data = _load("azure")
    _azure_add(data, "azurerm_redis_cache.primary", {"name": "c1", "location": "westeurope", "sku_name": "Premium"})
    _azure_add(data, "azurerm_redis_cache.secondary", {"name": "c2", "location": "northeurope", "sku_name": "Premium"})
    _azure_add(data, "azurerm_redis_linked_server.link",
               {"redis_cache_name": "c1", "linked_redis_cache_location": "northeurope", "server_role": "Secondary"})  # fmt: skip
    refs = {
        "linked_redis_cache_id": {"references": ["azurerm_redis_cache.secondary.id", "azurerm_redis_cache.secondary"]}
    }
    data["configuration"]["root_module"]["resources"][-1]["expressions"] = refs
    found, _ = read_plan(data, "azure.json")
    by_id = {r.id: r for r in found}
    assert _places(by_id["azurerm_redis_cache.primary"]) == [("westeurope", P), ("northeurope", R)]
    assert _places(by_id["azurerm_redis_cache.secondary"]) == [("northeurope", P), ("westeurope", R)]


# --- Compute Gallery image versions ------------------------------------------------------------------------------


@BOTH_PATHS
def test_gallery_image_versions_replicate_to_every_target_region(azure: AzureEndpoint, path_args: list[str]) -> None:
    azure.add_subscription(S1)
    add_image_version(azure, S1, "gal", "app", "1.0.0", "westeurope", ["westeurope", "eastus"])
    add_image_version(azure, S1, "gal", "app", "1.1.0", "westeurope", ["westeurope"], encrypted=True)
    add_image_version(azure, S1, "gal", "base", "2.0.0", "northeurope", ["northeurope", "japaneast"], encrypted=True)
    code, report, _ = scan("--service", "gallery-image-version", *path_args)
    assert code == 0, report.get("skipped")
    r = {x["id"].rsplit("/images/", 1)[1]: x for x in report["resources"]}
    assert set(r) == {"app/versions/1.0.0", "app/versions/1.1.0", "base/versions/2.0.0"}
    v1 = r["app/versions/1.0.0"]
    assert v1["type"] == "Microsoft.Compute/galleries/images/versions" and v1["service"] == "gallery-image-version"
    assert places(v1) == [("westeurope", "primary"), ("eastus", "replica")]
    assert v1["key_control"] == "provider-managed"
    assert places(r["app/versions/1.1.0"]) == [("westeurope", "primary")]
    assert r["app/versions/1.1.0"]["key_control"] == "customer-managed"
    assert places(r["base/versions/2.0.0"]) == [("northeurope", "primary"), ("japaneast", "replica")]


def test_gallery_keys_are_per_target_region_and_the_weakest_decides() -> None:
    from types import SimpleNamespace

    from residency_audit.clouds.azure import AzureOptions
    from residency_audit.stores.azure.gallery import image_version

    des = {"osDiskImage": {"diskEncryptionSetId": "/des"}}
    item = {
        "id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/1",
        "location": "westeurope",
        "properties": {
            "publishingProfile": {"targetRegions": [{"name": "westeurope", "encryption": des}, {"name": "eastus"}]}
        },
    }
    found = image_version(SimpleNamespace(options=AzureOptions()), "s", item)  # type: ignore[arg-type]
    # the home region listed among the targets is the primary copy, under that entry's own keys
    assert [(c.code, c.key_control) for c in found.footprint] == [
        ("westeurope", "customer-managed"),
        ("eastus", "provider-managed"),
    ]
    assert found.key_control == "provider-managed"  # one region without a customer key: the weakest copy decides


def test_unreadable_image_list_is_a_skip_naming_the_gallery(azure: AzureEndpoint) -> None:
    azure.add_subscription(S1)
    add_image_version(azure, S1, "gal", "app", "1.0.0", "westeurope", ["eastus"])
    azure.add_fault("GET", "galleries/{name}/images", status=403, message="no images for you")
    code, report, _ = scan("--no-resource-graph", "--service", "gallery-image-version")
    assert code == 3 and report["resources"] == []
    [skip] = report["skipped"]
    assert skip["scope"].endswith("/galleries/gal/images") and "no images for you" in skip["reason"]


def test_plan_shared_image_version_target_regions() -> None:
    found = _plan(
        azurerm_shared_image_version__v={"name": "1.0.0", "location": "westeurope",
                                         "target_region": [{"name": "westeurope", "regional_replica_count": 1},
                                                           {"name": "australiaeast", "regional_replica_count": 2}]},
    )  # fmt: skip
    assert _places(found["azurerm_shared_image_version.v"]) == [("westeurope", P), ("australiaeast", R)]
