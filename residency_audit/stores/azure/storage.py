"""Storage accounts: geo-redundant SKUs and their secondary region, and blob object replication. Live and planned.

Each policy on a source storage account copies blobs to a destination account, which may sit in any region.

**Live.** Resource Graph holds no object replication policy (they are `Microsoft.Storage/storageAccounts/
objectReplicationPolicies` child resources, which no inventory record or account property names), so the policies
are read per account: one `GET {account}/objectReplicationPolicies` for every account that can have them (all kinds
but general-purpose v1 `Storage` and `FileStorage`, which hold no block blobs to replicate), run as tasks under the
scan's bounded concurrency. Never under-report outweighs the cost: an account whose policies cannot be read is a skip
with its reason and an unknown copy. api-version 2023-05-01, as for the accounts; field names (`sourceAccount`,
`destinationAccount`, `rules[].sourceContainer` / `destinationContainer`, `policyId`) checked against
azure-mgmt-storage 25.3 (`ObjectReplicationPolicy`, api-version 2026-09-01: unchanged), whose list follows nextLink.

A policy is listed on both accounts; only the source's copy goes elsewhere, so a policy whose `sourceAccount` is
another account is this account's inbound copy and adds nothing here. The destination is named by resource id, or by
name only where cross-tenant replication is allowed. Its location comes from the inventory already read (no request);
a destination outside the scanned subscriptions is read by id, and is an unknown location when that fails or when
only its name is known. The destination's own keys are the copy's keys, and a geo-redundant destination adds its
secondary region: the source's blobs are there too.

**Planned.** `azurerm_storage_object_replication` (`source_storage_account_id`, `destination_storage_account_id`,
`rules`): the destination account's planned location and keys; one outside the plan is an unknown location.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ...clouds.azure import KINDS, describe_error
from ...clouds.azure_arm import Arm
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...pipeline import Task
from ...plan.context import AFTER_APPLY, GEO_REPLICATION, Context, Item, plan_tags, unknown_copy
from ..common import CLIENT_SIDE_TAG, UNKNOWN_LOCATION, declared_key_control
from .common import (
    azure_place,
    dict_of,
    kb_pair,
    list_of,
    name_of,
    paired_copy,
    plan_location,
    plan_paired,
    properties_of,
    resource,
    tags_of,
)

GEO_SKUS = {"Standard_GRS", "Standard_RAGRS", "Standard_GZRS", "Standard_RAGZRS"}

# --- storage accounts --------------------------------------------------------------------------------------------


def storage_account(arm: Arm, sub: str, item: dict[str, Any], replicas: Iterable[Copy] = ()) -> Resource:
    """A storage account: its location, for geo-redundant SKUs its secondary, and `replicas` (object replication)."""
    footprint = [*storage_places(item, "geo-redundant SKU"), *_as_declared(tags_of(item), replicas)]
    return resource(arm, "storage-account", KINDS["storage-account"].type, sub, item, footprint, storage_key(item))


def _as_declared(tags: dict[str, str], replicas: Iterable[Copy]) -> list[Copy]:
    """Object replicas under the destination's keys, unless the source declares client-side encryption.

    Replication copies the bytes as they are, so a client-side encrypted source's replicas are that ciphertext too:
    they take the resource's (declared) keys.
    """
    declared = declared_key_control(tags, CLIENT_SIDE_TAG, (KeyControl.UNKNOWN, ""))[0] is KeyControl.CLIENT_SIDE
    return [dataclasses.replace(c, key_control=None) if declared else c for c in replicas]


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


# --- blob object replication -------------------------------------------------------------------------------

_NO_BLOBS = {"storage", "filestorage"}  # kinds without object replication: general-purpose v1, file shares only


def replication_readable(item: dict[str, Any]) -> bool:
    """Whether an account can have object replication policies (an unreported kind is read: never under-report)."""
    return str(item.get("kind") or "").lower() not in _NO_BLOBS


def storage_task(arm: Arm, sub: str, item: dict[str, Any]) -> Task:
    """A task reading one storage account with its object replication policies."""
    return Task(
        Provider.AZURE,
        str(item["id"]).lstrip("/"),
        functools.partial(storage_with_replication, arm, sub, item),
        describe_error,
    )


def storage_with_replication(arm: Arm, sub: str, item: dict[str, Any]) -> Iterator[Resource | Skip]:
    """A storage account whose footprint includes every object replication destination."""
    rid = str(item["id"])
    try:
        policies = list(arm.pages(f"{rid}/objectReplicationPolicies", KINDS["storage-account"].api_version))
    except Exception as exc:
        reason = describe_error(exc)
        yield Skip(Provider.AZURE, f"{rid.lstrip('/')}/objectReplicationPolicies", f"object replicas unknown: {reason}")
        unread = Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note=f"object replication policies unreadable: {reason}")
        yield storage_account(arm, sub, item, [unread])
        return
    yield storage_account(arm, sub, item, object_replicas(arm, item, policies))


def object_replicas(arm: Arm, item: dict[str, Any], policies: list[Any]) -> list[Copy]:
    """The copies an account's object replication policies make: each outbound policy's destination account."""
    own = str(item.get("name") or name_of(str(item.get("id") or ""))).lower()
    copies: list[Copy] = []
    for policy in policies:
        policy = dict_of(policy)
        props = properties_of(policy)
        source = props.get("sourceAccount")
        if isinstance(source, str) and source and name_of(source).lower() != own:
            continue  # the destination's view of another account's policy: inbound, no copy of this account
        rules = [dict_of(r) for r in list_of(props.get("rules"))]
        pairs = ((r.get("sourceContainer") or "?", r.get("destinationContainer") or "?") for r in rules)
        containers = ", ".join(f"{a} → {b}" for a, b in pairs)
        pid = props.get("policyId") or policy.get("name") or "?"
        what = f"object replication policy {pid} ({len(rules)} rule(s){': ' + containers if containers else ''})"
        copies.extend(_destination(arm, str(props.get("destinationAccount") or ""), what))
    return copies


def _destination(arm: Arm, dest: str, what: str) -> list[Copy]:
    """Where a destination account keeps the replicas: its location (and secondary), under its own keys."""
    if not dest:
        return [Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note=f"{what}: the policy names no destination account")]
    rid = dest if dest.startswith("/") else arm.storage_names.get(dest.lower())
    if rid is None:
        note = f"{what}: destination account {dest} is named only by name and is in no scanned subscription"
        return [Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note=f"{note} (another tenant?): location unknown")]
    try:
        account = dict_of(arm.storage_accounts.get(rid.lower()))
    except Exception as exc:
        note = f"{what}: destination account {rid} is outside the scanned subscriptions and unreadable"
        return [Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note=f"{note} ({describe_error(exc)}): location unknown")]
    key, key_note = storage_key(account)
    name = str(account.get("name") or name_of(rid))
    copies = storage_places(account, f"{what} to account {name}, whose geo-redundant SKU")
    note = f"{what} to account {name}; its keys: {key_note}"
    out = [Copy(copies[0].code, CopyRole.REPLICA, note=note, key_control=key)]
    # the destination's own secondary holds the replicas too
    out += [Copy(c.code, CopyRole.REPLICA, note=c.note, key_control=key) for c in copies[1:]]
    return out


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_storage_account(ctx: Context, item: Item) -> Resource:
    location, note = plan_location(item)
    footprint = [Copy(location, CopyRole.PRIMARY, note=note)]
    kind = item.text("account_replication_type")
    if kind is not None and kind.upper() in GEO_REPLICATION:
        footprint.append(_plan_storage_secondary(item, location, f"geo-redundant replication {kind}"))
    elif kind is None and item.is_unknown("account_replication_type"):
        footprint.append(unknown_copy(CopyRole.REPLICA, f"replication type {AFTER_APPLY} (geo types add a copy)"))
    tags = plan_tags(item, "tags")
    footprint.extend(_as_declared(tags, _plan_object_replicas(ctx, item)))
    return ctx.resource(
        item,
        Provider.AZURE,
        ("storage-account", "Microsoft.Storage/storageAccounts", "name"),
        footprint,
        _plan_storage_key(ctx, item),
        tags,
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


def _plan_object_replicas(ctx: Context, account: Item) -> list[Copy]:
    """The copies the plan's `azurerm_storage_object_replication` resources make of `account` (their source)."""
    copies: list[Copy] = []
    for policy in ctx.linked(account, "azurerm_storage_object_replication"):
        rules = policy.blocks("rules")
        what = f"object replication {policy.address} ({len(rules)} rule(s))"
        targets = ctx.target(policy, ("destination_storage_account_id",), "azurerm_storage_account", ("id",))
        if not targets:
            dest = policy.text("destination_storage_account_id")
            why = f"destination account {dest} is not in this plan" if dest else f"destination account {AFTER_APPLY}"
            copies.append(unknown_copy(CopyRole.REPLICA, f"{what}: {why}, so its location is unknown"))
        for target in targets:
            location, note = plan_location(target)
            key, key_note = _plan_storage_key(ctx, target)
            where = f"{what} to {target.address}{'; ' + note if note else ''}; its keys: {key_note}"
            copies.append(Copy(location, CopyRole.REPLICA, note=where, key_control=key))
            kind = target.text("account_replication_type")
            if kind is not None and kind.upper() in GEO_REPLICATION:
                secondary = _plan_storage_secondary(target, location, f"{what} to {target.address}, geo-redundant")
                copies.append(Copy(secondary.code, CopyRole.REPLICA, note=secondary.note, key_control=key))
            elif kind is None and target.is_unknown("account_replication_type"):
                copies.append(unknown_copy(CopyRole.REPLICA, f"{what}: destination replication type {AFTER_APPLY}"))
    return copies


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"azurerm_storage_account": _plan_storage_account}
