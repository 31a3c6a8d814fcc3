"""PostgreSQL and MySQL flexible servers: read replicas, replica sources and geo-redundant backups."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...clouds.azure import Kind, describe_error
from ...clouds.azure_arm import Arm
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ..common import UNKNOWN_LOCATION
from .common import (
    name_of,
    paired_copy,
    properties_of,
    resource,
)

# --- PostgreSQL and MySQL flexible servers -----------------------------------------------------------------------

_SOURCE_ROLES = {"primary", "source"}  # the role a server with read replicas reports (PostgreSQL, MySQL)


def flexible_needs_lookups(kind: Kind, item: dict[str, Any]) -> bool:
    """Whether a flexible server has replicas or a source to look up (its own task then)."""
    props = properties_of(item)
    return bool(props.get("sourceServerResourceId")) or str(props.get("replicationRole", "")).lower() in _SOURCE_ROLES


def flexible(arm: Arm, kind: Kind, sub: str, item: dict[str, Any]) -> Iterator[Resource | Skip]:
    """A PostgreSQL or MySQL flexible server with its replicas, source and geo-redundant backups."""
    props = properties_of(item)
    location = str(item.get("location") or UNKNOWN_LOCATION)
    footprint = [Copy(location, CopyRole.PRIMARY)]
    if str((props.get("backup") or {}).get("geoRedundantBackup", "")).lower() == "enabled":
        footprint.append(paired_copy(location, "geo-redundant backups"))
    source = props.get("sourceServerResourceId")
    if source:
        try:
            where = arm.server_location.get((str(source), kind.api_version))
            footprint.append(Copy(where, CopyRole.REPLICA, note=f"source server of this replica: {name_of(source)}"))
        except Exception as exc:
            footprint.append(
                Copy(
                    UNKNOWN_LOCATION,
                    CopyRole.REPLICA,
                    note=f"source server {name_of(source)} of this replica: region unreadable ({describe_error(exc)})",
                )
            )
    if str(props.get("replicationRole", "")).lower() in _SOURCE_ROLES:
        try:
            for replica in arm.replicas.get((str(item["id"]), kind.api_version)):
                footprint.append(
                    Copy(
                        str(replica.get("location") or UNKNOWN_LOCATION),
                        CopyRole.REPLICA,
                        note=f"read replica {replica.get('name') or name_of(replica.get('id'))}",
                    )
                )
        except Exception as exc:
            yield Skip(
                Provider.AZURE,
                f"{str(item['id']).lstrip('/')}/replicas",
                f"read replicas unknown: {describe_error(exc)}",
            )
    encryption = props.get("dataEncryption") or {}
    if str(encryption.get("type", "")) == "AzureKeyVault":
        uri = encryption.get("primaryKeyURI") or encryption.get("primaryKeyUri") or ""
        key = (KeyControl.CUSTOMER_MANAGED, f"data encryption with a customer-managed key {uri}".strip())
    else:
        key = (KeyControl.PROVIDER_MANAGED, "data encryption with service-managed keys")
    yield resource(arm, kind.service, kind.type, sub, item, footprint, key)
