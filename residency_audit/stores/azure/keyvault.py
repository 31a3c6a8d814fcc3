"""Key Vault vaults and Managed HSM pools, live and planned.

A vault's contents are replicated by the service to its location's paired region, which no API field shows: the
knowledge base holds that fact with Microsoft's source (`service_copies.azure-key-vault` in kb/azure.toml: the
regions it documents as not replicated, e.g. Brazil South) and the pair of each region, per cloud, so a vault in
Azure operated by 21Vianet or in Azure Government gets its own cloud's pair. A Managed HSM pool follows another
model: it stays in its region unless multi-region replication extends it, and `properties.regions[]` lists every
region it is in. Field names: azure-mgmt-keyvault `Vault` and `ManagedHsm` (api-version 2026-05-15).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...clouds.azure import KINDS
from ...clouds.azure_arm import Arm
from ...model import Copy, CopyRole, KeyControl, Provider, Resource
from ...plan.context import Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION
from .common import list_of, location_of, plan_location, properties_of, resource

VAULT_TYPE = "Microsoft.KeyVault/vaults"
# What protects a vault's or pool's contents: the service's own HSM-backed keys. There is no customer key above them.
_KEY = (KeyControl.PROVIDER_MANAGED, "contents protected by the service's keys (the provider operates the vault)")
_HSM_KEY = (KeyControl.PROVIDER_MANAGED, "single-tenant HSM pool operated by the provider")


def vault_copies(location: str) -> list[Copy]:
    """A vault's footprint from its location: the region and the copy the service keeps, per the knowledge base."""
    from ...knowledge import load

    kb = load()
    if location == UNKNOWN_LOCATION:
        return [
            Copy(UNKNOWN_LOCATION, CopyRole.PRIMARY),
            unknown_copy(CopyRole.REPLICA, "Key Vault's paired-region copy: the vault's location is unknown"),
        ]
    primary = Copy(location, CopyRole.PRIMARY)
    fact = kb.service_copy(Provider.AZURE, VAULT_TYPE)
    known = kb.resolve(Provider.AZURE, location)
    if fact is None:
        return [primary, unknown_copy(CopyRole.REPLICA, "the knowledge base records no Key Vault replication fact")]
    cite = f"({', '.join(fact.sources)})"
    if known is None:
        note = f"Key Vault replicates to the paired region, but {location} is not in the knowledge base {cite}"
        return [primary, unknown_copy(CopyRole.REPLICA, note)]
    if known.code in fact.except_locations:
        note = f"Key Vault does not replicate vaults in {known.code} across regions {cite}"
        return [Copy(location, CopyRole.PRIMARY, note=note)]
    if not known.paired_region:
        note = f"{known.code} has no paired region: Key Vault keeps the contents in the region {cite}"
        return [Copy(location, CopyRole.PRIMARY, note=note)]
    note = (
        f"the service replicates the vault's contents to {known.code}'s paired region (no API field shows it; "
        f"knowledge base {fact.id} {cite})"
    )
    return [primary, Copy(known.paired_region, CopyRole.REPLICA, note=note)]


def key_vault(arm: Arm, sub: str, item: dict[str, Any]) -> Resource:
    """A Key Vault: its region and the paired-region copy the service keeps."""
    footprint = vault_copies(location_of(item))
    kind = KINDS["key-vault"]
    return resource(arm, kind.service, kind.type, sub, item, footprint, _KEY)


def managed_hsm(arm: Arm, sub: str, item: dict[str, Any]) -> Resource:
    """A Managed HSM pool: its region and every region multi-region replication extended it to."""
    props = properties_of(item)
    footprint = [Copy(location_of(item), CopyRole.PRIMARY)]
    for region in list_of(props.get("regions")):
        if not isinstance(region, dict):
            footprint.append(Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note=f"unreadable region entry {region!r}"))
            continue
        name = region.get("name")
        name = name if isinstance(name, str) and name else UNKNOWN_LOCATION
        role = "primary region" if region.get("isPrimary") else "extended region (multi-region replication)"
        footprint.append(Copy(name, CopyRole.REPLICA, note=f"{role}, {region.get('provisioningState') or 'state ?'}"))
    kind = KINDS["managed-hsm"]
    return resource(arm, kind.service, kind.type, sub, item, footprint, _HSM_KEY)


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_key_vault(ctx: Context, item: Item) -> Resource:
    location, note = plan_location(item)
    footprint = vault_copies(location)
    if note is not None:
        footprint[0] = Copy(location, CopyRole.PRIMARY, note=note)
    kind = KINDS["key-vault"]
    return ctx.resource(
        item, Provider.AZURE, (kind.service, kind.type, "name"), footprint, _KEY, plan_tags(item, "tags")
    )


def _plan_managed_hsm(ctx: Context, item: Item) -> Resource:
    # azurerm has no argument for extended regions: a pool starts in one region; a later extension shows in a scan
    location, note = plan_location(item)
    footprint = [Copy(location, CopyRole.PRIMARY, note=note)]
    kind = KINDS["managed-hsm"]
    return ctx.resource(
        item, Provider.AZURE, (kind.service, kind.type, "name"), footprint, _HSM_KEY, plan_tags(item, "tags")
    )


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {
    "azurerm_key_vault": _plan_key_vault,
    "azurerm_key_vault_managed_hardware_security_module": _plan_managed_hsm,
}
