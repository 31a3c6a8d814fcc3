"""Azure SQL databases: failover groups, replication links, geo-redundant backups and the TDE protector."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ...clouds.azure import KINDS, describe_error
from ...clouds.azure_arm import Arm
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...pipeline import Task
from ..common import UNKNOWN_LOCATION
from .common import (
    name_of,
    paired_copy,
    properties_of,
    resource,
)


@dataclass(frozen=True)
class SqlServer:
    """What a SQL server tells about its databases' other copies and keys (an exception where unreadable)."""

    failover_groups: list[dict[str, Any]] | BaseException
    replication_links: list[dict[str, Any]] | BaseException
    key: tuple[KeyControl, str]


# --- Azure SQL ---------------------------------------------------------------------------------------------------


def sql_task(arm: Arm, sub: str, server_id: str, databases: list[dict[str, Any]] | None) -> Task:
    """A task reading one SQL server's databases with its failover groups, links and TDE protector."""
    return Task(
        Provider.AZURE,
        server_id.lstrip("/"),
        functools.partial(_sql_databases, arm, sub, server_id, databases),
        describe_error,
    )


def sql_key(protector: dict[str, Any]) -> tuple[KeyControl, str]:
    """Key control from a SQL server's TDE protector."""
    kind = str(protector.get("serverKeyType") or "")
    if kind == "AzureKeyVault":
        return KeyControl.CUSTOMER_MANAGED, f"TDE with a customer-managed key {protector.get('uri') or ''}".strip()
    if kind == "ServiceManaged":
        return KeyControl.PROVIDER_MANAGED, "TDE with a service-managed key"
    return KeyControl.UNKNOWN, f"unrecognised TDE protector type {kind!r}"


def _sql_databases(
    arm: Arm, sub: str, server_id: str, databases: list[dict[str, Any]] | None
) -> Iterator[Resource | Skip]:
    kind = KINDS["sql-database"]
    if databases is None:  # the Resource Manager path lists them; Resource Graph already did
        databases = list(arm.pages(f"{server_id}/databases", kind.api_version))
    # `master` holds the server's logins and metadata, not customer data; the real API lists it with the others.
    databases = [d for d in databases if not _is_system_db(d)]
    if not databases:
        return
    server: SqlServer = arm.sql_server.get(server_id)
    for name, found in (("failoverGroups", server.failover_groups), ("replicationLinks", server.replication_links)):
        if isinstance(found, BaseException) and arm.sql_server.first_failure((server_id, name)):
            yield Skip(
                Provider.AZURE,
                f"{server_id.lstrip('/')}/{name}",
                f"other copies of this server's databases unknown: {describe_error(found)}",
            )
    for db in databases:
        yield _sql_database(arm, sub, db, server)


def _is_system_db(db: dict[str, Any]) -> bool:
    return str(db.get("name", "")).lower() == "master" or "system" in str(db.get("kind", "")).lower()


def _sql_database(arm: Arm, sub: str, db: dict[str, Any], server: SqlServer) -> Resource:
    props = properties_of(db)
    db_id = str(db["id"]).lower()
    db_name = str(db.get("name") or name_of(db_id)).lower()
    footprint = [Copy(str(db.get("location") or UNKNOWN_LOCATION), CopyRole.PRIMARY)]
    if isinstance(server.failover_groups, list):
        for group in server.failover_groups:
            gprops = properties_of(group)
            if db_id not in {str(d).lower() for d in gprops.get("databases") or []}:
                continue
            for partner in gprops.get("partnerServers") or []:
                footprint.append(
                    Copy(
                        str(partner.get("location") or UNKNOWN_LOCATION),
                        CopyRole.REPLICA,
                        note=f"failover group {group.get('name')}: partner server {name_of(partner.get('id'))} "
                        f"({partner.get('replicationRole', '?')})",
                    )
                )
    if isinstance(server.replication_links, list):
        for link in server.replication_links:
            link_id = str(link.get("id", "")).lower()
            if f"/databases/{db_name}/replicationlinks/" not in link_id:
                continue
            lprops = properties_of(link)
            footprint.append(
                Copy(
                    str(lprops.get("partnerLocation") or UNKNOWN_LOCATION),
                    CopyRole.REPLICA,
                    note=f"geo-replication link ({lprops.get('role', '?')}) with "
                    f"{lprops.get('partnerServer', '?')}/{lprops.get('partnerDatabase', '?')}",
                )
            )
    redundancy = {
        str(props.get(k) or "") for k in ("currentBackupStorageRedundancy", "requestedBackupStorageRedundancy")
    }
    geo = sorted(r for r in redundancy if r.lower() in ("geo", "geozone"))
    if geo:
        footprint.append(paired_copy(footprint[0].code, f"backups in geo-redundant storage ({'/'.join(geo)})"))
    key = server.key
    if props.get("encryptionProtector"):
        key = (KeyControl.CUSTOMER_MANAGED, f"database-level TDE customer-managed key {props['encryptionProtector']}")
    return resource(arm, "sql-database", KINDS["sql-database"].type, sub, db, footprint, key)
