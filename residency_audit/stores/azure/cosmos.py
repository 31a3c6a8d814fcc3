"""Cosmos DB accounts: every region in `locations`, and geo-redundant periodic backups; live and planned."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...clouds.azure import KINDS
from ...clouds.azure_arm import Arm
from ...model import Copy, CopyRole, KeyControl, Provider, Resource
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION, dedupe_places
from .common import (
    paired_copy,
    plan_location,
    plan_paired,
    properties_of,
    resource,
)

# --- Cosmos DB ---------------------------------------------------------------------------------------------------


def cosmosdb(arm: Arm, sub: str, item: dict[str, Any]) -> Resource:
    """A Cosmos DB account: every region in `locations`, and its backups' copies."""
    props = properties_of(item)
    locations = sorted(props.get("locations") or [], key=lambda loc: int(loc.get("failoverPriority") or 0))
    writes = {str(w.get("locationName")) for w in props.get("writeLocations") or []}
    footprint: list[Copy] = []
    for loc in locations:
        name = str(loc.get("locationName") or UNKNOWN_LOCATION)
        priority = loc.get("failoverPriority")
        if not footprint:
            footprint.append(Copy(name, CopyRole.PRIMARY, note=f"failover priority {priority}"))
        else:
            extra = ", a write region" if name in writes else ""
            footprint.append(Copy(name, CopyRole.REPLICA, note=f"replica region (failover priority {priority}{extra})"))
    if not footprint:
        footprint.append(Copy(str(item.get("location") or UNKNOWN_LOCATION), CopyRole.PRIMARY))
    backup = props.get("backupPolicy") or {}
    periodic = backup.get("periodicModeProperties") or {}
    if str(backup.get("type", "")).lower() == "periodic" and str(
        periodic.get("backupStorageRedundancy", "")
    ).lower() in ("geo", "geozone"):
        footprint.append(paired_copy(footprint[0].code, "periodic backups in geo-redundant storage"))
    uri = props.get("keyVaultKeyUri")
    key = (
        (KeyControl.CUSTOMER_MANAGED, f"customer-managed key {uri}")
        if uri
        else (KeyControl.PROVIDER_MANAGED, "service-managed keys (Cosmos DB default)")
    )
    return resource(arm, "cosmosdb", KINDS["cosmosdb"].type, sub, item, footprint, key)


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_priority(block: Mapping[str, Any]) -> int:
    value = block.get("failover_priority")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1_000_000


def _plan_cosmosdb(ctx: Context, item: Item) -> Resource:
    footprint: list[Copy] = []
    if item.is_unknown("geo_location"):  # a dynamic block over a value computed in this plan: regions unknown
        footprint.append(unknown_copy(CopyRole.REPLICA, f"geo_location regions {AFTER_APPLY}"))
    for block in sorted(item.blocks("geo_location"), key=_plan_priority):
        location = block.get("location")
        priority = block.get("failover_priority")
        if not (isinstance(location, str) and location):
            footprint.append(unknown_copy(CopyRole.REPLICA, f"geo_location {AFTER_APPLY}"))
        elif priority == 0:
            footprint.append(Copy(location, CopyRole.PRIMARY, note="failover priority 0"))
        else:
            footprint.append(Copy(location, CopyRole.REPLICA, note=f"replica region (failover priority {priority})"))
    if not any(c.role is CopyRole.PRIMARY for c in footprint):
        location, note = plan_location(item)
        footprint.insert(0, Copy(location, CopyRole.PRIMARY, note=note))
    backup = _plan_cosmos_backup(item, footprint[0].code)
    if backup is not None:
        footprint.append(backup)
    key_id = item.text("key_vault_key_id")
    if key_id is not None or (item.is_unknown("key_vault_key_id") and item.configured("key_vault_key_id")):
        key = (KeyControl.CUSTOMER_MANAGED, f"customer-managed key {ctx.describe(item, ('key_vault_key_id',))}")
    else:
        key = (KeyControl.PROVIDER_MANAGED, "service-managed keys (Cosmos DB default)")
    return ctx.resource(
        item,
        Provider.AZURE,
        ("cosmosdb", "Microsoft.DocumentDB/databaseAccounts", "name"),
        dedupe_places(footprint),
        key,
        plan_tags(item, "tags"),
    )


def _plan_cosmos_backup(item: Item, primary: str) -> Copy | None:
    """Periodic backups kept in geo-redundant storage: a copy in the primary's paired region."""
    blocks = item.blocks("backup")
    backup_type = str(blocks[0].get("type") or "") if blocks else ""
    if backup_type.lower() == "continuous":
        return None  # continuous backups stay in the account's own regions
    redundancy = str(blocks[0].get("storage_redundancy") or "") if blocks else ""
    if redundancy.lower() in ("geo", "geozone"):
        return plan_paired(
            primary, f"periodic backups in {redundancy}-redundant storage", "from the plan's backup block"
        )
    if redundancy:
        return None  # Local or Zone: the backups stay in the primary region
    # Unset: Cosmos DB's default is periodic backups in geo-redundant storage, which lives in the paired region.
    return plan_paired(
        primary, "periodic backups (Cosmos DB's default storage redundancy, Geo)", "storage_redundancy not set"
    )


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"azurerm_cosmosdb_account": _plan_cosmosdb}
