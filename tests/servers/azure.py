"""A local Azure Resource Manager endpoint: the REST API the Azure connector reads, over TLS, in one small server.

No emulator exists for Resource Manager (Azurite is data-plane only), so this speaks just enough of it:
subscriptions, resource groups, ``/resources`` with ``$filter``, per-type lists for the data stores the tool reads,
GET by id, SQL servers' databases / failover groups / replication links / encryption protector, flexible servers'
replicas, and Resource Graph queries (``POST /providers/Microsoft.ResourceGraph/resources``, ``$skipToken`` paging).
Lists page through ``nextLink`` (``page_size`` makes pages small). Bodies are shaped with the SDKs' own model classes
(``azure-mgmt-storage``, ``-cosmosdb``, ``-sql``, ``-postgresqlflexibleservers``, ``-mysqlflexibleservers``,
``-compute``, ``-resourcegraph``) so their field names and nesting are the real API's.

The tool under test reaches it unchanged: ``RESIDENCY_AUDIT_AZURE_ENDPOINT`` points at it, ``REQUESTS_CA_BUNDLE``
trusts its trustme certificate (azure-core's bearer-token policy refuses plain http), and
``AZURE_TOKEN_CREDENTIALS=AzureCliCredential`` with a stand-in ``az`` on ``PATH`` makes the real
``DefaultAzureCredential`` fetch a token (the stand-in logs the ``--resource`` it was asked for).

Every request is logged with its (method, path pattern); requests without ``Authorization: Bearer <token>`` get 401;
faults (403, 429 with Retry-After, …) are injected with :meth:`AzureEndpoint.add_fault`; ``latency`` delays every
answer (the benchmark). Seeding helpers are methods; the tool under test never writes.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import stat
import struct
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlencode, urlsplit

from .base import Endpoint, FaultMode

__all__ = ["AzureEndpoint", "Fault", "RequestRecord"]


GRAPH_PATH = "/providers/microsoft.resourcegraph/resources"
# Azure SQL spells a failover partner's and a replication link's partner location as a display name ("Japan East").
_DISPLAY = {
    "eastus": "East US",
    "westus": "West US",
    "westeurope": "West Europe",
    "northeurope": "North Europe",
    "francecentral": "France Central",
    "germanywestcentral": "Germany West Central",
    "swedencentral": "Sweden Central",
    "brazilsouth": "Brazil South",
    "japaneast": "Japan East",
}
TENANT = "72f988bf-0000-4000-8000-000000000001"


class RequestRecord(NamedTuple):
    """One request as the server saw it."""

    method: str
    pattern: str  # the path with ids replaced: /subscriptions/{subscriptionId}/providers/Microsoft.Storage/...
    path: str
    subscription: str | None
    status: int


@dataclass
class Fault:
    """A fault rule. ``pattern`` is a substring of the request's path pattern (None: any); ``subscription`` matches
    the path's subscription, or for a Resource Graph query any subscription in its body. ``hits`` counts firings."""

    method: str | None = None
    pattern: str | None = None
    subscription: str | None = None
    status: int = 403
    code: str = "AuthorizationFailed"
    message: str = "Injected fault"
    retry_after: int | None = None
    times: int | None = None
    hits: int = 0
    mode: FaultMode = "error"
    delay: float = 0.0

    def matches(self, method: str, pattern: str, subscriptions: Iterable[str]) -> bool:
        """Whether this rule applies (ignoring how many firings are left)."""
        return (
            (self.method is None or self.method == method)
            and (self.pattern is None or self.pattern.lower() in pattern.lower())
            and (self.subscription is None or self.subscription in subscriptions)
        )


def wire(model: Any) -> dict[str, Any]:
    """The JSON body of an SDK model, read-only fields included (both generations of generated models)."""
    if hasattr(model, "serialize"):  # msrest-style (its as_dict() would use Python attribute names)
        return dict(model.serialize(keep_readonly=True))
    return dict(model.as_dict())


def _norm_type(rtype: str) -> str:
    return rtype.lower()


class AzureEndpoint(Endpoint):
    """The server on a free 127.0.0.1 port over TLS; use as a context manager or call start()/stop().

    ``url`` is the Resource Manager endpoint, ``ca_path`` the CA bundle to trust, ``env()`` a child environment.
    Switches read on every request: ``latency`` (seconds), ``page_size`` (largest page of any list or Graph query;
    None: the client's ``$top`` or everything).
    """

    def __init__(self, *, latency: float = 0.0, page_size: int | None = None) -> None:
        super().__init__()
        self.latency = latency
        self.page_size = page_size
        self.token = "fake-arm-token-" + uuid.uuid4().hex
        self.url = ""
        self.ca_path = ""
        self.bin_dir = ""
        self.az_log = ""
        self._subscriptions: dict[str, dict[str, Any]] = {}
        self._groups: dict[str, dict[str, dict[str, Any]]] = {}  # subscription → lower name → group
        self._resources: dict[str, dict[str, Any]] = {}  # lower id → body
        self._children: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (lower parent id, kind) → bodies
        self._server: _Server | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> AzureEndpoint:
        """Issue a certificate, write the CA bundle and the stand-in ``az``, and serve."""
        import trustme

        self._tmp = tempfile.mkdtemp(prefix="azure-endpoint-")
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_path = os.path.join(self._tmp, "ca.pem")
        ca.cert_pem.write_to_path(self.ca_path)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        self.bin_dir = os.path.join(self._tmp, "bin")
        os.mkdir(self.bin_dir)
        self.az_log = os.path.join(self._tmp, "az.log")
        self._write_az()
        self._server = _Server(self, ctx)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._serve(self._server, "azure-arm")
        return self

    def reset(self) -> None:
        """No subscriptions, resources, faults or log; default switches."""
        with self._lock:
            self._faults.clear()
            self._requests.clear()
            self._subscriptions.clear()
            self._groups.clear()
            self._resources.clear()
            self._children.clear()
        self.latency = 0.0
        self.page_size = None
        if self.az_log and os.path.exists(self.az_log):
            os.remove(self.az_log)

    def _write_az(self) -> None:
        """A stand-in ``az`` that prints what ``az account get-access-token`` prints, and logs its arguments."""
        script = os.path.join(self.bin_dir, "az")
        body = f"""#!{sys.executable}
import json, sys, time
with open({self.az_log!r}, "a", encoding="utf-8") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
if sys.argv[1:3] != ["account", "get-access-token"]:
    sys.stderr.write("stand-in az: only 'account get-access-token' is supported\\n")
    sys.exit(2)
expires = int(time.time()) + 3600
print(json.dumps({{
    "accessToken": {self.token!r},
    "expiresOn": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.localtime(expires)),
    "expires_on": expires,
    "subscription": "00000000-0000-0000-0000-000000000000",
    "tenant": {TENANT!r},
    "tokenType": "Bearer",
}}))
"""
        with open(script, "w", encoding="utf-8") as f:
            f.write(body)
        os.chmod(script, os.stat(script).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for the tool: ``base`` minus ``AZURE_*``, plus the endpoint, the CA and the stand-in ``az``."""
        out = {k: v for k, v in (base or {}).items() if not k.startswith("AZURE_")}
        out.update(
            {
                "RESIDENCY_AUDIT_AZURE_ENDPOINT": self.url,
                "REQUESTS_CA_BUNDLE": self.ca_path,
                "AZURE_TOKEN_CREDENTIALS": "AzureCliCredential",
                "PATH": self.bin_dir + os.pathsep + (base or {}).get("PATH", os.defpath),
                # the real az reads its config from here; the stand-in ignores it, but never the developer's own
                "AZURE_CONFIG_DIR": os.path.join(self._tmp or "", "azure-config"),
            }
        )
        return out

    def az_calls(self) -> list[str]:
        """The argument lines the stand-in ``az`` was called with since the last reset."""
        if not os.path.exists(self.az_log):
            return []
        with open(self.az_log, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]

    # -- faults and the request log ----------------------------------------------------------------------------

    def add_fault(
        self,
        method: str | None = None,
        pattern: str | None = None,
        subscription: str | None = None,
        *,
        status: int = 403,
        code: str = "AuthorizationFailed",
        message: str = "Injected fault",
        retry_after: int | None = None,
        times: int | None = None,
        mode: FaultMode = "error",
        delay: float = 0.0,
    ) -> Fault:
        """Answer matching requests with ``status`` and an ARM error body; the first live matching rule wins.

        Other ``mode``s: ``reset`` drops the connection with a TCP RST; ``timeout`` holds the request ``delay``
        seconds (0: 600) and closes without answering; ``truncate`` sends the real answer's headers and half its
        body; ``malformed`` answers 200 with a body that is not JSON.
        """
        return self._add_fault(
            Fault(method, pattern, subscription, status, code, message, retry_after, times, mode=mode, delay=delay),
            mode,
        )

    @property
    def counts(self) -> Counter[tuple[str, str]]:
        """Requests per (method, path pattern), retries and failures included."""
        with self._lock:
            return Counter((r.method, r.pattern) for r in self._requests)

    # -- seeding -------------------------------------------------------------------------------------------------

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
            location=location, sku=m.Sku(name=sku), kind="StorageV2", tags=dict(tags or {}), properties=props
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

    # -- answering ---------------------------------------------------------------------------------------------

    def _page(self, items: list[dict[str, Any]], url: str, query: dict[str, list[str]], base: str) -> dict[str, Any]:
        start = int(query.get("$skiptoken", ["0"])[0] or 0)
        top = query.get("$top", [""])[0]
        size = int(top) if top else None
        if self.page_size is not None:
            size = min(size or self.page_size, self.page_size)
        page = items[start:] if size is None else items[start : start + size]
        out: dict[str, Any] = {"value": page}
        if size is not None and start + size < len(items):
            q = {k: v[0] for k, v in query.items() if k != "$skiptoken"}
            q["$skiptoken"] = str(start + size)
            out["nextLink"] = f"{base}{url}?{urlencode(q)}"
        return out

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        """One request → (status, extra headers, JSON body)."""
        split = urlsplit(target)
        path = split.path.rstrip("/") or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        pattern = _pattern(path)
        sub = _subscription_of(path)
        request: dict[str, Any] = {}
        if method == "POST" and body:
            try:
                request = json.loads(body)
            except ValueError:
                request = {}
        subs = [sub] if sub else [str(s) for s in request.get("subscriptions", [])]
        auth = headers.get("authorization", "")

        def done(status: int, extra: dict[str, str], doc: Any) -> tuple[int, dict[str, str], Any]:
            with self._lock:
                self._requests.append(RequestRecord(method, pattern, path, sub, status))
            return status, extra, doc

        if auth != f"Bearer {self.token}":
            return done(
                401,
                {
                    "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                    'error="invalid_token", error_description="The authentication failed"'
                },
                _error(
                    "InvalidAuthenticationToken" if auth else "AuthenticationFailed",
                    "The access token is invalid."
                    if auth
                    else "Authentication failed. The 'Authorization' header is missing.",
                ),
            )
        if "api-version" not in query:
            return done(400, {}, _error("MissingApiVersionParameter", "The api-version query parameter is required."))
        fault = self.live_fault(lambda f: f.matches(method, pattern, subs))
        if fault is not None and fault.mode == "error":
            extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return done(fault.status, extra, _error(fault.code, fault.message))
        try:
            status, doc = self._route(method, path, query, request, split.path)
        except KeyError as exc:
            status, doc = 404, _error("ResourceNotFound", f"The resource {exc.args[0]} was not found.")
        # a fault on the wire rather than in the answer: the handler reads (and removes) these two keys
        extra = {_FAULT_MODE: fault.mode, _FAULT_DELAY: str(fault.delay)} if fault is not None else {}
        return done(status, extra, doc)

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], request: dict[str, Any], raw_path: str
    ) -> tuple[int, Any]:
        low = path.lower()
        parts = [p for p in path.split("/") if p]
        lparts = [p.lower() for p in parts]
        if method == "POST":
            if low == GRAPH_PATH:
                return self._graph(request)
            return 405, _error("MethodNotAllowed", "Only the Resource Graph query is a POST here.")
        if method != "GET":
            return 405, _error("MethodNotAllowed", f"{method} is not served by this test endpoint.")
        with self._lock:
            subscriptions = dict(self._subscriptions)
            resources = dict(self._resources)
            groups = {k: dict(v) for k, v in self._groups.items()}
            children = dict(self._children)
        if lparts == ["subscriptions"]:
            return 200, self._page(list(subscriptions.values()), raw_path, query, self.url)
        if len(parts) < 2 or lparts[0] != "subscriptions":
            raise KeyError(path)
        sub = parts[1]
        if sub not in subscriptions:
            return 404, _error("SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        if len(parts) == 2:
            return 200, subscriptions[sub]
        if lparts[2:] == ["resourcegroups"]:
            return 200, self._page(list(groups.get(sub, {}).values()), raw_path, query, self.url)
        if lparts[2:] == ["resources"]:
            items = [r for k, r in resources.items() if k.startswith(f"/subscriptions/{sub.lower()}/")]
            wanted = re.findall(r"resourceType eq '([^']+)'", query.get("$filter", [""])[0], re.IGNORECASE)
            if wanted:
                items = [r for r in items if _norm_type(r["type"]) in {_norm_type(w) for w in wanted}]
            brief = [
                {k: r[k] for k in ("id", "name", "type", "location", "tags", "kind", "sku") if k in r} for r in items
            ]
            return 200, self._page(brief, raw_path, query, self.url)
        if lparts[2] == "providers" and len(parts) == 5:
            rtype = f"{parts[3]}/{parts[4]}".lower()
            items = [
                r
                for k, r in resources.items()
                if k.startswith(f"/subscriptions/{sub.lower()}/") and _norm_type(r["type"]) == rtype
            ]
            return 200, self._page(items, raw_path, query, self.url)
        if low in resources:
            return 200, resources[low]
        parent, _, kind = low.rpartition("/")
        if parent.endswith("/encryptionprotector") and kind == "current":
            found = children.get((parent.rsplit("/", 1)[0], "encryptionProtector"))
            if not found:
                raise KeyError(path)
            return 200, found[0]
        if kind in ("databases", "images", "versions") and parent in resources:  # child resources listed by id
            depth = parent.count("/") + 2
            items = [r for k, r in resources.items() if k.startswith(f"{parent}/{kind}/") and k.count("/") == depth]
            return 200, self._page(items, raw_path, query, self.url)
        if kind == "instancefailovergroups":  # listed per resource group and location, not under a resource
            return 200, self._page(
                list(children.get((parent, "instanceFailoverGroups"), [])), raw_path, query, self.url
            )
        for child_kind in ("failoverGroups", "replicationLinks", "replicas", "replications", "linkedServers"):
            if kind == child_kind.lower() and parent in resources:
                return 200, self._page(list(children.get((parent, child_kind), [])), raw_path, query, self.url)
        raise KeyError(path)

    def _graph(self, request: dict[str, Any]) -> tuple[int, Any]:
        from azure.mgmt.resourcegraph.models import QueryRequest, QueryResponse

        try:
            parsed = QueryRequest.deserialize(request)
        except Exception as exc:  # the same answer the service gives a malformed body
            return 400, _error("BadRequest", f"Invalid query request: {exc}")
        if not parsed.query:
            return 400, _error("BadRequest", "The query is empty.")
        types = re.findall(r"'([a-z0-9.]+/[a-z0-9./]+)'", parsed.query.lower())
        query = " ".join(parsed.query.split()).lower()
        # the two shapes the tool sends: a type filter, or every type with properties only for some
        every_type = "extend properties = iff(type in~ (" in query and "dynamic(null)" in query
        if not query.startswith("resources |") or not types or (not every_type and "where type in~ (" not in query):
            return 400, _error("BadRequest", "This test endpoint understands `resources | where type in~ (...)`.")
        subs = {s.lower() for s in (parsed.subscriptions or [])}
        with self._lock:
            rows = [
                _graph_row(r) if _norm_type(r["type"]) in types else _graph_row(r) | {"properties": None}
                for k, r in sorted(self._resources.items())
                if k.split("/")[2] in subs and (every_type or _norm_type(r["type"]) in types)
            ]
        options = parsed.options
        start = int(options.skip_token) if options and options.skip_token else 0
        size = options.top if options and options.top else 100
        if self.page_size is not None:
            size = min(size, self.page_size)
        page = rows[start : start + size]
        response = QueryResponse(
            total_records=len(rows),
            count=len(page),
            result_truncated="false",
            skip_token=str(start + size) if start + size < len(rows) else None,
            data=page,
        )
        return 200, response.serialize(keep_readonly=True)


def _graph_row(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource as Resource Graph returns it: type and resource group lower-case, the rest as Resource Manager."""
    sub, rg = _sub_rg(resource["id"])
    return {
        "id": resource["id"],
        "name": resource["name"],
        "type": resource["type"].lower(),
        "location": resource.get("location"),
        "subscriptionId": sub,
        "resourceGroup": rg.lower(),
        "kind": resource.get("kind", ""),
        "sku": resource.get("sku"),
        "tags": resource.get("tags") or None,
        "properties": resource.get("properties", {}),
    }


def _sub_rg(rid: str) -> tuple[str, str]:
    parts = rid.split("/")
    return parts[2], parts[4]


_FAULT_MODE = "x-test-fault-mode"
_FAULT_DELAY = "x-test-fault-delay"


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _subscription_of(path: str) -> str | None:
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) > 1 and parts[0].lower() == "subscriptions" else None


def _pattern(path: str) -> str:
    """The path with its ids replaced, so requests can be counted per kind: /subscriptions/{subscriptionId}/..."""
    parts = [p for p in path.split("/") if p]
    out: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        low = part.lower()
        out.append(part)
        if low == "subscriptions" and i + 1 < len(parts):
            out.append("{subscriptionId}")
            i += 2
            continue
        if low == "resourcegroups" and i + 1 < len(parts):
            out.append("{resourceGroupName}")
            i += 2
            continue
        if low == "providers" and i + 2 < len(parts):
            # namespace, then alternating type / name
            out.append(parts[i + 1])
            j = i + 2
            while j < len(parts):
                out.append(parts[j])
                if j + 1 < len(parts):
                    out.append("current" if parts[j + 1].lower() == "current" else "{name}")
                j += 2
            break
        i += 1
    return "/" + "/".join(out)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one TLS handshake per client connection, as with the real API
    # Headers and body leave in separate writes; without TCP_NODELAY, Nagle's algorithm and the client's delayed
    # ACK would add ~40 ms to every response on a kept-alive connection.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        ep = self.server.endpoint
        if ep.latency:
            time.sleep(ep.latency)
        status, extra, doc = ep.answer(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        mode, delay = extra.pop(_FAULT_MODE, "error"), float(extra.pop(_FAULT_DELAY, "0"))
        if mode == "reset":
            # SO_LINGER 0 makes close() send RST instead of FIN: the client sees "connection reset by peer"
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if mode == "timeout":
            time.sleep(delay if delay > 0 else 600)
            self.close_connection = True
            return
        data = b'{"value": [{"id": ' if mode == "malformed" else json.dumps(doc).encode()
        if mode == "malformed":
            status = 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        if mode == "truncate":
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self.wfile.write(data)

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_PATCH = _handle
    do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, endpoint: AzureEndpoint, ctx: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.endpoint = endpoint
        self._ctx = ctx

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = super().get_request()
        # the TLS handshake happens in the handler's thread, so a slow client never blocks accept()
        return self._ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        # clients that drop a kept-alive connection are normal; say nothing
        pass
