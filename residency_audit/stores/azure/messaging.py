"""Event Hubs and Service Bus namespaces: geo-replication regions, live and planned.

Geo-replication (`properties.geoDataReplication.locations[]`: `locationName`, `roleType` Primary/Secondary) copies
the namespace's messages and events to every listed region: those are copies. A Geo-disaster-recovery alias
(`disasterRecoveryConfigs`) pairs two namespaces but replicates metadata only (entities, configuration), never the
data, so it adds no copy and is not read. Field names: azure-mgmt-eventhub `EHNamespace` and azure-mgmt-servicebus
`SBNamespace` (api-version 2026-01-01; `properties.encryption.keySource`, `keyVaultProperties[]`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...clouds.azure import KINDS
from ...clouds.azure_arm import Arm
from ...model import Copy, CopyRole, KeyControl, Provider, Resource
from ...plan.context import Context, Item, plan_tags
from ..common import UNKNOWN_LOCATION
from .common import dict_of, list_of, location_of, plan_location, properties_of, resource

_NOTE = "geo-replication region ({role}): messages are copied here"


def namespace(arm: Arm, service: str, sub: str, item: dict[str, Any]) -> Resource:
    """An Event Hubs or Service Bus namespace: its region and every geo-replication region."""
    props = properties_of(item)
    footprint = [Copy(location_of(item), CopyRole.PRIMARY)]
    for replica in list_of(dict_of(props.get("geoDataReplication")).get("locations")):
        replica = dict_of(replica)
        name = replica.get("locationName")
        where = name if isinstance(name, str) and name else UNKNOWN_LOCATION
        footprint.append(Copy(where, CopyRole.REPLICA, note=_NOTE.format(role=replica.get("roleType") or "?")))
    encryption = dict_of(props.get("encryption"))
    keys = [dict_of(k) for k in list_of(encryption.get("keyVaultProperties"))]
    if str(encryption.get("keySource") or "").lower() == "microsoft.keyvault" and keys:
        names = ", ".join(f"{k.get('keyName') or '?'} in {k.get('keyVaultUri') or '?'}" for k in keys)
        key = (KeyControl.CUSTOMER_MANAGED, f"customer-managed key {names}")
    else:
        key = (KeyControl.PROVIDER_MANAGED, "Microsoft-managed keys (the namespace's default)")
    kind = KINDS[service]
    return resource(arm, kind.service, kind.type, sub, item, footprint, key)


def event_hubs(arm: Arm, sub: str, item: dict[str, Any]) -> Resource:
    """An Event Hubs namespace."""
    return namespace(arm, "eventhub-namespace", sub, item)


def service_bus(arm: Arm, sub: str, item: dict[str, Any]) -> Resource:
    """A Service Bus namespace."""
    return namespace(arm, "servicebus-namespace", sub, item)


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan(service: str) -> Callable[[Context, Item], Resource]:
    def read(ctx: Context, item: Item) -> Resource:
        # azurerm has no geo-replication argument: a namespace starts in one region (a scan shows later replicas)
        location, note = plan_location(item)
        footprint = [Copy(location, CopyRole.PRIMARY, note=note)]
        key_id = item.text("customer_managed_key", 0, "key_vault_key_id")
        if key_id or item.blocks("customer_managed_key"):
            what = ctx.describe(item, ("customer_managed_key", 0, "key_vault_key_id"))
            key = (KeyControl.CUSTOMER_MANAGED, f"customer-managed key {what}")
        else:
            key = (KeyControl.PROVIDER_MANAGED, "Microsoft-managed keys (the namespace's default)")
        kind = KINDS[service]
        tags = plan_tags(item, "tags")
        return ctx.resource(item, Provider.AZURE, (kind.service, kind.type, "name"), footprint, key, tags)

    return read


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {
    "azurerm_eventhub_namespace": _plan("eventhub-namespace"),
    "azurerm_servicebus_namespace": _plan("servicebus-namespace"),
}
