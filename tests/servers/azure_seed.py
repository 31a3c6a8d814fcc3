"""Seeding helpers of the Resource Manager stand-in for the first stores (subscriptions, storage accounts, Cosmos DB,
Azure SQL, flexible servers, disks): a mixin of :class:`AzureEndpoint` (servers/azure.py), so tests call them as
``endpoint.add_storage_account(...)``.

Bodies are built with the SDKs' own model classes and serialised with their wire names (:func:`wire`), so field names
and nesting are the real API's. The tool under test never writes: only tests seed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from .azure_wire import _DISPLAY, TENANT, _sub_rg, wire


class Seeding:
    """What a test puts in the estate; the endpoint serves it."""

    _lock: threading.Lock
    _subscriptions: dict[str, dict[str, Any]]
    _groups: dict[str, dict[str, dict[str, Any]]]
    _resources: dict[str, dict[str, Any]]
    _children: dict[tuple[str, str], list[dict[str, Any]]]

    def add_subscription(self, sub: str, name: str | None = None, state: str = "Enabled") -> str:
        """A subscription the credential can see."""
        from azure.mgmt.resource.subscriptions.models import Subscription

        model = Subscription()
        for attr, value in (
            ("id", f"/subscriptions/{sub}"),
            ("subscription_id", sub),
            ("display_name", name or f"subscription {sub[:8]}"),
            ("state", state),
            ("tenant_id", TENANT),
        ):
            setattr(model, attr, value)
        with self._lock:
            self._subscriptions[sub] = wire(model)
        return sub

    def _group(self, sub: str, rg: str, location: str) -> None:
        groups = self._groups.setdefault(sub, {})
        groups.setdefault(
            rg.lower(),
            {
                "id": f"/subscriptions/{sub}/resourceGroups/{rg}",
                "name": rg,
                "type": "Microsoft.Resources/resourceGroups",
                "location": location,
                "properties": {"provisioningState": "Succeeded"},
            },
        )

    def _put(self, sub: str, rg: str, rtype: str, name: str, body: dict[str, Any], rid: str | None = None) -> str:
        rid = rid or f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{rtype}/{name}"
        body.update({"id": rid, "name": name, "type": rtype})
        with self._lock:
            self._group(sub, rg, str(body.get("location", "westeurope")))
            self._resources[rid.lower()] = body
        return rid

    def _child(self, parent: str, kind: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._children.setdefault((parent.lower(), kind), []).append(body)

    def add_storage_account(
        self,
        sub: str,
        name: str,
        location: str,
        sku: str = "Standard_LRS",
        *,
        rg: str = "data",
        secondary_location: str | None = None,
        key_source: str = "Microsoft.Storage",
        tags: Mapping[str, str] | None = None,
        kind: str = "StorageV2",
    ) -> str:
        """A storage account; ``secondary_location`` is what the API reports (None: no such field)."""
        from azure.mgmt.storage import models as m

        props = m.StorageAccountProperties(
            primary_location=location,
            secondary_location=secondary_location,
            status_of_primary="available",
            status_of_secondary="available" if secondary_location else None,
            provisioning_state="Succeeded",
            encryption=m.Encryption(
                key_source=key_source,
                key_vault_properties=m.KeyVaultProperties(
                    key_name="storage-key", key_vault_uri="https://vault.vault.azure.net/"
                )
                if key_source == "Microsoft.Keyvault"
                else None,
            ),
        )
        account = m.StorageAccount(
            location=location, sku=m.Sku(name=sku), kind=kind, tags=dict(tags or {}), properties=props
        )
        return self._put(sub, rg, "Microsoft.Storage/storageAccounts", name, wire(account))

    def add_cosmosdb(
        self,
        sub: str,
        name: str,
        locations: Sequence[str],
        *,
        rg: str = "data",
        key_vault_key_uri: str | None = None,
        backup_redundancy: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """A Cosmos DB account replicated to ``locations`` (display names, failover priority in order)."""
        from azure.mgmt.cosmosdb import models as m

        locs = [
            m.Location(
                id=f"{name}-{loc.replace(' ', '').lower()}",
                location_name=loc,
                failover_priority=i,
                is_zone_redundant=False,
            )
            for i, loc in enumerate(locations)
        ]
        backup = (
            m.PeriodicModeBackupPolicy(
                periodic_mode_properties=m.PeriodicModeProperties(
                    backup_interval_in_minutes=240,
                    backup_retention_interval_in_hours=8,
                    backup_storage_redundancy=backup_redundancy,
                )
            )
            if backup_redundancy
            else None
        )
        props = m.DatabaseAccountGetProperties(
            provisioning_state="Succeeded",
            database_account_offer_type="Standard",
            locations=locs,
            write_locations=locs[:1],
            read_locations=locs,
            failover_policies=[
                m.FailoverPolicy(location_name=loc.location_name, failover_priority=loc.failover_priority)
                for loc in locs
            ],
            key_vault_key_uri=key_vault_key_uri,
            backup_policy=backup,
        )
        account = m.DatabaseAccountGetResults(
            location=locations[0], kind="GlobalDocumentDB", tags=dict(tags or {}), properties=props
        )
        return self._put(sub, rg, "Microsoft.DocumentDB/databaseAccounts", name, wire(account))

    def add_sql_server(self, sub: str, name: str, location: str, *, rg: str = "data", cmk: bool = False) -> str:
        """A logical SQL server (with its ``master`` database, as the real API lists it)."""
        from azure.mgmt.sql import models as m

        server = m.Server(
            location=location,
            kind="v12.0",
            properties=m.ServerProperties(
                administrator_login="admin",
                version="12.0",
                state="Ready",
                fully_qualified_domain_name=f"{name}.database.windows.net",
            ),
        )
        sid = self._put(sub, rg, "Microsoft.Sql/servers", name, wire(server))
        self.add_sql_database(sid, "master", location, kind="v12.0,system", backup=None)
        key_type = "AzureKeyVault" if cmk else "ServiceManaged"
        protector = m.EncryptionProtector(
            properties=m.EncryptionProtectorProperties(
                server_key_type=key_type,
                server_key_name="vault_key_1" if cmk else "ServiceManaged",
                uri="https://vault.vault.azure.net/keys/key/1" if cmk else None,
            )
        )
        body = wire(protector)
        body.update(
            {
                "id": f"{sid}/encryptionProtector/current",
                "name": "current",
                "kind": "azurekeyvault" if cmk else "servicemanaged",
                "type": "Microsoft.Sql/servers/encryptionProtector",
            }
        )
        self._child(sid, "encryptionProtector", body)
        return sid

    def add_sql_database(
        self,
        server_id: str,
        name: str,
        location: str,
        *,
        backup: str | None = "Local",
        kind: str = "v12.0,user",
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """A database of ``server_id``; ``backup`` is its backup storage redundancy (Geo, GeoZone, Local, Zone)."""
        from azure.mgmt.sql import models as m

        props = m.DatabaseProperties(
            status="Online",
            requested_backup_storage_redundancy=backup,
            current_backup_storage_redundancy=backup,
        )
        db = m.Database(location=location, kind=kind, tags=dict(tags or {}), properties=props, sku=m.Sku(name="S0"))
        sub, rg = _sub_rg(server_id)
        return self._put(sub, rg, "Microsoft.Sql/servers/databases", name, wire(db), f"{server_id}/databases/{name}")

    def add_failover_group(self, server_id: str, name: str, partner_server_id: str, databases: Sequence[str]) -> None:
        """A failover group from ``server_id`` to ``partner_server_id`` holding ``databases`` (ids)."""
        from azure.mgmt.sql import models as m

        partner = self._resources[partner_server_id.lower()]
        group = m.FailoverGroup(
            location=self._resources[server_id.lower()]["location"],
            properties=m.FailoverGroupProperties(
                read_write_endpoint=m.FailoverGroupReadWriteEndpoint(failover_policy="Manual"),
                replication_role="Primary",
                replication_state="CATCH_UP",
                partner_servers=[
                    m.PartnerInfo(
                        id=partner_server_id,
                        location=_DISPLAY.get(partner["location"], partner["location"]),
                        replication_role="Secondary",
                    )
                ],
                databases=list(databases),
            ),
        )
        body = wire(group)
        body.update(
            {"id": f"{server_id}/failoverGroups/{name}", "name": name, "type": "Microsoft.Sql/servers/failoverGroups"}
        )
        self._child(server_id, "failoverGroups", body)

    def add_replication_link(self, db_id: str, partner_db_id: str, role: str = "Primary") -> None:
        """A geo-replication link from ``db_id`` to ``partner_db_id`` (both existing databases), and the link back
        that the partner's server reports, as the real API does."""
        self._link(db_id, partner_db_id, role)
        self._link(partner_db_id, db_id, "Secondary" if role == "Primary" else "Primary")

    def _link(self, db_id: str, partner_db_id: str, role: str) -> None:
        from azure.mgmt.sql import models as m

        partner = self._resources[partner_db_id.lower()]
        partner_server = partner_db_id.split("/databases/")[0].rsplit("/", 1)[-1]
        link = m.ReplicationLink(
            properties=m.ReplicationLinkProperties(
                partner_server=partner_server,
                partner_database=partner["name"],
                partner_database_id=partner_db_id,
                partner_location=_DISPLAY.get(partner["location"], partner["location"]),
                role=role,
                partner_role="Secondary" if role == "Primary" else "Primary",
                replication_mode="ASYNC",
                replication_state="CATCH_UP",
                link_type="GEO",
            )
        )
        body = wire(link)
        link_id = str(uuid.uuid5(uuid.NAMESPACE_URL, db_id + partner_db_id))
        body.update(
            {
                "id": f"{db_id}/replicationLinks/{link_id}",
                "name": link_id,
                "type": "Microsoft.Sql/servers/databases/replicationLinks",
            }
        )
        self._child(db_id.split("/databases/")[0], "replicationLinks", body)

    def add_flexible_server(
        self,
        engine: str,
        sub: str,
        name: str,
        location: str,
        *,
        rg: str = "data",
        geo_backup: bool = False,
        source: str | None = None,
        cmk: bool = False,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """A PostgreSQL (``engine="postgresql"``) or MySQL (``"mysql"``) flexible server; ``source``: a replica's
        source server id (which then reports the primary/source role and lists the replica)."""
        geo = "Enabled" if geo_backup else "Disabled"
        if engine == "postgresql":
            from azure.mgmt.postgresqlflexibleservers import models as p

            props = p.ServerProperties(
                version="16",
                state="Ready",
                backup=p.Backup(backup_retention_days=7, geo_redundant_backup=geo),
                data_encryption=p.DataEncryption(
                    type="AzureKeyVault" if cmk else "SystemManaged",
                    primary_key_uri="https://vault.vault.azure.net/keys/pg/1" if cmk else None,
                ),
                replication_role="AsyncReplica" if source else "None",
                source_server_resource_id=source,
            )
            body = wire(p.Server(location=location, tags=dict(tags or {}), properties=props))
            rtype, primary_role = "Microsoft.DBforPostgreSQL/flexibleServers", "Primary"
        else:
            from azure.mgmt.mysqlflexibleservers import models as my

            server = my.Server(
                location=location,
                tags=dict(tags or {}),
                version="8.0.21",
                backup=my.Backup(backup_retention_days=7, geo_redundant_backup=geo),
                data_encryption=my.DataEncryption(
                    type="AzureKeyVault" if cmk else "SystemManaged",
                    primary_key_uri="https://vault.vault.azure.net/keys/my/1" if cmk else None,
                ),
                replication_role="Replica" if source else "None",
                source_server_resource_id=source,
            )
            body = wire(server)
            rtype, primary_role = "Microsoft.DBforMySQL/flexibleServers", "Source"
        rid = self._put(sub, rg, rtype, name, body)
        if source:
            with self._lock:
                self._resources[source.lower()]["properties"]["replicationRole"] = primary_role
            self._child(source, "replicas", body)
        return rid

    def add_disk(
        self,
        sub: str,
        name: str,
        location: str,
        *,
        rg: str = "data",
        snapshot: bool = False,
        customer_key: bool = False,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """A managed disk (or, with ``snapshot``, a snapshot)."""
        from azure.mgmt.compute import models as m

        encryption = (
            m.Encryption(
                type="EncryptionAtRestWithCustomerKey",
                disk_encryption_set_id=f"/subscriptions/{sub}/resourceGroups/{rg}/providers/"
                "Microsoft.Compute/diskEncryptionSets/des",
            )
            if customer_key
            else m.Encryption(type="EncryptionAtRestWithPlatformKey")
        )
        creation = m.CreationData(create_option="Empty")
        if snapshot:
            item: Any = m.Snapshot(
                location=location,
                tags=dict(tags or {}),
                properties=m.SnapshotProperties(creation_data=creation, disk_size_gb=8, encryption=encryption),
            )
            rtype = "Microsoft.Compute/snapshots"
        else:
            item = m.Disk(
                location=location,
                tags=dict(tags or {}),
                sku=m.DiskSku(name="Premium_LRS"),
                properties=m.DiskProperties(creation_data=creation, disk_size_gb=8, encryption=encryption),
            )
            rtype = "Microsoft.Compute/disks"
        return self._put(sub, rg, rtype, name, wire(item))
