"""Storage accounts: geo-redundant SKUs and their secondary region, live and planned."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ...clouds.azure import KINDS
from ...clouds.azure_arm import Arm
from ...model import Copy, CopyRole, KeyControl, Provider, Resource
from ...plan.context import AFTER_APPLY, GEO_REPLICATION, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION
from .common import (
    azure_place,
    dict_of,
    kb_pair,
    paired_copy,
    plan_location,
    plan_paired,
    properties_of,
    resource,
)

GEO_SKUS = {"Standard_GRS", "Standard_RAGRS", "Standard_GZRS", "Standard_RAGZRS"}

# --- storage accounts --------------------------------------------------------------------------------------------


def storage_account(arm: Arm, sub: str, item: dict[str, Any], replicas: Iterable[Copy] = ()) -> Resource:
    """A storage account: its location, for geo-redundant SKUs its secondary, and `replicas` (object replication)."""
    footprint = [*storage_places(item, "geo-redundant SKU"), *replicas]
    return resource(arm, "storage-account", KINDS["storage-account"].type, sub, item, footprint, storage_key(item))


def storage_places(item: dict[str, Any], what: str) -> list[Copy]:
    """Where an account's copies are: the primary and, for geo-redundant SKUs, the secondary."""
    props = properties_of(item)
    location = str(props.get("primaryLocation") or item.get("location") or UNKNOWN_LOCATION)
    sku = str(dict_of(item.get("sku")).get("name") or "")
    footprint = [Copy(location, CopyRole.PRIMARY)]
    if sku in GEO_SKUS:
        footprint.append(_storage_secondary(location, f"{what} {sku}", props.get("secondaryLocation")))
    return footprint


def storage_key(item: dict[str, Any]) -> tuple[KeyControl, str]:
    """Who holds an account's keys, from `properties.encryption.keySource`."""
    encryption = dict_of(properties_of(item).get("encryption"))
    source = str(encryption.get("keySource") or "")
    if source.lower() == "microsoft.keyvault":
        vault = dict_of(encryption.get("keyvaultproperties") or encryption.get("keyVaultProperties"))
        where = vault.get("keyvaulturi") or vault.get("keyVaultUri") or "Key Vault"
        name = vault.get("keyname") or vault.get("keyName") or "?"
        return KeyControl.CUSTOMER_MANAGED, f"customer-managed key {name} in {where}"
    if source.lower() == "microsoft.storage" or not encryption:
        return KeyControl.PROVIDER_MANAGED, "Microsoft-managed keys (keySource Microsoft.Storage)"
    return KeyControl.UNKNOWN, f"unrecognised encryption keySource {source!r}"


def _storage_secondary(location: str, what: str, reported: Any) -> Copy:
    pair, code = kb_pair(location)
    if reported:
        secondary = str(reported)
        note = f"{what}: secondary region reported by the API"
        if pair is None:
            note += f"; the knowledge base records no pair for {code}"
        elif azure_place(pair) != azure_place(secondary):
            note += (
                f"; the knowledge base pairs {code} with {pair}, not {secondary}: the API's value is used "
                "(the knowledge base may need an update)"
            )
        return Copy(secondary, CopyRole.REPLICA, note=note)
    return paired_copy(location, f"{what}, but the API reported no secondaryLocation")


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_storage_account(ctx: Context, item: Item) -> Resource:
    location, note = plan_location(item)
    footprint = [Copy(location, CopyRole.PRIMARY, note=note)]
    kind = item.text("account_replication_type")
    if kind is not None and kind.upper() in GEO_REPLICATION:
        footprint.append(_plan_storage_secondary(item, location, f"geo-redundant replication {kind}"))
    elif kind is None and item.is_unknown("account_replication_type"):
        footprint.append(unknown_copy(CopyRole.REPLICA, f"replication type {AFTER_APPLY} (geo types add a copy)"))
    from .blob_replication import plan_object_replicas  # here: that module builds on this one

    footprint.extend(plan_object_replicas(ctx, item, _plan_storage_key))
    return ctx.resource(
        item,
        Provider.AZURE,
        ("storage-account", "Microsoft.Storage/storageAccounts", "name"),
        footprint,
        _plan_storage_key(ctx, item),
        plan_tags(item, "tags"),
    )


def _plan_storage_secondary(item: Item, location: str, what: str) -> Copy:
    """The secondary of a geo-redundant account: as the provider read it (an existing account), else the pair."""
    from ...knowledge import load

    reported = item.text("secondary_location")
    if reported is None:
        return plan_paired(location, what, "the API's secondaryLocation is known after apply")
    note = f"{what}: secondary region as the provider read it from the API"
    known = load().resolve(Provider.AZURE, location)
    pair = known.paired_region if known is not None else None
    if pair is not None and load().resolve(Provider.AZURE, pair) != load().resolve(Provider.AZURE, reported):
        note += f"; the knowledge base pairs {location} with {pair}, not {reported} (the API's value is used)"
    return Copy(reported, CopyRole.REPLICA, note=note)


def _plan_storage_key(ctx: Context, item: Item) -> tuple[KeyControl, str]:
    if item.blocks("customer_managed_key"):
        hsm = item.text("customer_managed_key", 0, "managed_hsm_key_id")
        key = hsm or ctx.describe(item, ("customer_managed_key", 0, "key_vault_key_id"))
        return KeyControl.CUSTOMER_MANAGED, f"customer-managed key {key}"
    for cmk in ctx.linked(item, "azurerm_storage_account_customer_managed_key"):
        name = cmk.text("key_name") or ctx.describe(cmk, ("managed_hsm_key_id",))
        return KeyControl.CUSTOMER_MANAGED, f"customer-managed key {name} ({cmk.address})"
    return KeyControl.PROVIDER_MANAGED, "Microsoft-managed keys (the storage account default)"


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"azurerm_storage_account": _plan_storage_account}
