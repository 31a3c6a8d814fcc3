"""Seeding helpers for the Resource Manager stand-in: the stores of issue 13 (backup vaults, Key Vault, Managed HSM,
SQL Managed Instances, registries, Event Hubs / Service Bus, Log Analytics, Redis, Compute Gallery image versions).

Bodies are built with the SDKs' own models (azure-mgmt-recoveryservices, -dataprotection, -keyvault, -sql,
-containerregistry, -eventhub, -servicebus, -loganalytics, -redis, -compute) and serialised with their wire names, so
the field names and nesting are the real API's. Kept apart from servers/azure.py so that module stays about the wire
protocol.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence

from .azure import _DISPLAY, AzureEndpoint, wire

TENANT = "72f988bf-0000-4000-8000-000000000001"


def add_recovery_vault(
    ep: AzureEndpoint,
    sub: str,
    name: str,
    location: str,
    *,
    redundancy: str | None = "GeoRedundant",
    cross_region_restore: bool = False,
    key_uri: str | None = None,
    rg: str = "backup",
    tags: Mapping[str, str] | None = None,
) -> str:
    """A Recovery Services vault; ``redundancy`` None leaves redundancySettings out (as older API versions do)."""
    from azure.mgmt.recoveryservices import models as m

    props = m.VaultProperties(
        provisioning_state="Succeeded",
        redundancy_settings=m.VaultPropertiesRedundancySettings(
            standard_tier_storage_redundancy=redundancy,
            cross_region_restore="Enabled" if cross_region_restore else "Disabled",
        )
        if redundancy is not None
        else None,
        encryption=m.VaultPropertiesEncryption(key_vault_properties=m.CmkKeyVaultProperties(key_uri=key_uri))
        if key_uri
        else None,
    )
    vault = m.Vault(location=location, tags=dict(tags or {}), sku=m.Sku(name="Standard"), properties=props)
    return ep._put(sub, rg, "Microsoft.RecoveryServices/vaults", name, wire(vault))


def add_backup_vault(
    ep: AzureEndpoint,
    sub: str,
    name: str,
    location: str,
    *,
    storage: Sequence[str] = ("GeoRedundant",),
    replicated_regions: Sequence[str] = (),
    key_uri: str | None = None,
    rg: str = "backup",
    tags: Mapping[str, str] | None = None,
) -> str:
    """A Data Protection backup vault with one VaultStore storage setting per ``storage`` type."""
    from azure.mgmt.dataprotection import models as m

    security = (
        m.SecuritySettings(
            encryption_settings=m.EncryptionSettings(
                state="Enabled", key_vault_properties=m.CmkKeyVaultProperties(key_uri=key_uri)
            )
        )
        if key_uri
        else None
    )
    props = m.BackupVault(
        storage_settings=[m.StorageSetting(datastore_type="VaultStore", type=t) for t in storage],
        replicated_regions=list(replicated_regions) or None,
        security_settings=security,
    )
    vault = m.BackupVaultResource(location=location, tags=dict(tags or {}), properties=props)
    return ep._put(sub, rg, "Microsoft.DataProtection/backupVaults", name, wire(vault))


def add_key_vault(
    ep: AzureEndpoint, sub: str, name: str, location: str, *, rg: str = "keys", tags: Mapping[str, str] | None = None
) -> str:
    """A Key Vault (standard SKU)."""
    from azure.mgmt.keyvault import models as m

    props = m.VaultProperties(
        tenant_id=TENANT, sku=m.Sku(family="A", name="standard"), vault_uri=f"https://{name}.vault.azure.net/"
    )
    return ep._put(
        sub,
        rg,
        "Microsoft.KeyVault/vaults",
        name,
        wire(m.Vault(location=location, tags=dict(tags or {}), properties=props)),
    )


def add_managed_hsm(
    ep: AzureEndpoint, sub: str, name: str, location: str, *, extended: Sequence[str] = (), rg: str = "keys"
) -> str:
    """A Managed HSM pool; ``extended``: the regions multi-region replication extended it to."""
    from azure.mgmt.keyvault import models as m

    regions = [m.MHSMGeoReplicatedRegion(name=location, is_primary=True)] + [
        m.MHSMGeoReplicatedRegion(name=r, is_primary=False) for r in extended
    ]
    props = m.ManagedHsmProperties(tenant_id=TENANT, hsm_uri=f"https://{name}.managedhsm.azure.net/", regions=regions)
    hsm = m.ManagedHsm(location=location, sku=m.ManagedHsmSku(family="B", name="Standard_B1"), properties=props)
    return ep._put(sub, rg, "Microsoft.KeyVault/managedHSMs", name, wire(hsm))


def add_managed_instance(
    ep: AzureEndpoint,
    sub: str,
    name: str,
    location: str,
    *,
    backup: str | None = "Geo",
    cmk: bool = False,
    rg: str = "sql",
) -> str:
    """A SQL Managed Instance with its TDE protector; ``backup`` its backup storage redundancy (None: not reported)."""
    from azure.mgmt.sql import models as m

    props = m.ManagedInstanceProperties(
        administrator_login="admin",
        state="Ready",
        requested_backup_storage_redundancy=backup,
        current_backup_storage_redundancy=backup,
    )
    mid = ep._put(
        sub, rg, "Microsoft.Sql/managedInstances", name, wire(m.ManagedInstance(location=location, properties=props))
    )
    protector = m.ManagedInstanceEncryptionProtector(
        properties=m.ManagedInstanceEncryptionProtectorProperties(
            server_key_type="AzureKeyVault" if cmk else "ServiceManaged",
            uri="https://vault.vault.azure.net/keys/mi/1" if cmk else None,
        )
    )
    body = wire(protector) | {"id": f"{mid}/encryptionProtector/current", "name": "current"}
    ep._child(mid, "encryptionProtector", body)
    return mid


def add_instance_failover_group(ep: AzureEndpoint, name: str, primary_id: str, partner_id: str) -> None:
    """An instance failover group, listed at both instances' resource group and location, as each side sees it."""
    from azure.mgmt.sql import models as m

    primary, partner = ep._resources[primary_id.lower()], ep._resources[partner_id.lower()]
    for this, other, role in ((primary, partner, "Primary"), (partner, primary, "Secondary")):
        group = m.InstanceFailoverGroup(
            properties=m.InstanceFailoverGroupProperties(
                read_write_endpoint=m.InstanceFailoverGroupReadWriteEndpoint(failover_policy="Manual"),
                replication_role=role,
                partner_regions=[m.PartnerRegionInfo(location=_DISPLAY.get(other["location"], other["location"]))],
                managed_instance_pairs=[
                    m.ManagedInstancePairInfo(
                        primary_managed_instance_id=primary_id, partner_managed_instance_id=partner_id
                    )
                ],
            )
        )
        where = f"{this['id'].split('/providers/')[0]}/providers/Microsoft.Sql/locations/{this['location']}"
        body = wire(group) | {"id": f"{where}/instanceFailoverGroups/{name}", "name": name}
        ep._child(where, "instanceFailoverGroups", body)


def add_registry(
    ep: AzureEndpoint,
    sub: str,
    name: str,
    location: str,
    *,
    sku: str = "Premium",
    replicas: Sequence[str] = (),
    key_id: str | None = None,
    rg: str = "apps",
) -> str:
    """A container registry; ``replicas``: regions it is replicated to (the home region's replication is listed too,
    as the real API lists it)."""
    from azure.mgmt.containerregistry import models as m

    encryption = (
        m.EncryptionProperty(status="enabled", key_vault_properties=m.KeyVaultProperties(key_identifier=key_id))
        if key_id
        else m.EncryptionProperty(status="disabled")
    )
    props = m.RegistryProperties(admin_user_enabled=False, encryption=encryption, login_server=f"{name}.azurecr.io")
    rid = ep._put(
        sub,
        rg,
        "Microsoft.ContainerRegistry/registries",
        name,
        wire(m.Registry(location=location, sku=m.Sku(name=sku), properties=props)),
    )
    if sku == "Premium":
        for where in (location, *replicas):
            body = wire(m.Replication(location=where, properties=m.ReplicationProperties(region_endpoint_enabled=True)))
            body |= {
                "id": f"{rid}/replications/{where}",
                "name": where,
                "type": "Microsoft.ContainerRegistry/registries/replications",
            }
            ep._child(rid, "replications", body)
    return rid


def add_namespace(
    ep: AzureEndpoint,
    engine: str,
    sub: str,
    name: str,
    location: str,
    *,
    replicas: Sequence[str] = (),
    key: str | None = None,
    rg: str = "messaging",
) -> str:
    """An Event Hubs (``engine="eventhub"``) or Service Bus (``"servicebus"``) namespace, geo-replicated to
    ``replicas`` (the primary is listed among the locations, as the real API lists it)."""
    if engine == "eventhub":
        from azure.mgmt.eventhub import models as m

        rtype, make = "Microsoft.EventHub/namespaces", m.EHNamespace
    else:
        from azure.mgmt.servicebus import models as m  # type: ignore[no-redef]

        rtype, make = "Microsoft.ServiceBus/namespaces", m.SBNamespace
    geo = (
        m.GeoDataReplicationProperties(
            locations=[m.NamespaceReplicaLocation(location_name=location, role_type="Primary")]
            + [m.NamespaceReplicaLocation(location_name=r, role_type="Secondary") for r in replicas]
        )
        if replicas
        else None
    )
    encryption = (
        m.Encryption(
            key_source="Microsoft.KeyVault",
            key_vault_properties=[m.KeyVaultProperties(key_name=key, key_vault_uri="https://kv.vault.azure.net")],
        )
        if key
        else None
    )
    body = wire(make(location=location, geo_data_replication=geo, encryption=encryption))
    return ep._put(sub, rg, rtype, name, body)


def add_workspace(
    ep: AzureEndpoint,
    sub: str,
    name: str,
    location: str,
    *,
    replica: str | None = None,
    cluster: str | None = None,
    rg: str = "logs",
) -> str:
    """A Log Analytics workspace; ``replica``: its workspace-replication region; ``cluster``: a dedicated cluster id."""
    from azure.mgmt.loganalytics import models as m

    workspace = m.Workspace(
        location=location,
        replication=m.WorkspaceReplicationProperties(location=replica, enabled=True) if replica else None,
        features=m.WorkspaceFeatures(cluster_resource_id=cluster) if cluster else None,
    )
    return ep._put(sub, rg, "Microsoft.OperationalInsights/workspaces", name, wire(workspace))


def add_redis(ep: AzureEndpoint, sub: str, name: str, location: str, *, sku: str = "Premium", rg: str = "cache") -> str:
    """An Azure Cache for Redis."""
    from azure.mgmt.redis import models as m

    family = "P" if sku == "Premium" else "C"
    body = wire(m.RedisResource(location=location, sku=m.Sku(name=sku, family=family, capacity=1)))
    return ep._put(sub, rg, "Microsoft.Cache/Redis", name, body)


def add_redis_link(ep: AzureEndpoint, primary_id: str, secondary_id: str) -> None:
    """A geo-replication link between two caches, listed by both (each with its own role), as the real API does."""
    from azure.mgmt.redis import models as m

    primary, secondary = ep._resources[primary_id.lower()], ep._resources[secondary_id.lower()]
    for this, other, role in ((primary, secondary, "Primary"), (secondary, primary, "Secondary")):
        link = m.RedisLinkedServerWithProperties(
            linked_redis_cache_id=other["id"],
            linked_redis_cache_location=_DISPLAY.get(other["location"], other["location"]),
            server_role=role,
        )
        body = wire(link) | {"id": f"{this['id']}/linkedServers/{other['name']}", "name": other["name"]}
        ep._child(this["id"], "linkedServers", body)


def add_image_version(
    ep: AzureEndpoint,
    sub: str,
    gallery: str,
    image: str,
    version: str,
    location: str,
    targets: Sequence[str],
    *,
    encrypted: bool = False,
    rg: str = "images",
) -> str:
    """A gallery (created on first use), an image definition and a version replicated to ``targets`` (regions)."""
    from azure.mgmt.compute import models as m

    gid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{gallery}"
    if gid.lower() not in ep._resources:
        ep._put(sub, rg, "Microsoft.Compute/galleries", gallery, wire(m.Gallery(location=location)))
    iid = f"{gid}/images/{image}"
    if iid.lower() not in ep._resources:
        definition = m.GalleryImage(
            location=location,
            os_type="Linux",
            os_state="Generalized",
            identifier=m.GalleryImageIdentifier(publisher="acme", offer="app", sku=image),
        )
        ep._put(sub, rg, "Microsoft.Compute/galleries/images", image, wire(definition), iid)
    des = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/diskEncryptionSets/des"
    regions = [
        m.TargetRegion(
            name=_DISPLAY.get(t, t),
            regional_replica_count=1,
            encryption=m.EncryptionImages(os_disk_image=m.OSDiskImageEncryption(disk_encryption_set_id=des))
            if encrypted
            else None,
        )
        for t in targets
    ]
    body = wire(
        m.GalleryImageVersion(
            location=location, publishing_profile=m.GalleryImageVersionPublishingProfile(target_regions=regions)
        )
    )
    return ep._put(sub, rg, "Microsoft.Compute/galleries/images/versions", version, body, f"{iid}/versions/{version}")


def add_object_replication(
    ep: AzureEndpoint,
    source_id: str,
    destination: str,
    containers: Sequence[tuple[str, str]] = (("data", "data-copy"),),
    *,
    policy_id: str | None = None,
    destination_listed: bool = True,
) -> str:
    """A blob object replication policy from the account ``source_id`` to ``destination`` (an account id, or a bare
    name as with cross-tenant replication); listed on the source and, as the real API does, on the destination when it
    is in this estate (``destination_listed``). Built with azure-mgmt-storage's ``ObjectReplicationPolicy``."""
    import uuid

    from azure.mgmt.storage import models as m

    pid = policy_id or str(uuid.uuid5(uuid.NAMESPACE_URL, source_id + destination))
    rules = [
        m.ObjectReplicationPolicyRule(rule_id=f"rule-{i}", source_container=a, destination_container=b)
        for i, (a, b) in enumerate(containers)
    ]
    props = m.ObjectReplicationPolicyProperties(source_account=source_id, destination_account=destination, rules=rules)
    props.policy_id = pid
    props.enabled_time = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    for account in (source_id, destination) if destination_listed and destination.startswith("/") else (source_id,):
        body = wire(m.ObjectReplicationPolicy(properties=props))
        body |= {
            "id": f"{account}/objectReplicationPolicies/{pid}",
            "name": pid,
            "type": "Microsoft.Storage/storageAccounts/objectReplicationPolicies",
        }
        ep._child(account, "objectReplicationPolicies", body)
    return pid
