"""Container registries: every geo-replication region, live and planned.

A registry's images are copied to each of its replications (`Microsoft.ContainerRegistry/registries/replications`,
child resources no inventory record shows). Only the Premium SKU can have replications, so only Premium registries
(or one whose SKU is not reported) cost the extra list. Field names: azure-mgmt-containerregistry `Registry`
(`sku.name`, `properties.encryption.status`, `keyVaultProperties.keyIdentifier`) and `Replication` (`location`),
api-version 2025-11-01.
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
from .common import azure_place, dict_of, location_of, plan_location, properties_of, resource


def registry_needs_lookups(item: dict[str, Any]) -> bool:
    """Whether a registry can have replications to read: Premium, or a SKU the record does not say."""
    sku = str(dict_of(item.get("sku")).get("name") or "")
    return sku.lower() in ("premium", "")


def registry_task(arm: Arm, sub: str, item: dict[str, Any]) -> Task:
    """A task reading one registry with its replications."""
    return Task(
        Provider.AZURE, str(item["id"]).lstrip("/"), functools.partial(registry, arm, sub, item), describe_error
    )


def registry(arm: Arm, sub: str, item: dict[str, Any]) -> Iterator[Resource | Skip]:
    """A registry: its home region and, for registries that can have them, every replication's region."""
    kind = KINDS["container-registry"]
    location = location_of(item)
    footprint = [Copy(location, CopyRole.PRIMARY)]
    if registry_needs_lookups(item):
        rid = str(item["id"])
        try:
            for replication in arm.pages(f"{rid}/replications", kind.api_version):
                where = location_of(replication) if isinstance(replication, dict) else UNKNOWN_LOCATION
                name = replication.get("name") if isinstance(replication, dict) else None
                footprint.append(Copy(where, CopyRole.REPLICA, note=f"geo-replication {name or '?'}"))
        except Exception as exc:
            yield Skip(Provider.AZURE, f"{rid.lstrip('/')}/replications", f"replicas unknown: {describe_error(exc)}")
            footprint.append(Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note="replications unreadable"))
    encryption = dict_of(properties_of(item).get("encryption"))
    key_id = dict_of(encryption.get("keyVaultProperties")).get("keyIdentifier")
    if str(encryption.get("status") or "").lower() == "enabled" and key_id:
        key = (KeyControl.CUSTOMER_MANAGED, f"customer-managed key {key_id}")
    else:
        key = (KeyControl.PROVIDER_MANAGED, "Microsoft-managed keys (the registry's default)")
    yield resource(arm, kind.service, kind.type, sub, item, footprint, key)


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_registry(ctx: Context, item: Item) -> Resource:
    location, note = plan_location(item)
    footprint = [Copy(location, CopyRole.PRIMARY, note=note)]
    if item.is_unknown("georeplications"):
        footprint.append(unknown_copy(CopyRole.REPLICA, f"georeplications {AFTER_APPLY}"))
    for block in item.blocks("georeplications"):
        where = block.get("location")
        footprint.append(
            Copy(where, CopyRole.REPLICA, note="georeplications block")
            if isinstance(where, str) and where
            else unknown_copy(CopyRole.REPLICA, f"georeplications location {AFTER_APPLY}")
        )
    key_id = item.text("encryption", 0, "key_vault_key_id")
    if key_id or (item.blocks("encryption") and item.is_unknown("encryption", 0, "key_vault_key_id")):
        key = (
            KeyControl.CUSTOMER_MANAGED,
            f"customer-managed key {ctx.describe(item, ('encryption', 0, 'key_vault_key_id'))}",
        )
    else:
        key = (KeyControl.PROVIDER_MANAGED, "Microsoft-managed keys (the registry's default)")
    kind = KINDS["container-registry"]
    return ctx.resource(
        item,
        Provider.AZURE,
        (kind.service, kind.type, "name"),
        dedupe_places(footprint, azure_place),
        key,
        plan_tags(item, "tags"),
    )


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"azurerm_container_registry": _plan_registry}
