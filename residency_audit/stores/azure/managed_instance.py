"""SQL Managed Instances: geo-redundant backups, instance failover groups and the TDE protector; live and planned.

Field names: azure-mgmt-sql `ManagedInstance` (`properties.currentBackupStorageRedundancy`,
`requestedBackupStorageRedundancy`: Geo, GeoZone, Local, Zone), `InstanceFailoverGroup`
(`properties.managedInstancePairs[]`, `partnerRegions[].location`) and `ManagedInstanceEncryptionProtector`
(`serverKeyType`, `uri`), api-version 2021-11-01 like the Azure SQL store. Instance failover groups are not in
Resource Graph: they are listed per resource group and location (`…/providers/Microsoft.Sql/locations/{location}/
instanceFailoverGroups`, once per pair, memoised), and matched to an instance through `managedInstancePairs` on
either side, so a primary and its secondary each count the other's region.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.azure import KINDS, describe_error
from ...clouds.azure_arm import Arm
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...pipeline import Task
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION, dedupe_places
from .common import (
    azure_place,
    dict_of,
    list_of,
    location_of,
    name_of,
    paired_copy,
    plan_location,
    plan_paired,
    properties_of,
)
from .common import resource as make_resource
from .sql import sql_key

GEO = {"geo", "geozone"}


def managed_instance_task(arm: Arm, sub: str, item: dict[str, Any]) -> Task:
    """A task reading one managed instance with its failover groups and TDE protector."""
    return Task(
        Provider.AZURE, str(item["id"]).lstrip("/"), functools.partial(managed_instance, arm, sub, item), describe_error
    )


def managed_instance(arm: Arm, sub: str, item: dict[str, Any]) -> Iterator[Resource | Skip]:
    """A managed instance: its region, its backups' paired region when geo-redundant, failover-group partners."""
    kind = KINDS["sql-managed-instance"]
    props = properties_of(item)
    rid = str(item["id"])
    location = location_of(item)
    footprint = [Copy(location, CopyRole.PRIMARY)]
    redundancy = sorted(
        {
            str(props.get(k))
            for k in ("currentBackupStorageRedundancy", "requestedBackupStorageRedundancy")
            if props.get(k)
        }
    )
    geo = [r for r in redundancy if r.lower() in GEO]
    if geo:
        footprint.append(paired_copy(location, f"backups in geo-redundant storage ({'/'.join(geo)})"))
    elif not redundancy:
        # absent: Geo is the service's default for a new instance, so assume it and say so
        footprint.append(paired_copy(location, "backup storage redundancy not reported; Geo is the default"))
    rg_path = rid.split("/providers/", 1)[0]
    groups_path = f"{rg_path}/providers/Microsoft.Sql/locations/{location}/instanceFailoverGroups"
    try:
        groups = arm.lists.get((groups_path, kind.api_version))
    except Exception as exc:
        if arm.lists.first_failure((groups_path, kind.api_version)):
            yield Skip(
                Provider.AZURE,
                groups_path.lstrip("/"),
                f"failover-group partners of the managed instances here unknown: {describe_error(exc)}",
            )
        footprint.append(Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note="failover groups unreadable"))
        groups = []
    footprint.extend(_partners(rid, groups))
    try:
        protector = dict_of(arm.get(f"{rid}/encryptionProtector/current", kind.api_version).get("properties"))
        key = sql_key(protector)
    except Exception as exc:
        key = (KeyControl.UNKNOWN, f"TDE protector of the instance unreadable: {describe_error(exc)}")
    yield make_resource(arm, kind.service, kind.type, sub, item, footprint, key)


def _partners(rid: str, groups: list[dict[str, Any]]) -> Iterator[Copy]:
    """The regions of the other side of every failover group that pairs this instance."""
    me = rid.lower()
    for group in groups:
        props = properties_of(group)
        pairs = [p for p in list_of(props.get("managedInstancePairs")) if isinstance(p, dict)]
        sides = {
            str(p.get(k) or "").lower() for p in pairs for k in ("primaryManagedInstanceId", "partnerManagedInstanceId")
        }
        if me not in sides:
            continue
        # the group's own location (in its id) is one side, partnerRegions the other: the instance is in one of them
        gid = str(group.get("id") or "")
        own = gid.lower().split("/locations/", 1)[1].split("/", 1)[0] if "/locations/" in gid.lower() else ""
        places = [own] if own else []
        places += [str(dict_of(r).get("location") or UNKNOWN_LOCATION) for r in list_of(props.get("partnerRegions"))]
        for place in places:
            yield Copy(place or UNKNOWN_LOCATION, CopyRole.REPLICA, note=f"instance failover group {name_of(gid)}")


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_managed_instance(ctx: Context, item: Item) -> Resource:
    location, note = plan_location(item)
    footprint = [Copy(location, CopyRole.PRIMARY, note=note)]
    kind_of = item.text("storage_account_type")
    if kind_of is None and item.is_unknown("storage_account_type"):
        footprint.append(unknown_copy(CopyRole.REPLICA, f"storage_account_type {AFTER_APPLY} (GRS adds a copy)"))
    elif kind_of is None or kind_of.upper() in ("GRS", "GZRS"):
        what = f"backup storage {kind_of}" if kind_of else "backup storage not set (the provider's default GRS)"
        footprint.append(plan_paired(location, what, "from the plan"))
    footprint.extend(_plan_partners(ctx, item))
    key = (KeyControl.PROVIDER_MANAGED, "TDE with a service-managed key (the default)")
    kind = KINDS["sql-managed-instance"]
    return ctx.resource(
        item,
        Provider.AZURE,
        (kind.service, kind.type, "name"),
        dedupe_places(footprint, azure_place),
        key,
        plan_tags(item, "tags"),
    )


_GROUP = "azurerm_mssql_managed_instance_failover_group"
_SIDES = ("managed_instance_id", "partner_managed_instance_id")


def _plan_partners(ctx: Context, item: Item) -> Iterator[Copy]:
    """The other instance's region for every planned failover group that pairs `item` with it."""
    for group in ctx.by_type.get(_GROUP, []):
        sides = {a: ctx.target(group, (a,), "azurerm_mssql_managed_instance", ("id",)) for a in _SIDES}
        if not any(t.address == item.address for found in sides.values() for t in found):
            continue
        for attribute, found in sides.items():
            others = [t for t in found if t.address != item.address]
            if not others and not any(t.address == item.address for t in found):
                named = group.text(attribute) or AFTER_APPLY
                yield unknown_copy(
                    CopyRole.REPLICA, f"failover group {group.address}: {attribute} {named} not in the plan"
                )
            for other in others:
                where, note = plan_location(other)
                yield Copy(where, CopyRole.REPLICA, note=note or f"failover group {group.address}: {other.address}")


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"azurerm_mssql_managed_instance": _plan_managed_instance}
